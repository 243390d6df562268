"""Automatic task checks ("Check my work"), run with boto3 against the learner's lab account.

A task's check is declarative — ``{"type": "assertion", "assertion": "s3_bucket", "params": {"versioning":
true}}`` — or names a registered function — ``{"type": "function", "function": "<name>", "params": {...}}``.
Each check gets clients for the lab account (its access role, read-only use) in the session's region and
returns ``(passed, message)``. Apps register more functions with ``register_function``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from cloudkida.errors import ValidationFailed


@dataclass(frozen=True)
class CheckContext:
    client: Callable  # client(service) -> a boto3 client in the lab account and region
    region: str


CheckFn = Callable[[CheckContext, dict], tuple[bool, str]]


def _prefixed(names: list[str], prefix: str) -> list[str]:
    return [n for n in names if n.startswith(prefix or "")]


def _s3_bucket(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    s3 = ctx.client("s3")
    names = _prefixed([b["Name"] for b in s3.list_buckets()["Buckets"]], params.get("name_prefix", ""))
    for name in names:
        if params.get("versioning") and s3.get_bucket_versioning(Bucket=name).get("Status") != "Enabled":
            continue
        if params.get("encrypted"):
            try:
                s3.get_bucket_encryption(Bucket=name)
            except ClientError:
                continue
        return True, f"Found bucket {name}."
    wanted = " with versioning enabled" if params.get("versioning") else ""
    return False, f"No S3 bucket{wanted} found yet."


def _dynamodb_table(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    tables = ctx.client("dynamodb").list_tables()["TableNames"]
    if params.get("name"):
        ok = params["name"] in tables
        return ok, f"Table {params['name']} {'exists' if ok else 'does not exist yet'}."
    found = _prefixed(tables, params.get("name_prefix", ""))
    return (True, f"Found table {found[0]}.") if found else (False, "No DynamoDB table found yet.")


def _sqs_queue(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    urls = ctx.client("sqs").list_queues(QueueNamePrefix=params.get("name_prefix", "")).get("QueueUrls", [])
    return (True, f"Found queue {urls[0].rsplit('/', 1)[-1]}.") if urls else (False, "No SQS queue found yet.")


def _sns_topic(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    topics = [t["TopicArn"].rsplit(":", 1)[-1] for t in ctx.client("sns").list_topics()["Topics"]]
    found = _prefixed(topics, params.get("name_prefix", ""))
    return (True, f"Found topic {found[0]}.") if found else (False, "No SNS topic found yet.")


def _iam_role(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    try:
        ctx.client("iam").get_role(RoleName=params["name"])
    except ClientError:
        return False, f"Role {params['name']} does not exist yet."
    return True, f"Role {params['name']} exists."


def _lambda_function(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    functions = ctx.client("lambda").list_functions()["Functions"]
    for function in functions:
        if function["FunctionName"].startswith(params.get("name_prefix", "")) and (
            not params.get("runtime") or function.get("Runtime") == params["runtime"]
        ):
            return True, f"Found function {function['FunctionName']}."
    return False, "No matching Lambda function found yet."


# name -> (function, allowed params and their types, required params)
ASSERTIONS: dict[str, tuple[CheckFn, dict[str, type], set[str]]] = {
    "s3_bucket": (_s3_bucket, {"name_prefix": str, "versioning": bool, "encrypted": bool}, set()),
    "dynamodb_table": (_dynamodb_table, {"name": str, "name_prefix": str}, set()),
    "sqs_queue": (_sqs_queue, {"name_prefix": str}, set()),
    "sns_topic": (_sns_topic, {"name_prefix": str}, set()),
    "iam_role": (_iam_role, {"name": str}, {"name"}),
    "lambda_function": (_lambda_function, {"name_prefix": str, "runtime": str}, set()),
}
_functions: dict[str, CheckFn] = {}


def register_function(name: str, fn: CheckFn) -> None:
    """Make ``fn`` available to labs as ``{"type": "function", "function": name}``."""
    _functions[name] = fn


def _bucket_has_objects(ctx: CheckContext, params: dict) -> tuple[bool, str]:
    s3 = ctx.client("s3")
    want = int(params.get("at_least", 1))
    for bucket in s3.list_buckets()["Buckets"]:
        count = s3.list_objects_v2(Bucket=bucket["Name"], MaxKeys=want).get("KeyCount", 0)
        if count >= want:
            return True, f"Bucket {bucket['Name']} holds {count} object(s)."
    return False, f"No bucket holds {want} object(s) yet."


register_function("bucket_has_objects", _bucket_has_objects)


def validate(check: dict) -> dict:
    """The check, if it names a known assertion (with parameters of the right types) or function."""
    if not isinstance(check, dict) or check.get("type") not in {"assertion", "function"}:
        raise _invalid("A task's check needs type 'assertion' or 'function'.")
    params = check.get("params") or {}
    if not isinstance(params, dict):
        raise _invalid("A check's params must be an object.")
    if check["type"] == "function":
        if check.get("function") not in _functions:
            raise _invalid(f"Unknown check function {str(check.get('function'))[:64]!r}.", known=sorted(_functions))
        return {"type": "function", "function": check["function"], "params": params}
    name = check.get("assertion")
    if name not in ASSERTIONS:
        raise _invalid(f"Unknown assertion {str(name)[:64]!r}.", known=sorted(ASSERTIONS))
    _fn, allowed, required = ASSERTIONS[name]
    for key, value in params.items():
        if key not in allowed or not isinstance(value, allowed[key]):
            raise _invalid(f"Assertion {name} does not take {key!r} of that type.", allowed=sorted(allowed))
    missing = required - set(params)
    if missing:
        raise _invalid(f"Assertion {name} needs {', '.join(sorted(missing))}.")
    return {"type": "assertion", "assertion": name, "params": params}


def run(check: dict, ctx: CheckContext) -> tuple[bool, str]:
    fn = _functions[check["function"]] if check["type"] == "function" else ASSERTIONS[check["assertion"]][0]
    try:
        return fn(ctx, check.get("params") or {})
    except ClientError as error:
        return False, f"The check could not read your account: {error.response['Error'].get('Code', 'error')}."


def _invalid(message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_check", details=details)
