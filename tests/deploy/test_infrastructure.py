"""The generated CloudFormation: committed and current, lint-clean, and deployed to moto, where the app runs.

The rehearsal follows docs/deploy.md on moto: the stack (first pass, before Zappa), `manage.py bootstrap`
(which must find every platform resource and create none of them), a sign-up run through the state machine
the stack created, then the second pass with the REST API ids, after which every tier's usage plan meters
the integrator stage, whose key source is the authorizer and whose methods require a key.
"""

from __future__ import annotations

import io
import json

import pytest
from cfnlint.api import ManualArgs, lint
from django.core.management import call_command
from moto import mock_aws
from rest_framework.test import APIClient

from cloudkida import aws, infrastructure, resources, workflows
from cloudkida.infrastructure import StackConfig, Stage
from tenants import provisioning
from tenants.domain import TenantStatus
from tenants.selectors import tenant_get, tenant_get_by_slug
from tests.deploy import cloudformation as cfn
from tests.fixtures_platform import REGISTRATION
from tests.step_functions import executing_state_machines, wait_for

ACCOUNT = "123456789012"


def test_committed_templates_match_the_code():
    out = io.StringIO()
    call_command("infrastructure", "--check", stdout=out)
    assert "up to date  deploy/cloudkida-prod.template.json" in out.getvalue()


@pytest.mark.parametrize("path", sorted(infrastructure.TEMPLATES_DIR.glob("*.template.json")), ids=lambda p: p.name)
def test_committed_templates_are_lint_clean(path):
    matches = lint(path.read_text(), config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_a_registered_queue_and_schedule_become_resources_with_their_wiring(settings):
    queue = resources.Queue("lab-events", "lab session events")
    schedule = resources.Schedule("reaper", "rate(15 minutes)", "labs.jobs.reap", "end expired lab sessions")
    resources.register_queue(queue)
    resources.register_schedule(schedule)
    try:
        res = infrastructure.template(_config(settings))["Resources"]
    finally:
        resources._queues.pop(queue.suffix)
        resources._schedules.pop(schedule.name)
    assert res["QueueLabEvents"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["QueueLabEventsDlq", "Arn"]
    }
    rule = res["ScheduleReaper"]
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    assert json.loads(rule["Properties"]["Targets"][0]["Input"]) == {"command": "labs.jobs.reap"}
    assert res["ScheduleReaperPermission"]["Properties"]["Principal"] == "events.amazonaws.com"


def _app_resources() -> dict:
    return {"AppTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "${AWS::StackName}-app"}}}


def _app_replacing_the_lambda_role() -> dict:
    return {"LambdaRole": {"Type": "AWS::SNS::Topic", "Properties": {}}}


def test_an_apps_template_resources_join_the_stack_but_never_replace_the_cores(settings):
    resources.register_template_resources(f"{__name__}._app_resources")
    try:
        res = infrastructure.template(_config(settings))["Resources"]
        resources.register_template_resources(f"{__name__}._app_replacing_the_lambda_role")
        with pytest.raises(ValueError, match="LambdaRole"):
            infrastructure.template(_config(settings))
    finally:
        resources._template_resources.difference_update(
            {f"{__name__}._app_resources", f"{__name__}._app_replacing_the_lambda_role"}
        )
    assert res["AppTopic"]["Properties"]["TopicName"] == {"Fn::Sub": "${AWS::StackName}-app"}
    assert res["LabNukeProject"]["Type"] == "AWS::CodeBuild::Project"  # labs' own, registered in its ready()


def test_the_lambda_role_can_never_drop_or_recreate_a_platform_table(settings):
    statements = infrastructure.template(_config(settings))["Resources"]["LambdaRole"]["Properties"]["Policies"][0]
    deny = next(s for s in statements["PolicyDocument"]["Statement"] if s["Effect"] == "Deny")
    assert {"dynamodb:DeleteTable", "dynamodb:CreateTable"} <= set(deny["Action"])


def _config(settings) -> StackConfig:
    """The stack for the test profile's names, with a portal stage and an integrator stage as in production."""
    return StackConfig(
        prefix=settings.CLOUDKIDA_RESOURCE_PREFIX,
        region=settings.AWS_REGION,
        environment={
            "CLOUDKIDA_BASE_DOMAIN": settings.CLOUDKIDA_BASE_DOMAIN,
            "CLOUDKIDA_SENDER_EMAIL": settings.CLOUDKIDA_SENDER_EMAIL,
            "CLOUDKIDA_ASSETS_BUCKET": settings.CLOUDKIDA_ASSETS_BUCKET,
            "CLOUDKIDA_ASSETS_DOMAIN": f"assets.{settings.CLOUDKIDA_BASE_DOMAIN}",
        },
        stages=(
            Stage("test", f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-steps", integrator=False),
            Stage("test-api", f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-api", integrator=True),
        ),
    )


@pytest.fixture
def empty_account(settings, lambda_handler):
    """moto in-process with nothing in it (the stack makes everything), state machines executing for real."""
    settings.AWS_ENDPOINT_URL = None
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    with mock_aws(), executing_state_machines(lambda_handler):
        aws.reset()
        provisioning.cache_clear()
        yield
    provisioning.cache_clear()
    aws.reset()


def _zappa_rest_api(name: str, stage: str, *, key_required: bool) -> str:
    """What `zappa deploy` makes: a REST API with ANY on / and on /{proxy+}, deployed to the stage (methods
    require a key where the stage sets ``api_key_required``)."""
    apigateway = aws.client("apigateway")
    api_id = apigateway.create_rest_api(name=name)["id"]
    root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
    proxy = apigateway.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations"
    for resource in (root, proxy):
        apigateway.put_method(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="ANY",
            authorizationType="NONE",
            apiKeyRequired=key_required,
        )
        apigateway.put_integration(
            restApiId=api_id,
            resourceId=resource,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=uri,
        )
    apigateway.create_deployment(restApiId=api_id, stageName=stage)
    return api_id


@pytest.mark.django_db
def test_the_stack_deploys_to_moto_and_the_app_runs_on_what_it_created(empty_account, settings, no_backoff):
    config = _config(settings)
    template = infrastructure.template(config)
    deployable, skipped = cfn.split(template)
    assert {r["Type"] for r in skipped.values()} <= cfn.MOTO_SKIPS | {"AWS::Route53::RecordSet"}
    zone = aws.client("route53").create_hosted_zone(Name=settings.CLOUDKIDA_BASE_DOMAIN, CallerReference="rehearsal")
    parameters = {"HostedZoneId": zone["HostedZone"]["Id"].rsplit("/", 1)[-1]}

    # 1. First pass, before Zappa: tables, bucket, roles, state machine, log groups (moto's part) ...
    stack = cfn.create_stack(config.prefix, deployable, parameters)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ControlTable"] == f"{config.prefix}-control"
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=outputs["TenantDataTable"])["TimeToLiveDescription"]
    role = aws.client("iam").get_role(RoleName=f"{config.prefix}-tenant-data")["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
    assert trust["Principal"]["AWS"] == outputs["LambdaRoleArn"]
    every_workflow = sorted(workflows.state_machine_name(name) for name in workflows.all_registered())
    assert sorted(cfn.executable_state_machines(settings.AWS_REGION, ACCOUNT)) == every_workflow
    assert f"{config.prefix}-onboarding" in every_workflow
    # ... and what moto's CloudFormation skips, from the template's own properties.
    resolver = cfn.Resolver(template, parameters, ACCOUNT, settings.AWS_REGION)
    cfn.apply_skipped(template, resolver)
    operations_pool = resolver.physical["OperationsUserPool"]
    mfa = aws.client("cognito-idp").get_user_pool_mfa_config(UserPoolId=operations_pool)
    assert mfa["MfaConfiguration"] == "ON" and mfa["SoftwareTokenMfaConfiguration"]["Enabled"]
    pooled = aws.client("cognito-idp").describe_user_pool(UserPoolId=resolver.physical["PooledUserPool"])["UserPool"]
    assert pooled["EmailConfiguration"]["EmailSendingAccount"] == "DEVELOPER"
    assert pooled["EmailConfiguration"]["SourceArn"].endswith(f":identity/{resources.sender_domain()}")
    # The aws-nuke project lab cleanup starts (settings.CLOUDKIDA_LAB_NUKE_PROJECT), on its own role.
    (nuke,) = aws.client("codebuild").batch_get_projects(names=[settings.CLOUDKIDA_LAB_NUKE_PROJECT])["projects"]
    nuke_role = aws.client("iam").get_role(RoleName=settings.CLOUDKIDA_LAB_NUKE_PROJECT)["Role"]
    assert nuke["serviceRole"] == nuke_role["Arn"] and nuke["source"]["type"] == "NO_SOURCE"
    assert nuke["logsConfig"]["cloudWatchLogs"]["groupName"] == f"/aws/codebuild/{settings.CLOUDKIDA_LAB_NUKE_PROJECT}"
    assert aws.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/codebuild/{nuke['name']}")["logGroups"]

    # 2. bootstrap finds every platform resource (creates none) and makes the shared default tenant.
    # moto's CloudFormation ignores TTL and PITR on a table; AWS applies them (and tables.table_ready
    # converges them wherever they are off), so turn them on as AWS would have.
    if ttl.get("TimeToLiveStatus") != "ENABLED":
        with aws.deploying():
            for spec in (infrastructure.tables.control_table(), infrastructure.tables.pooled_table()):
                infrastructure.tables.ensure_table_settings(spec)
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    created = [line.split() for line in out.getvalue().splitlines() if line.startswith("created")]
    # Data only: the platform record, the shared tenant and billing's seed prices; no AWS resource.
    assert [c[1:3] for c in created if c[1] != "price"] == [["platform", "record"], ["default", "tenant"]], (
        out.getvalue()
    )
    assert {c[2] for c in created if c[1] == "price"} >= {"basic", "standard", "premium", "platinum"}
    assert tenant_get_by_slug(slug=settings.CLOUDKIDA_DEFAULT_TENANT).status is TenantStatus.ACTIVE

    # 3. The smoke test: health, then a sign-up onboarded by the state machine the stack created.
    api = APIClient(REMOTE_ADDR="198.51.100.9")
    assert api.get("/healthz").json() == {"status": "ok", "checks": {"dynamodb": "ok"}}
    settings.CLOUDKIDA_WORKFLOW_RUNNER = "stepfunctions"
    settings.CLOUDKIDA_WORKFLOW_POLL_SECONDS = 0
    response = api.post("/api/v1/registrations", {**REGISTRATION, "tier": "platinum"}, format="json")
    assert response.status_code == 202, response.json()
    tenant_id = response.json()["tenant_id"]
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=outputs["StatemachineOnboarding"])
    assert wait_for(executions["executions"][0]["executionArn"])["status"] == "SUCCEEDED"
    tenant = tenant_get(tenant_id=tenant_id)
    assert tenant.status is TenantStatus.ACTIVE and tenant.data_table == f"{config.prefix}-tenant-{tenant_id}"

    # 4. Second pass, after `zappa deploy` of both stages: meter the integrator API, attach the plans.
    api_ids = {s.name: _zappa_rest_api(s.function_name, s.name, key_required=s.integrator) for s in config.stages}
    with pytest.raises(RuntimeError, match="apiKeyRequired"):
        infrastructure.meter_api(api_ids["test"], "test")  # a stage whose methods take no key is refused
    integrator = config.integrator_stage
    infrastructure.meter_api(api_ids[integrator.name], integrator.name)
    parameters.update({infrastructure._logical("ApiId", name): api_id for name, api_id in api_ids.items()})
    cfn.create_stack(config.prefix, cfn.split(template)[0], parameters)
    cfn.attach_usage_plans(template, cfn.Resolver(template, parameters, ACCOUNT, settings.AWS_REGION))

    apigateway = aws.client("apigateway")
    plans = {p["name"]: p for p in apigateway.get_usage_plans()["items"]}
    for plan in resources.usage_plans():
        assert plans[plan.name]["apiStages"] == [{"apiId": api_ids[integrator.name], "stage": integrator.name}]
        assert plans[plan.name]["throttle"] == {"rateLimit": plan.rate, "burstLimit": plan.burst}
    assert apigateway.get_rest_api(restApiId=api_ids[integrator.name])["apiKeySource"] == "AUTHORIZER"
    methods = [
        apigateway.get_method(restApiId=api_ids[integrator.name], resourceId=r["id"], httpMethod=m)
        for r in apigateway.get_resources(restApiId=api_ids[integrator.name])["items"]
        for m in r.get("resourceMethods", {})
    ]
    assert methods and all(m["apiKeyRequired"] for m in methods)
    assert apigateway.get_rest_api(restApiId=api_ids["test"])["apiKeySource"] == "HEADER"  # the portal is not metered
