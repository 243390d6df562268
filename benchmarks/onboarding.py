"""AWS requests per onboarding, by tier; and per-tenant cost at 100 vs 1,000 pooled tenants.

Every request any of our clients makes is counted (DynamoDB, Cognito, API Gateway, ...; SES goes
through django-ses's own client, so the welcome email is counted separately as one message). The
per-tenant count must not grow with the number of tenants already on the platform.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.test.utils import override_settings
from moto import mock_aws

from benchmarks.counting import count_requests
from cloudkida import aws
from cloudkida.bootstrap import bootstrap
from cloudkida.dynamo import tables
from tenants import provisioning
from tenants.selectors import tenant_cache_clear
from tenants.services import tenant_register

TIERS = ("basic", "standard", "premium", "platinum")
POPULATIONS = (100, 1_000)


def _register(slug: str, tier: str) -> Counter:
    with count_requests() as counts:
        tenant, _ = tenant_register(
            name=f"Org {slug}",
            slug=slug,
            admin_email=f"admin@{slug}.example",
            admin_name="Admin",
            tier=tier,
            country="US",
            client_address=slug,
        )
    assert tenant.status.value == "ACTIVE", (slug, tenant.failed_step, tenant.failure_reason)
    return counts.calls


def _seed_population(count: int) -> None:
    """``count`` pooled tenants already on the platform, written directly for speed: their records and
    name markers, Cognito groups and app clients in the pooled pool, API keys on their usage plans.
    (Onboarding each through the workflow takes about a second apiece in moto.)"""
    from cloudkida import clock
    from cloudkida.dynamo.store import serialize
    from cloudkida.ids import new_ulid
    from tenants.domain import Tenant, TenantStatus, Tier
    from tenants.repository import _to_item, name_unique, slug_unique

    dynamodb, cognito, apigateway = aws.client("dynamodb"), aws.client("cognito-idp"), aws.client("apigateway")
    control = tables.control_table().name
    pool = provisioning.platform()["pooled_user_pool_id"]
    plan = provisioning.usage_plan_id("basic")
    puts = []
    for n in range(count):
        slug = f"pop-{n:05d}"
        tenant = Tenant(
            tenant_id=new_ulid(),
            slug=slug,
            name=f"Population {n}",
            tier=Tier.BASIC,
            status=TenantStatus.ACTIVE,
            created_at=clock.now(),
            admin_email=f"admin@{slug}.example",
        )
        puts.append({"PutRequest": {"Item": serialize({**_to_item(tenant), "version": 1})}})
        owner = {"owner_pk": f"TENANT#{tenant.tenant_id}", "owner_sk": "META"}
        for marker in (name_unique(tenant.name).key(), slug_unique(slug).key()):
            puts.append({"PutRequest": {"Item": serialize({**marker, **owner})}})
        cognito.create_group(UserPoolId=pool, GroupName=tenant.tenant_id)
        cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"tenant-{tenant.tenant_id}")
        key = apigateway.create_api_key(
            name=f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-{tenant.tenant_id}", enabled=True
        )
        apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
    for start in range(0, len(puts), 25):
        dynamodb.batch_write_item(RequestItems={control: puts[start : start + 25]})


def _fresh_platform() -> None:
    aws.reset()
    tenant_cache_clear()
    provisioning.cache_clear()
    bootstrap()


def run() -> dict:
    results: dict = {"by_tier": {}, "by_population": {}}
    with override_settings(
        EMAIL_BACKEND="django_ses.SESBackend", CLOUDKIDA_SIGNUP_RATE_PER_HOUR=10_000, CLOUDKIDA_WORKFLOW_RUNNER="inline"
    ):
        with mock_aws():
            _fresh_platform()
            _register("warmup", "basic")  # warm the platform-record and tenant caches as a live process has
            for tier in TIERS:
                calls = _register(f"tier-{tier}", tier)
                results["by_tier"][tier] = {
                    "total": sum(calls.values()),
                    "by_service": dict(Counter(s for (s, _op) in calls.elements())),
                }
        for population in POPULATIONS:
            with mock_aws():
                _fresh_platform()
                _seed_population(population)
                _register("warmup", "basic")
                measured = [sum(_register(f"measured-{n}", "basic").values()) for n in range(3)]
            results["by_population"][str(population)] = {"requests_per_onboarding": measured}
    small = results["by_population"][str(POPULATIONS[0])]["requests_per_onboarding"]
    large = results["by_population"][str(POPULATIONS[1])]["requests_per_onboarding"]
    ok = max(large) <= max(small)
    rows = [
        "AWS requests per onboarding (moto in-process; plus one SES message each)",
        f"{'tier':<10} {'requests':>8}  by service",
    ]
    for tier, data in results["by_tier"].items():
        rows.append(f"{tier:<10} {data['total']:>8}  {data['by_service']}")
    rows.append("")
    rows.append(f"{'tenants already on the platform':<34} {'requests per new pooled tenant':>32}")
    for population in POPULATIONS:
        rows.append(f"{population:<34} {results['by_population'][str(population)]['requests_per_onboarding']!s:>32}")
    verdict = (
        f"Per-tenant onboarding cost is the same with {POPULATIONS[0]} and {POPULATIONS[1]} tenants."
        if ok
        else "FAILED: onboarding gets more expensive as tenants grow."
    )
    return {
        "name": "onboarding",
        "results": results,
        "ok": ok,
        "verdict": verdict,
        "table": "\n".join(rows),
        "settings": {"resource_prefix": settings.CLOUDKIDA_RESOURCE_PREFIX},
    }
