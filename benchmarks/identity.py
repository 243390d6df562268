"""Cost of identity on the request path: JWKS fetches, DynamoDB requests, and time relative to no auth.

Goal: with warm caches an authenticated request fetches no JWKS and reads DynamoDB at most once for
the tenant, and costs at most 1.3 x the same view unauthenticated. Time is reported as that ratio, which
holds on a noisy machine far better than milliseconds do: the two cases are timed interleaved (one
unauthenticated request, then one with each credential, in the same loop), in ``ROUNDS`` rounds, and the
ratio of each round's total is reported as min / median / max — for an ID token, an access token and an
API key. Caches are kept warm for the whole run (their TTLs are far longer than it).
"""

from __future__ import annotations

import statistics
import time

from django.test.utils import override_settings
from moto import mock_aws
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from accounts.tokens import verify_token
from benchmarks.counting import count_requests
from billing import api_calls, selectors
from cloudkida import aws
from cloudkida.bootstrap import bootstrap
from cloudkida.identity.jwks import jwks_cache
from tenants import provisioning
from tenants.selectors import tenant_cache_clear, tenant_get_by_slug
from tenants.services import tenant_register

ROUNDS = 200
RATIO_ROUNDS = 7
GOAL = 1.3


def _tokens() -> dict[str, str]:
    tenant = tenant_get_by_slug(slug="bench")
    cognito = aws.client("cognito-idp")
    pool, client_id = tenant.identity["user_pool_id"], tenant.identity["client_id"]
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="admin@bench.example", Password="Bench-Pass-42", Permanent=True
    )
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@bench.example", "PASSWORD": "Bench-Pass-42"},
    )["AuthenticationResult"]
    return {"id_token": result["IdToken"], "access_token": result["AccessToken"]}


def _timed(fn, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - started) / rounds


def _interleaved(unauthenticated, authenticated: dict, rounds: int, per_round: int) -> dict:
    """min/median/max over ``rounds`` of (time with a credential / time without), each round alternating
    one request of each kind ``per_round`` times so that machine noise hits every kind alike."""
    ratios: dict[str, list[float]] = {name: [] for name in authenticated}
    clock = time.perf_counter
    for _ in range(per_round):  # one round unmeasured: the first requests of each kind warm up alike
        unauthenticated()
        for call in authenticated.values():
            call()
    for _ in range(rounds):
        spent = dict.fromkeys(authenticated, 0.0)
        bare = 0.0
        for _ in range(per_round):
            started = clock()
            unauthenticated()
            bare += clock() - started
            for name, call in authenticated.items():
                started = clock()
                call()
                spent[name] += clock() - started
        for name in authenticated:
            ratios[name].append(spent[name] / bare)
    return {
        name: {"min": round(min(r), 2), "median": round(statistics.median(r), 2), "max": round(max(r), 2)}
        for name, r in ratios.items()
    }


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
        tokens = _tokens()
        token = tokens["id_token"]
        tenant = tenant_get_by_slug(slug="bench")
        _, api_key = api_key_create(tenant_id=tenant.tenant_id, name="bench", scope="read", created_by="bench")
        verify_token(token)  # warm: JWKS, tenant and client caches
        fetches_before = jwks_cache.fetches
        with count_requests() as verify_counts:
            per_verify = _timed(lambda: verify_token(token), ROUNDS)
        client = APIClient(HTTP_HOST="api.localhost")
        authed = APIClient(HTTP_HOST="api.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
        by_access = APIClient(HTTP_HOST="api.localhost", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        by_key = APIClient(HTTP_HOST="api.localhost", HTTP_X_API_KEY=api_key)
        from accounts.throttling import buckets

        # Billing's API-call counting is on, as in production (counted in process, one write per 100 calls).
        with override_settings(
            CLOUDKIDA_TIER_LIMITS={"platinum": {"rate": 1e9, "burst": 10**9, "quota_per_day": 10**9}},
            CLOUDKIDA_BILLING_COUNT_API_CALLS=True,
        ):
            buckets.reset()
            api_calls.accumulator.reset()
            authed.get("/api/v1/me")
            with count_requests() as me_counts:
                me = authed.get("/api/v1/me")
            with count_requests() as users_counts:
                users = authed.get("/api/v1/users")
            assert me.status_code == 200 and users.status_code == 200
            for c in (client, authed, by_access, by_key):
                assert c.get("/api/v1/").status_code == 200
            ratios = _interleaved(
                lambda: client.get("/api/v1/"),
                {
                    "id_token": lambda: authed.get("/api/v1/"),
                    "access_token": lambda: by_access.get("/api/v1/"),
                    "api_key": lambda: by_key.get("/api/v1/"),
                },
                rounds=RATIO_ROUNDS,
                per_round=ROUNDS // RATIO_ROUNDS * 2,
            )
            api_calls.accumulator.flush()
            counted = selectors.usage_month(tenant_id=tenant.tenant_id).get("api_calls")
        fetches = jwks_cache.fetches - fetches_before
    result = {
        "verify_token_warm": {
            "jwks_fetches": fetches,
            "aws_requests": verify_counts.total,
            "microseconds": round(per_verify * 1e6, 1),
        },
        "GET /api/v1/me": {"dynamodb": me_counts.dynamodb, "aws_requests": me_counts.total, "jwks_fetches": 0},
        "GET /api/v1/users": {"dynamodb": users_counts.dynamodb, "aws_requests": users_counts.total},
        "auth_to_unauth_time_ratio": ratios["id_token"],
        "auth_to_unauth_time_ratio_by_credential": ratios,
        "goal_ratio": GOAL,
        "api_calls_counted_for_billing": counted,
    }
    fast = all(r["median"] <= GOAL for r in ratios.values())
    ok = fast and fetches == 0 and verify_counts.total == 0 and me_counts.dynamodb <= 1 and users_counts.dynamodb <= 2
    rows = [
        "Identity on the request path (warm caches; moto in-process)",
        f"verify a token:        {fetches} JWKS fetches, {verify_counts.total} AWS requests over {ROUNDS} "
        f"verifications ({result['verify_token_warm']['microseconds']} µs each)",
        f"GET /api/v1/me:        {me_counts.dynamodb} DynamoDB requests, {me_counts.total} AWS requests in all",
        f"GET /api/v1/users:     {users_counts.dynamodb} DynamoDB requests (the page of users itself)",
        "authenticated / unauthenticated time on GET /api/v1/ (interleaved; min / median / max of "
        f"{RATIO_ROUNDS} rounds; goal median <= {GOAL}x):",
        *(f"  {name:13s} {r['min']}x / {r['median']}x / {r['max']}x" for name, r in ratios.items()),
        f"API calls counted for billing (batched): {counted}",
    ]
    verdict = (
        "No JWKS fetch and no DynamoDB read for identity once caches are warm."
        + f" Authentication costs at most {max(r['median'] for r in ratios.values())}x the bare view."
        if ok
        else f"FAILED: identity costs requests on a warm path, or authentication costs more than {GOAL}x the bare view."
    )
    return {"name": "identity", "results": result, "ok": ok, "verdict": verdict, "table": "\n".join(rows)}
