"""Cost of identity on the request path: JWKS fetches, DynamoDB requests, and time relative to no auth.

Goal: with warm caches an authenticated request fetches no JWKS and reads DynamoDB at most once for
the tenant. Time is reported as a ratio (authenticated / unauthenticated on the same view), which holds
on a noisy machine far better than milliseconds do.
"""

from __future__ import annotations

import time

from django.test.utils import override_settings
from moto import mock_aws
from rest_framework.test import APIClient

from accounts.tokens import verify_token
from benchmarks.counting import count_requests
from cloudkida import aws
from cloudkida.bootstrap import bootstrap
from cloudkida.identity.jwks import jwks_cache
from tenants import provisioning
from tenants.selectors import tenant_cache_clear, tenant_get_by_slug
from tenants.services import tenant_register

ROUNDS = 200


def _token() -> str:
    tenant = tenant_get_by_slug(slug="bench")
    cognito = aws.client("cognito-idp")
    pool, client_id = tenant.identity["user_pool_id"], tenant.identity["client_id"]
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="admin@bench.example", Password="Bench-Pass-42", Permanent=True
    )
    return cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@bench.example", "PASSWORD": "Bench-Pass-42"},
    )["AuthenticationResult"]["IdToken"]


def _timed(fn, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - started) / rounds


def run() -> dict:
    with override_settings(EMAIL_BACKEND="django_ses.SESBackend", CLOUDKIDA_WORKFLOW_RUNNER="inline"), mock_aws():
        aws.reset()
        tenant_cache_clear()
        jwks_cache.clear()
        provisioning.cache_clear()
        bootstrap()
        tenant_register(
            name="Bench",
            slug="bench",
            admin_email="admin@bench.example",
            admin_name="B",
            tier="platinum",
            country="US",
            client_address="bench",
        )
        token = _token()
        verify_token(token)  # warm: JWKS, tenant and client caches
        fetches_before = jwks_cache.fetches
        with count_requests() as verify_counts:
            per_verify = _timed(lambda: verify_token(token), ROUNDS)
        client = APIClient(HTTP_HOST="api.localhost")
        authed = APIClient(HTTP_HOST="api.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
        from accounts.throttling import buckets

        with override_settings(
            CLOUDKIDA_TIER_LIMITS={"platinum": {"rate": 1e9, "burst": 10**9, "quota_per_day": 10**9}}
        ):
            buckets.reset()
            authed.get("/api/v1/me")
            with count_requests() as me_counts:
                me = authed.get("/api/v1/me")
            with count_requests() as users_counts:
                users = authed.get("/api/v1/users")
            assert me.status_code == 200 and users.status_code == 200
            unauth = _timed(lambda: client.get("/api/v1/"), ROUNDS)
            auth = _timed(lambda: authed.get("/api/v1/"), ROUNDS)
        fetches = jwks_cache.fetches - fetches_before
    result = {
        "verify_token_warm": {
            "jwks_fetches": fetches,
            "aws_requests": verify_counts.total,
            "microseconds": round(per_verify * 1e6, 1),
        },
        "GET /api/v1/me": {"dynamodb": me_counts.dynamodb, "aws_requests": me_counts.total, "jwks_fetches": 0},
        "GET /api/v1/users": {"dynamodb": users_counts.dynamodb, "aws_requests": users_counts.total},
        "auth_to_unauth_time_ratio": round(auth / unauth, 2),
    }
    ok = fetches == 0 and verify_counts.total == 0 and me_counts.dynamodb <= 1 and users_counts.dynamodb <= 2
    rows = [
        "Identity on the request path (warm caches; moto in-process)",
        f"verify a token:        {fetches} JWKS fetches, {verify_counts.total} AWS requests over {ROUNDS} "
        f"verifications ({result['verify_token_warm']['microseconds']} µs each)",
        f"GET /api/v1/me:        {me_counts.dynamodb} DynamoDB requests, {me_counts.total} AWS requests in all",
        f"GET /api/v1/users:     {users_counts.dynamodb} DynamoDB requests (the page of users itself)",
        f"authenticated / unauthenticated time on GET /api/v1/: {result['auth_to_unauth_time_ratio']}x",
    ]
    verdict = (
        "No JWKS fetch and no DynamoDB read for identity once caches are warm."
        if ok
        else "FAILED: identity costs requests on a warm path."
    )
    return {"name": "identity", "results": result, "ok": ok, "verdict": verdict, "table": "\n".join(rows)}
