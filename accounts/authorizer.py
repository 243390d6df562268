"""API Gateway Lambda authorizer: the same identity core and route matrix as the DRF views.

For a TOKEN authorizer event (``Authorization: Bearer <Cognito token>`` or ``Authorization: ApiKey <key>``)
it returns:
- an IAM policy allowing exactly the routes the matrix grants the caller's role (or scope), and nothing else;
- ``usageIdentifierKey``: the tenant's own API Gateway key, so the tenant's usage plan meters and throttles it
  (the API's key source is AUTHORIZER);
- a context with tenant id, role, user, and short-lived credentials from STS AssumeRole whose session policy
  limits DynamoDB to the tenant's own partition key in the pooled table (``dynamodb:LeadingKeys``, exact), or
  to the tenant's own table for a silo tenant. Django reads this context instead of verifying again.
A caller that cannot be identified gets API Gateway's 401 (``Unauthorized``).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.conf import settings

from accounts.access import allowed_routes
from accounts.api_keys import api_key_authenticate
from accounts.tokens import verify_token
from cloudkida import aws
from cloudkida.dynamo import tables, tenant_pk
from cloudkida.errors import ApplicationError, NotAuthenticated
from tenants.domain import Isolation
from tenants.selectors import tenant_get_cached

logger = logging.getLogger(__name__)

DATA_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]


def _principal(authorization: str):
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return verify_token(credential.strip())
    if scheme.lower() == "apikey" and credential.strip():
        return api_key_authenticate(credential.strip())
    raise NotAuthenticated("Use 'Authorization: Bearer <token>' or 'Authorization: ApiKey <key>'.")


def _arn_base(method_arn: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api id>/<stage>`` from a method ARN."""
    parts = method_arn.split("/")
    return "/".join(parts[:2])


def route_resources(method_arn: str, routes: list[tuple[str, str]]) -> list[str]:
    """Method ARNs for (method, path) pairs; path parameters become ``*``."""
    base = _arn_base(method_arn)
    return sorted({f"{base}/{method}{re.sub(r'{[^}]+}', '*', path).rstrip('/') or '/'}" for method, path in routes})


def session_policy(tenant_id: str) -> dict[str, Any]:
    """What the tenant-scoped credentials may touch: the tenant's own keys or its own table."""
    tenant = tenant_get_cached(tenant_id=tenant_id)
    prefix = f"arn:aws:dynamodb:{settings.AWS_REGION}:{aws.account_id()}:table/"
    if tenant.isolation is Isolation.SILO and tenant.data_table:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OwnSiloTable",
                    "Effect": "Allow",
                    "Action": DATA_ACTIONS,
                    "Resource": [prefix + tenant.data_table, prefix + tenant.data_table + "/index/*"],
                }
            ],
        }
    table = tables.pooled_table().name
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnPartitionOnly",
                "Effect": "Allow",
                "Action": DATA_ACTIONS,
                "Resource": [prefix + table],
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [tenant_pk(tenant_id)]}},
            }
        ],
    }


def tenant_data_role_arn() -> str:
    """``<prefix>-tenant-data``, which the infrastructure stack creates; its own policy already limits a
    session to the tenant named in its ``tenant`` session tag."""
    return f"arn:aws:iam::{aws.account_id()}:role/{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-data"


def scoped_credentials(tenant_id: str) -> dict[str, str]:
    response = aws.client("sts").assume_role(
        RoleArn=tenant_data_role_arn(),
        RoleSessionName=f"tenant-{tenant_id}"[:64],
        Policy=json.dumps(session_policy(tenant_id)),
        DurationSeconds=settings.CLOUDKIDA_SCOPED_CREDENTIALS_SECONDS,
        Tags=[{"Key": "tenant", "Value": tenant_id}],
    )
    credentials = response["Credentials"]
    return {
        "accessKeyId": credentials["AccessKeyId"],
        "secretAccessKey": credentials["SecretAccessKey"],
        "sessionToken": credentials["SessionToken"],
        "expiration": credentials["Expiration"].isoformat(),
    }


def usage_key_value(tenant_id: str) -> str:
    """The value of the tenant's API Gateway key (what ``usageIdentifierKey`` must carry)."""
    key_id = tenant_get_cached(tenant_id=tenant_id).api_key_id
    if not key_id:
        return ""
    return aws.client("apigateway").get_api_key(apiKey=key_id, includeValue=True)["value"]


def _deny(method_arn: str, principal_id: str, reason: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": f"{_arn_base(method_arn)}/*"}],
        },
        "context": {"reason": reason},
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    method_arn = event.get("methodArn", "")
    authorization = event.get("authorizationToken") or (event.get("headers") or {}).get("Authorization", "")
    try:
        principal = _principal(authorization)
        if principal.tenant_id and not tenant_get_cached(tenant_id=principal.tenant_id).is_serving:
            return _deny(method_arn, principal.subject, "tenant_deactivated")
        routes = allowed_routes(principal)
    except ApplicationError as error:
        logger.info("authorizer refused", extra={"code": error.code})
        if error.status == 403:  # known caller, refused (a suspended tenant): API Gateway answers 403
            return _deny(method_arn, "refused", error.code)
        raise Exception("Unauthorized") from error
    statements = [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": route_resources(method_arn, routes)}]
    if not routes:
        statements = [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": f"{_arn_base(method_arn)}/*"}]
    result: dict[str, Any] = {
        "principalId": principal.subject,
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": {
            "tenantId": principal.tenant_id,
            "role": principal.role.value,
            "email": principal.email,
            "method": principal.method,
            "scope": principal.scope.value if principal.scope else "",
            "keyName": principal.key_name,
        },
    }
    if principal.tenant_id and routes:
        result["usageIdentifierKey"] = usage_key_value(principal.tenant_id)
        result["context"].update(scoped_credentials(principal.tenant_id))
    return result
