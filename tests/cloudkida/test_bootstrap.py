"""`manage.py bootstrap` and `manage.py seed_demo`: complete, and idempotent."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.selectors import user_list
from cloudkida import aws
from cloudkida.bootstrap import platform_resources
from cloudkida.dynamo import tables
from tenants.selectors import tenant_get_by_slug

pytestmark = pytest.mark.usefixtures("moto")


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bootstrap_creates_everything_then_changes_nothing(settings):
    first = _run("bootstrap")
    assert "created user pool" in first and "created bucket" in first and "created ses identity" in first
    second = _run("bootstrap")
    assert "created" not in second.replace("Nothing to do", "")
    assert "Nothing to do" in second

    dynamodb = aws.client("dynamodb")
    for spec in tables.platform_tables():
        description = dynamodb.describe_table(TableName=spec.name)["Table"]
        assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert {i["IndexName"] for i in description["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
        ttl = dynamodb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        backups = dynamodb.describe_continuous_backups(TableName=spec.name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    cognito = aws.client("cognito-idp")
    pools = {p["Name"]: p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]}
    assert set(pools) == {"cloudkida-test-pooled", "cloudkida-test-operations"}
    recorded = platform_resources()
    assert recorded["pooled_user_pool_id"] == pools["cloudkida-test-pooled"]
    assert recorded["operations_user_pool_id"] == pools["cloudkida-test-operations"]
    schema = cognito.describe_user_pool(UserPoolId=pools["cloudkida-test-pooled"])["UserPool"]["SchemaAttributes"]
    assert {"custom:tenantId", "custom:userRole"} <= {a["Name"] for a in schema}

    # The queues apps registered (webhook deliveries) with their dead-letter queues, and nothing else.
    queues = aws.client("sqs").list_queues(QueueNamePrefix="cloudkida-test").get("QueueUrls", [])
    assert sorted(url.rsplit("/", 1)[-1] for url in queues) == [
        "cloudkida-test-webhooks",
        "cloudkida-test-webhooks-dlq",
    ]
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=pools["cloudkida-test-operations"])
    assert mfa["MfaConfiguration"] == "ON"

    s3 = aws.client("s3")
    bucket = settings.CLOUDKIDA_ASSETS_BUCKET
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())

    sender_domain = settings.CLOUDKIDA_SENDER_EMAIL.rsplit("@", 1)[1]
    assert sender_domain in aws.client("ses").list_identities(IdentityType="Domain")["Identities"]


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings, tmp_path):
    settings.LOCAL_STATE_DIR = tmp_path
    _run("bootstrap")
    first = _run("seed_demo")
    assert "created tenant         acme" in first
    second = _run("seed_demo")
    assert "created" not in second
    acme = tenant_get_by_slug(slug="acme")
    assert acme.name == "Acme Corporation"
    default = tenant_get_by_slug(slug=settings.CLOUDKIDA_DEFAULT_TENANT)
    assert default.is_default and default.tenant_id != settings.CLOUDKIDA_DEFAULT_TENANT
    assert len(user_list(tenant_id=acme.tenant_id).items) == 2
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    credentials = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert get_user_model().objects.get(username="admin").check_password(credentials["password"])


def test_seed_demo_refuses_production(settings):
    from django.core.management.base import CommandError

    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError):
        _run("seed_demo")
