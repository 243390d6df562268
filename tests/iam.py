"""IAM for the tests: a recorder of every AWS call the code makes (as IAM actions and resources), and a small
policy evaluator for the actions, resources and condition keys CloudKida's policies use.

moto does not evaluate IAM (session policies never, conditions never, DynamoDB resources never), so the
suite checks the policies itself:
- ``Recorder`` wraps ``botocore.session.Session.create_client`` (every client, ours, django-ses's and
  django-storages' alike) and turns each call into (action, resource, context) as IAM would see it —
  TransactWriteItems into one action per item, API Gateway into ``apigateway:<HTTP verb>`` on the request
  path. Calls made by test code itself, by moto, inside ``cloudkida.aws.deploying()`` (what the stack's
  deployer does) or inside ``cloudkida.dynamo.maintenance()`` (operators' scans) are not the Lambda's and
  are left out.
- ``evaluate`` decides allow/deny for one request against identity policies (and a session policy): an
  explicit Deny wins; otherwise every policy given must allow it (role policy AND session policy).
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import threading
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.session

ROOT = Path(__file__).resolve().parents[1]
APP_PACKAGES = ("cloudkida", "tenants", "accounts", "labs", "billing")
# Calls that need no IAM permission (public Cognito APIs authorised by the user's own token; STS identity).
NO_IAM = {
    ("cognito-idp", "InitiateAuth"),
    ("cognito-idp", "RespondToAuthChallenge"),
    ("cognito-idp", "GetUser"),
    ("cognito-idp", "GlobalSignOut"),
    ("cognito-idp", "RevokeToken"),
    ("sts", "GetCallerIdentity"),
}
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListBuckets": "ListAllMyBuckets",
    "ListObjectVersions": "ListBucketVersions",
}
S3_BUCKET_LEVEL = {"ListBucket", "ListBucketVersions", "CreateBucket", "DeleteBucket", "ListAllMyBuckets"}
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()  # condition keys and their values

    def values(self, key: str) -> tuple[str, ...] | None:
        return dict(self.context).get(key)


def _leading_keys(key: dict | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pk = (key or {}).get("PK", {}).get("S")
    return (("dynamodb:LeadingKeys", (pk,)),) if pk else ()


def requests_for(
    service: str, operation: str, params: dict[str, Any], region: str, account: str, url: str = ""
) -> list[Request]:
    """The IAM requests one API call makes (several for a transaction)."""
    prefix = {"stepfunctions": "states", "sesv2": "ses"}.get(service, service)
    if (service, operation) in NO_IAM:
        return []
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{account}:table/"
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                key = body.get("Key") or {"PK": body.get("Item", {}).get("PK")}
                found.append(Request(f"dynamodb:{TRANSACT[kind]}", table + body["TableName"], _leading_keys(key)))
            return found
        if operation == "TransactGetItems":
            return [Request("dynamodb:GetItem", table + e["Get"]["TableName"]) for e in params["TransactItems"]]
        if operation in {"BatchWriteItem", "BatchGetItem"}:
            return [Request(f"dynamodb:{operation}", table + name) for name in params["RequestItems"]]
        if "TableName" not in params:
            return [Request(f"dynamodb:{operation}", "*")]
        resource = table + params["TableName"] + (f"/index/{params['IndexName']}" if params.get("IndexName") else "")
        key = params.get("Key") or params.get("Item")
        if operation == "CreateTable" and params.get("Tags"):  # tags on creation need TagResource too
            return [Request("dynamodb:CreateTable", resource), Request("dynamodb:TagResource", resource)]
        if operation == "Query":
            pk = params.get("ExpressionAttributeValues", {}).get(":pk", {}).get("S")
            context = (("dynamodb:LeadingKeys", (pk,)),) if pk and not params.get("IndexName") else ()
            return [Request("dynamodb:Query", resource, context)]
        return [Request(f"dynamodb:{operation}", resource, _leading_keys(key))]
    if service == "cognito-idp":
        pool = params.get("UserPoolId")
        resource = f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool}" if pool else "*"
        return [Request(f"cognito-idp:{operation}", resource)]
    if service == "apigateway":
        method = params.get("_http_method", "GET")
        path = unquote(urlsplit(url).path) if url else "/"
        return [Request(f"apigateway:{method}", f"arn:aws:apigateway:{region}::{path}")]
    if service == "s3":
        action = S3_ACTIONS.get(operation, operation)
        bucket = params.get("Bucket", "")
        if action in S3_BUCKET_LEVEL or ("Key" not in params and operation != "DeleteObjects"):
            return [Request(f"s3:{action}", f"arn:aws:s3:::{bucket}" if bucket else "*")]
        if operation == "DeleteObjects":  # a version id makes it DeleteObjectVersion
            objects = params.get("Delete", {}).get("Objects", [])
            return [
                Request(
                    "s3:DeleteObjectVersion" if o.get("VersionId") else "s3:DeleteObject",
                    f"arn:aws:s3:::{bucket}/{o['Key']}",
                )
                for o in objects
            ]
        if operation == "DeleteObject" and params.get("VersionId"):
            return [Request("s3:DeleteObjectVersion", f"arn:aws:s3:::{bucket}/{params['Key']}")]
        return [Request(f"s3:{action}", f"arn:aws:s3:::{bucket}/{params['Key']}")]
    if service == "ses":
        if operation in {"SendRawEmail", "SendEmail"}:
            source = parseaddr(params.get("Source", ""))[1]
            identity = source.rsplit("@", 1)[-1] if source else "*"
            return [Request(f"ses:{operation}", f"arn:aws:ses:{region}:{account}:identity/{identity}")]
        return [Request(f"ses:{operation}", "*")]
    if service == "sts" and operation == "AssumeRole":
        found = [Request("sts:AssumeRole", params["RoleArn"])]
        if params.get("Tags"):
            found.append(Request("sts:TagSession", params["RoleArn"]))
        return found
    if service == "stepfunctions" and "stateMachineArn" in params:
        return [Request(f"states:{operation}", params["stateMachineArn"])]
    if service == "codebuild" and operation in {"StartBuild", "BatchGetBuilds"}:
        # Both act on the project: StartBuild names it, a build id is "<project>:<uuid>".
        projects = [params["projectName"]] if operation == "StartBuild" else [i.split(":")[0] for i in params["ids"]]
        arn = f"arn:aws:codebuild:{region}:{account}:project/"
        return [Request(f"codebuild:{operation}", arn + project) for project in projects]
    if service == "sqs":
        url_ = params.get("QueueUrl", "")
        name = url_.rsplit("/", 1)[-1] if url_ else params.get("QueueName", "*")
        return [Request(f"sqs:{operation}", f"arn:aws:sqs:{region}:{account}:{name}")]
    return [Request(f"{prefix}:{operation}", "*")]


# --- the evaluator -------------------------------------------------------------------------------------


def _listify(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _substitute(pattern: str, variables: dict[str, str]) -> str | None:
    """Policy variables (``${aws:PrincipalTag/tenant}``); None if one is unknown (the statement then fails)."""
    missing = False

    def one(match: re.Match) -> str:
        nonlocal missing
        if match.group(1) not in variables:
            missing = True
            return ""
        return variables[match.group(1)]

    result = re.sub(r"\$\{([^}]+)\}", one, pattern)
    return None if missing else result


def _matches(pattern: str, value: str, *, case: bool) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: dict[str, Any], request: Request, variables: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            wanted = [_substitute(str(e), variables) for e in _listify(expected)]
            if None in wanted:
                return False
            given = request.values(key)
            if operator == "ForAllValues:StringEquals":
                if given is None or not all(v in wanted for v in given):
                    return False
            elif operator in {"StringEquals", "StringLike"}:
                single = variables.get(key) if given is None else (given[0] if len(given) == 1 else None)
                like = operator == "StringLike"
                if single is None or not any(_matches(w, single, case=True) if like else w == single for w in wanted):
                    return False
            elif operator == "Bool":
                single = variables.get(key, "false")
                if single not in wanted:
                    return False
            else:
                raise ValueError(f"condition operator {operator} is not evaluated here")
    return True


def _statement_applies(statement: dict[str, Any], request: Request, variables: dict[str, str]) -> bool:
    actions = _listify(statement.get("Action", []))
    if not any(_matches(a, request.action, case=False) for a in actions):
        return False
    resources = [_substitute(r, variables) for r in _listify(statement.get("Resource", "*"))]
    if not any(r is not None and _matches(r, request.resource, case=True) for r in resources):
        return False
    return _condition_holds(statement.get("Condition", {}), request, variables)


def decision(policy: dict[str, Any], request: Request, variables: dict[str, str]) -> str:
    """ "deny" (explicit), "allow", or "implicit" (no statement matched) for one policy document."""
    verdict = "implicit"
    for statement in _listify(policy["Statement"]):
        if _statement_applies(statement, request, variables):
            if statement["Effect"] == "Deny":
                return "deny"
            verdict = "allow"
    return verdict


def evaluate(policies: list[dict[str, Any]], request: Request, variables: dict[str, str] | None = None) -> bool:
    """Allowed only if no policy denies it explicitly and every policy allows it (identity ∩ session)."""
    variables = variables or {}
    verdicts = [decision(p, request, variables) for p in policies]
    return "deny" not in verdicts and all(v == "allow" for v in verdicts)


def resolve_sub(node: Any, values: dict[str, str]) -> Any:
    """A template fragment with every Fn::Sub filled from ``values`` (pseudo parameters and logical ids)."""
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            text = node["Fn::Sub"]
            return re.sub(
                r"\$\{(!?)([^}]+)\}",
                lambda m: "${" + m.group(2) + "}" if m.group(1) else values[m.group(2)],
                text,
            )
        return {k: resolve_sub(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_sub(v, values) for v in node]
    return node


# --- the recorder --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    request: Request
    caller: str  # module:function of the first app frame
    stage: tuple[str, ...]  # the settings the call was made under: prefix, region, sender, assets bucket


TENANT_DATA_ROLE_SUFFIX = "-tenant-data"  # tenant-scoped sessions: the Lambda role's own data, narrowed


class Recorder:
    """Every AWS call app code makes in this process, as IAM requests (deduplicated)."""

    def __init__(self):
        self.observed: dict[Observed, str] = {}  # → the test that made it first
        self.assumed: dict[str, str] = {}  # access key id → the role it was issued for (sts:AssumeRole)
        self.current_test = ""
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        if self._installed:
            return
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session, *args, **kwargs):
            client = original(session, *args, **kwargs)
            client.meta.events.register("after-call.sts.AssumeRole", recorder._assumed, unique_id="iam-recorder-sts")
            role = recorder.assumed.get(kwargs.get("aws_access_key_id") or "", "")
            if role and not role.endswith(TENANT_DATA_ROLE_SUFFIX):
                # A client with another principal's credentials (a lab account's role, a pool shard's
                # management role): its calls are that role's to allow, not the Lambda role's.
                client.meta.events.register("provide-client-params", _stash_kwargs, unique_id="iam-recorder-kwargs")
                return client
            client.meta.events.register("provide-client-params", _stash_kwargs, unique_id="iam-recorder-kwargs")
            client.meta.events.register("before-call", recorder._before_call, unique_id="iam-recorder-call")
            client.meta.events.register("before-send", recorder._before_send, unique_id="iam-recorder-send")
            return client

        botocore.session.Session.create_client = create_client
        self._installed = True

    def _assumed(self, parsed, context, **kwargs) -> None:
        key = (parsed or {}).get("Credentials", {}).get("AccessKeyId")
        if key:
            with self._lock:
                self.assumed[key] = str(context.get("_kwargs", {}).get("RoleArn", ""))

    def _caller(self) -> str | None:
        """module:function of the innermost project frame, if it is app code (not a test, script or moto)."""
        frame = sys._getframe(2)
        while frame is not None:
            path = frame.f_code.co_filename
            if path.startswith(str(ROOT)) and "/.venv/" not in path and "/site-packages/" not in path:
                relative = Path(path).relative_to(ROOT)
                if relative.parts[0] in APP_PACKAGES:
                    return f"{'.'.join(relative.with_suffix('').parts)}:{frame.f_code.co_name}"
                return None  # tests, benchmarks, scripts: not the Lambda
            frame = frame.f_back
        return None

    def _before_call(self, model, context, **kwargs) -> None:
        from cloudkida import aws  # lazy: the recorder is installed before Django settings load
        from cloudkida.dynamo.store import in_maintenance  # lazy: as above

        # Not the Lambda's: the deployer's work, and maintenance() scans (operators' one-off jobs; no
        # request path or workflow scans, so the Lambda role grants no Scan).
        if aws.is_deploying() or in_maintenance():
            return
        caller = self._caller()
        if caller is None:
            return
        service = model.service_model.service_name
        context["_iam"] = (service, model.name, caller, model.http.get("method", "POST"))
        if service != "apigateway":
            self._record(service, model.name, context.get("_kwargs", {}), caller, "")

    def _before_send(self, request, **kwargs) -> None:
        stash = (request.context or {}).get("_iam")
        if stash and stash[0] == "apigateway":
            service, operation, caller, method = stash
            self._record(service, operation, {"_http_method": request.method or method}, caller, request.url)

    def _record(self, service: str, operation: str, params: dict, caller: str, url: str) -> None:
        from django.conf import settings  # lazy: see _before_call

        from cloudkida import aws  # lazy: see _before_call

        account = aws._accounts.get((settings.AWS_REGION, settings.AWS_ENDPOINT_URL), "123456789012")
        stage = (
            settings.CLOUDKIDA_RESOURCE_PREFIX,
            settings.AWS_REGION,
            settings.CLOUDKIDA_SENDER_EMAIL,
            settings.CLOUDKIDA_ASSETS_BUCKET,
        )
        for request in requests_for(service, operation, params, settings.AWS_REGION, account, url):
            key = Observed(request, caller, stage)
            with self._lock:
                self.observed.setdefault(key, self.current_test)

    def dump(self, path: Path) -> None:
        rows = [
            {
                "action": o.request.action,
                "resource": o.request.resource,
                "context": o.request.context,
                "caller": o.caller,
                "stage": o.stage,
                "test": t,
            }
            for o, t in self.observed.items()
        ]
        path.write_text(json.dumps(rows))

    @staticmethod
    def load(path: Path) -> dict[Observed, str]:
        found = {}
        for row in json.loads(path.read_text()):
            context = tuple((k, tuple(v)) for k, v in row["context"])
            request = Request(row["action"], row["resource"], context)
            found[Observed(request, row["caller"], tuple(row["stage"]))] = row["test"]
        return found


def _stash_kwargs(params, context, **kwargs) -> None:
    """provide-client-params: keep the caller's own arguments for before-call (which sees the wire form)."""
    context["_kwargs"] = dict(params)


recorder = Recorder()
