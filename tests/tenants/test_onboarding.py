"""Onboarding: every tier provisions its resources; each step fails cleanly and retries to ACTIVE."""

from __future__ import annotations

import pytest

from accounts.selectors import user_get_by_email, user_list
from cloudkida import aws
from cloudkida.dynamo import tables
from tenants import provisioning, repository
from tenants.domain import TenantStatus
from tenants.selectors import tenant_get
from tenants.services import tenant_register, tenant_retry
from tests.conftest import tid
from tests.fixtures_platform import REGISTRATION, sent_emails, temporary_password

pytestmark = pytest.mark.usefixtures("platform")


def _register(**overrides):
    return tenant_register(**{**REGISTRATION, **overrides}, client_address="198.51.100.1")[0]


def _groups(pool_id):
    return [g["GroupName"] for g in aws.client("cognito-idp").list_groups(UserPoolId=pool_id)["Groups"]]


def _clients(pool_id):
    return [
        c["ClientName"]
        for c in aws.client("cognito-idp").list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    ]


def _pools():
    return [p["Name"] for p in aws.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]]


def _keys(name):
    return [k for k in aws.client("apigateway").get_api_keys(includeValues=False)["items"] if k["name"] == name]


def _plan_key_ids(tier):
    plan_id = provisioning.usage_plan_id(tier)
    return {k["id"] for k in aws.client("apigateway").get_usage_plan_keys(usagePlanId=plan_id)["items"]}


@pytest.mark.parametrize("tier", ["basic", "standard", "premium"])
def test_pooled_tier_onboarding_creates_and_links_every_resource(tier):
    tenant = _register(tier=tier)
    assert tenant.status is TenantStatus.ACTIVE
    pooled_pool = provisioning.platform()["pooled_user_pool_id"]
    identity = tenant.identity
    assert identity["user_pool_id"] == pooled_pool and identity["pool_kind"] == "pooled"
    assert tenant.tenant_id in _groups(pooled_pool)
    assert _clients(pooled_pool) == [f"tenant-{tenant.tenant_id}"]
    client = aws.client("cognito-idp").describe_user_pool_client(UserPoolId=pooled_pool, ClientId=identity["client_id"])
    assert client["UserPoolClient"]["AllowedOAuthFlows"] == ["code"]
    assert client["UserPoolClient"]["CallbackURLs"] == ["http://globex.localhost:8000/oidc/callback/"]
    assert identity["issuer"].endswith(f"/{pooled_pool}")
    assert identity["authorization_endpoint"].endswith("/oauth2/authorize")

    admin = aws.client("cognito-idp").admin_get_user(UserPoolId=pooled_pool, Username="owner@globex.example")
    attributes = {a["Name"]: a["Value"] for a in admin["UserAttributes"]}
    assert attributes["custom:tenantId"] == tenant.tenant_id and attributes["custom:userRole"] == "TenantAdmin"
    members = aws.client("cognito-idp").list_users_in_group(UserPoolId=pooled_pool, GroupName=tenant.tenant_id)["Users"]
    assert [m["Username"] for m in members] == [admin["Username"]]
    record = user_get_by_email(tenant_id=tid("globex"), email="owner@globex.example")
    assert record.role.value == "TenantAdmin" and record.user_id == attributes["sub"]

    assert [k["id"] for k in _keys(f"cloudkida-test-tenant-{tenant.tenant_id}")] == [tenant.api_key_id]
    assert tenant.api_key_id in _plan_key_ids(tier)
    plan = aws.client("apigateway").get_usage_plan(usagePlanId=provisioning.usage_plan_id(tier))
    limits = {"basic": (50, 50, 1000), "standard": (75, 100, 3000), "premium": (100, 200, 5000)}[tier]
    assert (plan["throttle"]["rateLimit"], plan["throttle"]["burstLimit"], plan["quota"]["limit"]) == limits

    assert (
        tenant.data_table == ""
        and f"cloudkida-test-tenant-{tenant.tenant_id}" not in aws.client("dynamodb").list_tables()["TableNames"]
    )
    welcome = _emails("owner@globex.example", "Welcome to CloudKida")
    assert len(welcome) == 1 and "http://globex.localhost:8000/login/" in welcome[0].raw_data
    invitation = _emails("owner@globex.example", "invited")
    assert len(invitation) == 1 and "Temporary password:" in invitation[0].raw_data

    steps = {s.name: s.status for s in repository.steps(tid("globex"))}
    assert steps == {
        name: "SUCCEEDED" for name in ["record", "identity", "admin_user", "api_key", "welcome_email", "activate"]
    }
    assert [e.action for e in repository.events(tid("globex")).items] == ["tenant.activated", "tenant.registered"]


def test_platinum_onboarding_gets_its_own_pool_client_domain_and_table():
    tenant = _register(tier="platinum")
    assert tenant.status is TenantStatus.ACTIVE
    identity = tenant.identity
    assert identity["pool_kind"] == "silo"
    assert identity["user_pool_id"] != provisioning.platform()["pooled_user_pool_id"]
    assert f"cloudkida-test-tenant-{tenant.tenant_id}" in _pools()
    pool = aws.client("cognito-idp").describe_user_pool(UserPoolId=identity["user_pool_id"])["UserPool"]
    assert pool["Domain"] == provisioning.silo_domain(tenant.tenant_id) == identity["hosted_ui_domain"]
    assert _clients(identity["user_pool_id"]) == [f"tenant-{tenant.tenant_id}"]
    assert tenant.tenant_id not in _groups(provisioning.platform()["pooled_user_pool_id"])
    users = aws.client("cognito-idp").list_users(UserPoolId=identity["user_pool_id"])["Users"]
    assert len(users) == 1
    assert tenant.data_table == tables.silo_table(tenant.tenant_id).name
    described = aws.client("dynamodb").describe_table(TableName=tenant.data_table)["Table"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
    # The tenant's users live in its silo table, not the pooled one.
    assert len(user_list(tenant_id=tid("globex")).items) == 1
    assert tenant.api_key_id in _plan_key_ids("platinum")


STEP_FAILURES = [
    ("identity", "cognito-idp", "CreateGroup", "basic"),
    ("identity", "cognito-idp", "CreateUserPoolDomain", "platinum"),
    ("admin_user", "cognito-idp", "AdminCreateUser", "basic"),
    ("api_key", "apigateway", "CreateUsagePlanKey", "standard"),
    ("silo_table", "dynamodb", "CreateTable", "platinum"),
]


@pytest.mark.parametrize(("step", "service", "operation", "tier"), STEP_FAILURES)
def test_a_failing_aws_call_leaves_failed_with_the_step_and_retry_reaches_active(
    fail_aws, step, service, operation, tier
):
    fail_aws(service, operation, times=1)
    tenant = _register(tier=tier)
    assert tenant.status is TenantStatus.FAILED
    assert tenant.failed_step == step
    assert "InternalErrorException" in tenant.failure_reason
    assert {s.name: s.status for s in repository.steps(tid("globex"))}[step] == "FAILED"

    retried = tenant_retry(tenant_id=tid("globex"), actor="test")
    assert retried.status is TenantStatus.ACTIVE and retried.failed_step == ""
    _assert_exactly_one_of_everything(tier)


@pytest.mark.django_db
def test_a_refused_welcome_email_never_fails_onboarding_and_is_resent_from_the_outbox(settings):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from cloudkida.email import outbox_for, retry_outbox

    ses = aws.client("ses")
    domain = settings.CLOUDKIDA_SENDER_EMAIL.rsplit("@", 1)[1]
    ses.delete_identity(Identity=domain)  # SES now refuses the sender, as in the sandbox
    tenant = _register()
    assert tenant.status is TenantStatus.ACTIVE  # its admin exists: the email must not stop it
    queued = outbox_for(tenant_id=tenant.tenant_id)
    # The welcome email and the admin's invitation (its temporary password is not stored, only its kind).
    assert sorted(q.kind for q in queued) == ["invitation", "welcome"]
    assert {q.to for q in queued} == {"owner@globex.example"}
    assert all("MessageRejected" in q.last_error for q in queued)
    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root", "root@cloudkida.example", "pw"))
    page = staff.get(f"/admin/tenants/tenant/{tenant.tenant_id}/").content.decode()
    assert "Emails SES has not taken yet" in page and "MessageRejected" in page
    assert retry_outbox() == {"sent": 0, "failed": 2}
    assert {q.attempts for q in outbox_for(tenant_id=tenant.tenant_id)} == {2}

    ses.verify_domain_identity(Domain=domain)
    assert retry_outbox() == {"sent": 2, "failed": 0}
    assert outbox_for(tenant_id=tenant.tenant_id) == []
    assert len([m for m in sent_emails() if "owner@globex.example" in str(m.destinations)]) == 2
    assert temporary_password("owner@globex.example")  # composed again at the retry: a password to sign in with
    _assert_exactly_one_of_everything("basic")


@pytest.mark.parametrize("step", ["record", "activate"])
def test_a_failure_in_a_dynamodb_only_step_is_retried_to_active(monkeypatch, step):
    from cloudkida.workflows.runner import Step
    from tenants.services.onboarding import ONBOARDING

    original = ONBOARDING.step(step)
    calls = {"n": 0}

    def flaky(tenant_id):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("lost the connection half-way")
        return original.run(tenant_id)

    steps = [Step(s.name, flaky, s.description, s.applies) if s.name == step else s for s in ONBOARDING.steps]
    monkeypatch.setattr(ONBOARDING, "steps", steps)
    tenant = _register()
    assert tenant.status is TenantStatus.FAILED and tenant.failed_step == step
    assert "lost the connection" in tenant.failure_reason
    assert tenant_retry(tenant_id=tid("globex"), actor="test").status is TenantStatus.ACTIVE
    _assert_exactly_one_of_everything("basic")


def test_a_crash_after_creating_the_api_key_does_not_create_a_second_key(fail_aws):
    # The key is created, then binding it to the plan fails; the retry must find and reuse that key.
    fail_aws("apigateway", "CreateUsagePlanKey", times=1)
    _register()
    key_name = f"cloudkida-test-tenant-{tid('globex')}"
    assert len(_keys(key_name)) == 1
    tenant_retry(tenant_id=tid("globex"), actor="test")
    assert len(_keys(key_name)) == 1


def test_aws_throttling_is_retried_with_backoff_inside_the_step(fail_aws, no_backoff):
    fail_aws("cognito-idp", "CreateGroup", times=2, code="TooManyRequestsException")
    tenant = _register()
    assert tenant.status is TenantStatus.ACTIVE
    assert no_backoff == [0, 1]
    assert {s.name: s.attempts for s in repository.steps(tid("globex"))}["identity"] == 1


def test_throttling_that_never_ends_fails_the_step(fail_aws, no_backoff):
    fail_aws("cognito-idp", "CreateGroup", times=99, code="TooManyRequestsException")
    tenant = _register()
    assert tenant.status is TenantStatus.FAILED and tenant.failed_step == "identity"
    assert len(no_backoff) == 5


def test_retry_is_refused_unless_the_onboarding_failed():
    from cloudkida.errors import Conflict

    _register()
    with pytest.raises(Conflict) as raised:
        tenant_retry(tenant_id=tid("globex"), actor="test")
    assert raised.value.code == "invalid_state"


def _assert_exactly_one_of_everything(tier: str) -> None:
    tenant = tenant_get(tenant_id=tid("globex"))
    globex = tenant.tenant_id
    assert tenant.status is TenantStatus.ACTIVE
    cognito = aws.client("cognito-idp")
    pooled = provisioning.platform()["pooled_user_pool_id"]
    if tier == "platinum":
        assert _pools().count(f"cloudkida-test-tenant-{globex}") == 1
        pool_id = tenant.identity["user_pool_id"]
        assert len(cognito.list_users(UserPoolId=pool_id)["Users"]) == 1
        assert aws.client("dynamodb").list_tables()["TableNames"].count(tables.silo_table(globex).name) == 1
    else:
        pool_id = pooled
        assert _groups(pooled).count(globex) == 1
        assert len(cognito.list_users_in_group(UserPoolId=pooled, GroupName=globex)["Users"]) == 1
    assert _clients(pool_id).count(f"tenant-{globex}") == 1
    assert len(_keys(f"cloudkida-test-tenant-{globex}")) == 1
    assert tenant.api_key_id in _plan_key_ids(tier)
    assert len(user_list(tenant_id=tid("globex")).items) == 1
    assert len(_emails("owner@globex.example", "Welcome to CloudKida")) == 1


def _emails(address: str, subject: str) -> list:
    return [m for m in sent_emails() if address in str(m.destinations) and subject in m.raw_data]


def test_retry_marks_the_tenant_provisioning_while_it_runs(fail_aws, settings):
    fail_aws("cognito-idp", "CreateGroup")
    _register()
    settings.CLOUDKIDA_WORKFLOW_RUNNER = "stepfunctions"  # nothing runs here; only the state change shows
    machine = _state_machine()
    tenant = tenant_retry(tenant_id=tid("globex"), actor="test")
    assert tenant.status is TenantStatus.PROVISIONING and tenant.failed_step == ""
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert [e["name"] for e in executions["executions"]] == [f"onboard-{tid('globex')}-2"]


def _state_machine() -> str:
    from cloudkida.workflows import state_machine_name
    from cloudkida.workflows.definitions import render_all

    return aws.client("stepfunctions").create_state_machine(
        name=state_machine_name("onboarding"),
        roleArn="arn:aws:iam::123456789012:role/sfn",
        definition=render_all()["onboarding"].replace(
            "${CloudKidaStepFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:ck"
        ),
    )["stateMachineArn"]
