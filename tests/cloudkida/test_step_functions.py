"""The generated state machines executed by moto's Step Functions interpreter, every Task served by Zappa's
real handler: success, a step waiting for AWS in a Wait/poll loop, throttling retried (inside a step and by
the state machine), and a failed step recorded as FAILED and retried from there."""

from __future__ import annotations

import json

import pytest

from cloudkida import aws
from cloudkida.dynamo import tables
from cloudkida.workflows.runner import STEP_COMMAND
from tenants.domain import TenantStatus
from tenants.selectors import tenant_get, tenant_steps
from tenants.services import tenant_register, tenant_retry
from tests.fixtures_platform import REGISTRATION
from tests.step_functions import (
    LambdaThrottled,
    create_state_machines,
    entered_states,
    executing_state_machines,
    history,
    task_payloads,
    wait_for,
)
from tests.tenants.test_onboarding import _assert_exactly_one_of_everything

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def machines(settings, lambda_handler):
    settings.CLOUDKIDA_WORKFLOW_RUNNER = "stepfunctions"
    settings.CLOUDKIDA_WORKFLOW_POLL_SECONDS = 0
    invocations: list = []
    with executing_state_machines(lambda_handler, before_invoke=lambda event: _before(invocations, event)):
        arns = create_state_machines()
        yield {"arns": arns, "hooks": invocations}


def _before(hooks: list, event: dict) -> None:
    for hook in list(hooks):
        hook(event)


def _sign_up(**overrides):
    tenant, _ = tenant_register(**{**REGISTRATION, **overrides}, client_address="198.51.100.2")
    return tenant.tenant_id


def _executions(machines) -> list[str]:
    listed = aws.client("stepfunctions").list_executions(stateMachineArn=machines["arns"]["onboarding"])
    return [e["executionArn"] for e in sorted(listed["executions"], key=lambda e: e["startDate"])]


def test_a_sign_up_is_onboarded_by_the_state_machine(machines):
    tenant_id = _sign_up(tier="premium")
    (execution,) = _executions(machines)
    assert wait_for(execution)["status"] == "SUCCEEDED"
    assert tenant_get(tenant_id=tenant_id).status is TenantStatus.ACTIVE
    payloads = task_payloads(execution)
    # The payloads Step Functions resolved from the definition: Zappa's command key and the subject's id.
    assert {p["command"] for p in payloads} == {STEP_COMMAND}
    assert {p["subject_id"] for p in payloads} == {tenant_id}
    assert [p["step"] for p in payloads] == [
        "record",
        "silo_table",
        "identity",
        "admin_user",
        "api_key",
        "welcome_email",
        "activate",
    ]
    assert "silo_table_wait" not in entered_states(execution)  # a pooled tenant has no table to wait for
    _assert_exactly_one_of_everything("premium")


def test_a_platinum_table_is_waited_for_in_a_wait_and_poll_loop_never_in_a_lambda(machines, settings):
    creating = {"left": 2}

    def still_creating(client):
        if client.meta.service_model.service_name != "dynamodb":
            return

        def after(parsed, **kwargs):
            table = parsed.get("Table", {})
            if (
                table.get("TableName", "").startswith(f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-0")
                and creating["left"]
            ):
                creating["left"] -= 1
                table["TableStatus"] = "CREATING"  # what DynamoDB answers for the first seconds

        client.meta.events.register("after-call.dynamodb.DescribeTable", after)

    remove = aws.add_client_hook(still_creating)
    try:
        tenant_id = _sign_up(tier="platinum")
        (execution,) = _executions(machines)
        assert wait_for(execution)["status"] == "SUCCEEDED"
    finally:
        remove()
    states = entered_states(execution)
    assert states.count("silo_table_wait") == 2 and states.count("silo_table_poll") == 2
    polls = [p for p in task_payloads(execution) if p.get("poll")]
    assert len(polls) == 2 and all(p["started_at"] for p in polls)
    tenant = tenant_get(tenant_id=tenant_id)
    assert tenant.status is TenantStatus.ACTIVE and tenant.data_table == tables.silo_table(tenant_id).name
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=tenant.data_table)["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=tenant.data_table)["ContinuousBackupsDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_throttling_is_retried_inside_the_step_and_by_the_state_machine(machines, fail_aws, no_backoff):
    fail_aws("cognito-idp", "CreateGroup", times=2, code="TooManyRequestsException")
    refused = {"left": 1}

    def lambda_throttles_once(event):
        if event.get("step") == "api_key" and refused["left"]:
            refused["left"] -= 1
            raise LambdaThrottled()

    machines["hooks"].append(lambda_throttles_once)
    tenant_id = _sign_up(tier="basic")
    (execution,) = _executions(machines)
    assert wait_for(execution)["status"] == "SUCCEEDED"
    assert no_backoff == [0, 1]  # the step backed off twice for Cognito, then went on
    failed = [e for e in history(execution) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["Lambda.TooManyRequestsException"]
    assert [p["step"] for p in task_payloads(execution)].count("api_key") == 2  # the Retry ran it again
    assert tenant_get(tenant_id=tenant_id).status is TenantStatus.ACTIVE


def test_a_failed_step_is_recorded_failed_and_a_retry_resumes_from_it(machines, fail_aws):
    fail_aws("apigateway", "CreateApiKey")
    tenant_id = _sign_up(tier="premium")
    (first,) = _executions(machines)
    described = wait_for(first)
    assert described["status"] == "FAILED"
    assert entered_states(first)[-2:] == ["record_failure", "Failed"]
    failure = next(p for p in task_payloads(first) if p["step"] == "record_failure")
    assert failure["error"]["Error"] == "StepFailed"  # $.error, as the Catch put it
    tenant = tenant_get(tenant_id=tenant_id)
    assert tenant.status is TenantStatus.FAILED and tenant.failed_step == "api_key"
    assert "InternalErrorException" in tenant.failure_reason

    tenant_retry(tenant_id=tenant_id, actor="test")
    second = _executions(machines)[-1]
    assert second != first and wait_for(second)["status"] == "SUCCEEDED"
    outputs = [
        json.loads(e["taskSucceededEventDetails"]["output"])["Payload"]
        for e in history(second)
        if e["type"] == "TaskSucceeded"
    ]
    assert [bool(o.get("skipped")) for o in outputs] == [True, True, True, True, False, False, False]
    assert {s.name: s.attempts for s in tenant_steps(tenant_id=tenant_id)}["api_key"] == 2
    _assert_exactly_one_of_everything("premium")
