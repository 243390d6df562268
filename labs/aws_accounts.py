"""AWS adapter for the pool's organizations and the lab accounts in them: the only labs module (with
``labs.cleanup`` and ``labs.spend``) that talks to AWS, always through ``cloudkida.aws``.

- Organizations calls run in a shard's management account: the platform's own credentials for the
  platform's organization, otherwise the shard's ``role_arn`` assumed (cached until shortly before expiry).
- A lab account is reached by assuming ``OrganizationAccountAccessRole`` (setup, stacks, learner role) or
  ``CloudKidaCleanup`` (cleanup, which every guardrail exempts) from the management account.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws, clock
from cloudkida.errors import ServiceUnavailable
from labs import guardrails
from labs.domain import Shard

_credentials: dict[tuple, dict] = {}
_lock = threading.Lock()
TAG = {"Key": "cloudkida:managed", "Value": "true"}


def _assume(role_arn: str, *, via: dict | None = None, external_id: str = "", session_name: str = "cloudkida") -> dict:
    """Temporary credentials for ``role_arn`` (cached per process until 5 minutes before they expire)."""
    key = (role_arn, (via or {}).get("AccessKeyId"), external_id, settings.AWS_ENDPOINT_URL)
    with _lock:
        cached = _credentials.get(key)
    if cached and cached["Expiration"] - timedelta(minutes=5) > clock.now():
        return cached
    kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name[:64]}
    if external_id:
        kwargs["ExternalId"] = external_id
    creds = aws.client("sts", credentials=via).assume_role(**kwargs)["Credentials"]
    with _lock:
        if len(_credentials) > 1000:
            _credentials.clear()
        _credentials[key] = creds
    return creds


def forget_credentials() -> None:
    with _lock:
        _credentials.clear()


def management(shard: Shard) -> dict | None:
    """Credentials for the shard's management account (None: the platform's own)."""
    return _assume(shard.role_arn) if shard.role_arn else None


def organizations(shard: Shard):
    return aws.client("organizations", credentials=management(shard))


def member(shard: Shard, account_id: str, *, role: str = guardrails.ACCESS_ROLE) -> dict:
    return _assume(f"arn:aws:iam::{account_id}:role/{role}", via=management(shard))


def member_client(
    shard: Shard, account_id: str, service: str, *, region: str | None = None, role: str = guardrails.ACCESS_ROLE
):
    return aws.client(service, credentials=member(shard, account_id, role=role), region=region)


# --- organization structure ----------------------------------------------------------------------------------
def ensure_organization(shard_role_arn: str) -> tuple[str, str]:
    """(management account id, root id) of the organization the credentials reach; created if missing
    (emulation: a real organization exists before it is registered as a shard)."""
    org = aws.client("organizations", credentials=_assume(shard_role_arn) if shard_role_arn else None)
    try:
        description = org.describe_organization()["Organization"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "AWSOrganizationsNotInUseException":
            raise
        description = org.create_organization(FeatureSet="ALL")["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    return description["MasterAccountId"], root


def ensure_ou(shard: Shard, parent_id: str, name: str) -> str:
    org = organizations(shard)
    for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent_id):
        for ou in page["OrganizationalUnits"]:
            if ou["Name"] == name:
                return ou["Id"]
    return org.create_organizational_unit(ParentId=parent_id, Name=name, Tags=[TAG])["OrganizationalUnit"]["Id"]


def ensure_policy(shard: Shard, name: str, document: dict, description: str) -> str:
    """The SCP called ``name`` (found, or created with ``document``); returns its id."""
    org = organizations(shard)
    for page in org.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY"):
        for policy in page["Policies"]:
            if policy["Name"] == name:
                return policy["Id"]
    return create_policy(shard, name, document, description)


def create_policy(shard: Shard, name: str, document: dict, description: str) -> str:
    created = organizations(shard).create_policy(
        Content=json.dumps(document, separators=(",", ":")),
        Description=description[:512],
        Name=name[:128],
        Type="SERVICE_CONTROL_POLICY",
        Tags=[TAG],
    )
    return created["Policy"]["PolicySummary"]["Id"]


def attach_policy(shard: Shard, policy_id: str, target_id: str) -> None:
    try:
        organizations(shard).attach_policy(PolicyId=policy_id, TargetId=target_id)
    except ClientError as error:
        if error.response["Error"]["Code"] != "DuplicatePolicyAttachmentException":
            raise


def detach_policy(shard: Shard, policy_id: str, target_id: str) -> None:
    try:
        organizations(shard).detach_policy(PolicyId=policy_id, TargetId=target_id)
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"PolicyNotAttachedException", "PolicyNotFoundException"}:
            raise


def policies_of(shard: Shard, target_id: str) -> list[str]:
    response = organizations(shard).list_policies_for_target(TargetId=target_id, Filter="SERVICE_CONTROL_POLICY")
    return [p["Id"] for p in response["Policies"]]


def parent_of(shard: Shard, account_id: str) -> str:
    return organizations(shard).list_parents(ChildId=account_id)["Parents"][0]["Id"]


def move(shard: Shard, account_id: str, destination: str) -> bool:
    """Move the account to ``destination`` (an OU or the root); False if it was already there."""
    source = parent_of(shard, account_id)
    if source == destination:
        return False
    organizations(shard).move_account(AccountId=account_id, SourceParentId=source, DestinationParentId=destination)
    return True


def move_known(shard: Shard, account_id: str, source: str, destination: str) -> None:
    """Move an account whose parent CloudKida recorded (one call; a wrong source is AWS's error)."""
    organizations(shard).move_account(AccountId=account_id, SourceParentId=source, DestinationParentId=destination)


def accounts_in(shard: Shard, parent_id: str) -> list[str]:
    org = organizations(shard)
    return [
        a["Id"]
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent_id)
        for a in page["Accounts"]
    ]


def create_account(shard: Shard, *, email: str, name: str) -> str:
    """Start CreateAccount; returns its request id (TooManyRequestsException propagates: back off)."""
    status = organizations(shard).create_account(Email=email, AccountName=name[:50], Tags=[TAG])
    return status["CreateAccountStatus"]["Id"]


def create_status(shard: Shard, request_id: str) -> tuple[str, str, str]:
    """(IN_PROGRESS | SUCCEEDED | FAILED, account id, failure reason) of a CreateAccount request."""
    status = organizations(shard).describe_create_account_status(CreateAccountRequestId=request_id)[
        "CreateAccountStatus"
    ]
    return status["State"], status.get("AccountId", ""), status.get("FailureReason", "")


# --- inside a lab account ------------------------------------------------------------------------------------
def _trust(principal_arn: str, external_id: str = "") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": principal_arn}}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def ensure_cleanup_role(shard: Shard, account_id: str) -> bool:
    """The cleanup role in a new account (trusted by the management account, administrator inside it)."""
    iam = member_client(shard, account_id, "iam")
    try:
        iam.create_role(
            RoleName=guardrails.CLEANUP_ROLE,
            AssumeRolePolicyDocument=_trust(f"arn:aws:iam::{shard.management_account_id}:root"),
            Description="CloudKida cleans this account with it; every guardrail exempts it.",
            Tags=[TAG],
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        return False
    iam.put_role_policy(
        RoleName=guardrails.CLEANUP_ROLE,
        PolicyName="clean-everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    return True


def learner_role_create(shard: Shard, account_id: str, *, session_id: str, policy: dict) -> str:
    """The learner's role for one session (trusts the access role with the session id as external id)."""
    iam = member_client(shard, account_id, "iam")
    trust = _trust(f"arn:aws:iam::{account_id}:role/{guardrails.ACCESS_ROLE}", external_id=session_id)
    try:
        arn = iam.create_role(
            RoleName=guardrails.LEARNER_ROLE,
            AssumeRolePolicyDocument=trust,
            MaxSessionDuration=3600,
            Tags=[TAG, {"Key": "cloudkida:session", "Value": session_id}],
        )["Role"]["Arn"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=guardrails.LEARNER_ROLE, PolicyDocument=trust)
        arn = iam.get_role(RoleName=guardrails.LEARNER_ROLE)["Role"]["Arn"]
    iam.put_role_policy(RoleName=guardrails.LEARNER_ROLE, PolicyName="lab", PolicyDocument=json.dumps(policy))
    return arn


def learner_revoke(shard: Shard, account_id: str) -> bool:
    """Deny every learner session issued until now (the role itself goes with the cleanup). False if the
    account never got a learner role."""
    iam = member_client(shard, account_id, "iam")
    document = guardrails.revoke_policy(clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        iam.put_role_policy(RoleName=guardrails.LEARNER_ROLE, PolicyName="revoked", PolicyDocument=json.dumps(document))
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return False
        raise
    return True


def learner_role_policies(shard: Shard, account_id: str) -> list[str] | None:
    iam = member_client(shard, account_id, "iam")
    try:
        return iam.list_role_policies(RoleName=guardrails.LEARNER_ROLE)["PolicyNames"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise


def learner_credentials(shard: Shard, account_id: str, *, session_id: str, user_id: str) -> dict:
    """Fresh STS credentials of the learner role (at most 1 hour: role chaining caps it)."""
    access = member(shard, account_id)
    return aws.client("sts", credentials=access).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{guardrails.LEARNER_ROLE}",
        RoleSessionName=f"learner-{user_id}"[:64],
        ExternalId=session_id,
    )["Credentials"]


def console_url(credentials: dict, *, region: str) -> str:
    """A console sign-in URL for temporary credentials (the sign-in federation endpoint, then login)."""
    endpoint = settings.CLOUDKIDA_LAB_FEDERATION_URL
    session = json.dumps(
        {
            "sessionId": credentials["AccessKeyId"],
            "sessionKey": credentials["SecretAccessKey"],
            "sessionToken": credentials["SessionToken"],
        }
    )
    try:
        response = requests.get(
            endpoint,
            params={"Action": "getSigninToken", "SessionDuration": "3600", "Session": session},
            timeout=settings.AWS_READ_TIMEOUT,
        )
        response.raise_for_status()
        token = response.json()["SigninToken"]
    except (requests.RequestException, ValueError, KeyError) as error:
        raise ServiceUnavailable(
            "The AWS console sign-in is unavailable; try again shortly.", code="console_unavailable"
        ) from error
    destination = f"https://{region}.console.aws.amazon.com/console/home?region={region}"
    return (
        endpoint
        + "?"
        + urlencode(
            {
                "Action": "login",
                "Issuer": settings.CLOUDKIDA_LAB_CONSOLE_ISSUER,
                "Destination": destination,
                "SigninToken": token,
            }
        )
    )


# --- CloudFormation ---------------------------------------------------------------------------------------------
def template_url(key: str) -> str:
    return f"https://{settings.CLOUDKIDA_ASSETS_BUCKET}.s3.amazonaws.com/{key}"


def upload_template(key: str, body: str) -> None:
    aws.client("s3").put_object(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key, Body=body.encode(), ServerSideEncryption="AES256"
    )


def read_template(key: str) -> str:
    return aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read().decode()


def validate_template(key: str) -> str:
    """CloudFormation's verdict on a template in the assets bucket: "" if valid, else its message."""
    try:
        aws.client("cloudformation").validate_template(TemplateURL=template_url(key))
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationError":
            return error.response["Error"]["Message"]
        raise
    return ""


def stack_create(shard: Shard, account_id: str, *, region: str, name: str, template_key: str, tags: dict) -> None:
    cfn = member_client(shard, account_id, "cloudformation", region=region)
    try:
        cfn.create_stack(
            StackName=name,
            TemplateBody=read_template(template_key),  # inline: a lab account cannot read our bucket
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            OnFailure="DELETE",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "AlreadyExistsException":
            raise


def stack_status(shard: Shard, account_id: str, *, region: str, name: str) -> str:
    """The stack's status, or "" if it does not exist."""
    cfn = member_client(shard, account_id, "cloudformation", region=region)
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response["Error"]["Message"]:
            return ""
        raise
    return stacks[0]["StackStatus"] if stacks else ""


def stacks_in(shard: Shard, account_id: str, *, region: str, role: str = guardrails.CLEANUP_ROLE) -> list[dict]:
    cfn = member_client(shard, account_id, "cloudformation", region=region, role=role)
    return [
        s
        for page in cfn.get_paginator("describe_stacks").paginate()
        for s in page["Stacks"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
