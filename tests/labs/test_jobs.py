"""The periodic jobs (commands and the Zappa schedule), the generated state machines, and cleanup coverage."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from cloudkida import aws, resources
from cloudkida.workflows.definitions import render_all
from labs import aws_accounts, cleanup, guardrails
from labs.domain import AccountState, EndReason
from labs.services import lab_session_end, lab_session_start, sessions
from labs.services import pool as pool_service
from labs.services.pool import account_get, shard_get
from tests.labs.conftest import global_lab, learner, offer, register

ROOT = Path(__file__).resolve().parents[2]


def test_every_labs_job_is_a_rule_of_the_committed_stack_and_none_is_a_zappa_event():
    names = sorted(s.name for s in resources.schedules() if s.command.startswith("labs.jobs."))
    assert names == sorted(
        [
            "labs_check_drift",
            "labs_check_spend",
            "labs_expire_sessions",
            "labs_replenish_pool",
            "labs_retry_cleanups",
            "labs_retry_grades",
        ]
    )
    config = json.loads((ROOT / "zappa_settings.json").read_text())
    for stage in config.values():
        assert not stage.get("events"), "jobs run from the stack's EventBridge rules, so never twice"
    for path in (ROOT / "deploy").glob("*.template.json"):
        rules = {
            json.loads(r["Properties"]["Targets"][0]["Input"])["command"]: r["Properties"]["ScheduleExpression"]
            for r in json.loads(path.read_text())["Resources"].values()
            if r["Type"] == "AWS::Events::Rule"
        }
        for schedule in resources.schedules():
            assert rules.get(schedule.command) == schedule.expression, (path.name, schedule.name)


@pytest.mark.usefixtures("pool")
def test_every_job_runs_as_a_management_command():
    for schedule in [s for s in resources.schedules() if s.command.startswith("labs.jobs.")]:
        out = io.StringIO()
        call_command(schedule.name, stdout=out)
        assert isinstance(json.loads(out.getvalue()), dict), schedule.name


@pytest.mark.usefixtures("moto")
def test_the_labs_state_machines_are_generated_from_the_step_lists_and_accepted():
    rendered = render_all()
    for workflow in (sessions.PROVISIONING, sessions.ENDING, pool_service.CLEANUP, pool_service.HOT_POOL):
        definition = json.loads(rendered[workflow.name])
        assert (ROOT / f"cloudkida/workflows/definitions/{workflow.name}.asl.json").read_text() == rendered[
            workflow.name
        ]
        assert definition["StartAt"] == workflow.steps[0].name
        tasks = [s.name for s in workflow.steps]
        assert all(name in definition["States"] for name in tasks)
        for step in workflow.steps:
            if step.ready is not None:  # long waits are Wait/poll loops, never a waiter in a Lambda
                assert definition["States"][f"{step.name}_wait"]["Type"] == "Wait"
                assert definition["States"][f"{step.name}_ready"]["Type"] == "Choice"
        text = rendered[workflow.name].replace(
            "${CloudKidaStepFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:ck"
        )
        aws.client("stepfunctions").create_state_machine(
            name=f"cloudkida-test-{workflow.name}", definition=text, roleArn="arn:aws:iam::123456789012:role/sfn"
        )
    stack = json.loads(rendered["lab-provisioning"])["States"]
    assert stack["stack_wait"]["Type"] == "Wait" and "stack_poll" in stack


def _populate(account: cleanup.Account, region: str) -> None:
    """One of most things the boto3 cleanup covers, as a learner (or a lab's stack) might leave them."""

    def c(name):
        return account.client(name, region)

    s3 = c("s3")
    s3.create_bucket(Bucket=f"left-{account.account_id}")
    s3.put_bucket_versioning(Bucket=f"left-{account.account_id}", VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        s3.put_object(Bucket=f"left-{account.account_id}", Key="k", Body=str(n).encode())
    c("dynamodb").create_table(
        TableName="left",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    ec2 = c("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    group = ec2.create_security_group(GroupName="left", Description="x", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet, SecurityGroupIds=[group]
    )
    ec2.create_key_pair(KeyName="left")
    c("sqs").create_queue(QueueName="left")
    c("sns").create_topic(Name="left")
    c("logs").create_log_group(logGroupName="left")
    c("ssm").put_parameter(Name="left", Value="x", Type="String")
    c("secretsmanager").create_secret(Name="left", SecretString="x")
    c("ecr").create_repository(repositoryName="left")
    key = c("kms").create_key()["KeyMetadata"]["KeyId"]
    c("kms").create_alias(AliasName="alias/left", TargetKeyId=key)
    c("events").put_rule(Name="left", ScheduleExpression="rate(1 hour)")
    iam = account.client("iam")
    iam.create_role(
        RoleName="left-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    iam.put_role_policy(
        RoleName="left-role",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    iam.create_user(UserName="left-user")
    iam.create_access_key(UserName="left-user")


@pytest.mark.usefixtures("pool")
def test_the_boto3_cleanup_empties_one_account_and_only_that_one():
    shard = shard_get("main")
    first, second = sorted(i["account_id"] for i in pool_service.repo.available_items("us-east-1"))[:2]
    accounts = [
        cleanup.Account(a, aws_accounts.member(shard, a, role=guardrails.CLEANUP_ROLE)) for a in (first, second)
    ]
    for account in accounts:
        _populate(account, "us-east-1")
    assert len(cleanup.leftovers(accounts[0], ["us-east-1"])[0]) >= 14
    deleted = cleanup.clean_pass(accounts[0], ["us-east-1"])
    assert {kind for kind, _ in deleted} >= {
        "s3",
        "dynamodb",
        "ec2-instance",
        "vpc",
        "sqs",
        "sns",
        "logs",
        "ssm",
        "secret",
        "ecr",
        "kms",
        "iam-role",
        "iam-user",
    }
    assert cleanup.clean_pass(accounts[0], ["us-east-1"]) == []  # the second pass finds nothing
    left, exceptions = cleanup.leftovers(accounts[0], ["us-east-1"])
    assert left == {} and any("pending deletion" in e for e in exceptions)
    roles = {r["RoleName"] for r in accounts[0].client("iam").list_roles()["Roles"]}
    assert {guardrails.ACCESS_ROLE, guardrails.CLEANUP_ROLE} <= roles
    assert len(cleanup.leftovers(accounts[1], ["us-east-1"])[0]) >= 14  # the other account is untouched


def test_the_aws_nuke_config_keeps_cloudkidas_roles_and_refuses_an_empty_blocklist():
    config = cleanup.aws_nuke_config("210987654321", ["us-east-1"], blocklist=["123456789012"])
    assert config["regions"] == ["global", "us-east-1"] and config["blocklist"] == ["123456789012"]
    assert config["accounts"] == {"210987654321": {"presets": ["cloudkida-keep"], "filters": {}}}
    keep = config["presets"]["cloudkida-keep"]["filters"]["IAMRole"]
    assert guardrails.CLEANUP_ROLE in keep and guardrails.ACCESS_ROLE in keep
    assert json.loads(json.dumps(config)) == config
    with pytest.raises(ValueError):
        cleanup.aws_nuke_config("210987654321", ["us-east-1"], blocklist=[])
    with pytest.raises(ValueError):
        cleanup.aws_nuke_config("210987654321", ["us-east-1"], blocklist=["210987654321"])


@pytest.mark.usefixtures("pool")
def test_the_aws_nuke_path_starts_codebuild_and_its_verification_catches_what_it_left(federation, monkeypatch):
    """Production's path against moto's CodeBuild (whose builds succeed and delete nothing): the builds are
    started with the account's config, and the verifying pass refuses to call the account clean."""
    monkeypatch.setattr(settings, "CLOUDKIDA_LAB_CLEANUP", "aws-nuke")
    aws.client("codebuild").create_project(
        name=settings.CLOUDKIDA_LAB_NUKE_PROJECT,
        source={"type": "S3", "location": "cloudkida-test-tenant-assets/nuke.zip", "buildspec": "version: 0.2"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws-nuke", "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole="arn:aws:iam::123456789012:role/cloudkida-nuke",
    )
    started = []

    def hook(client):
        if client.meta.service_model.service_name == "codebuild":
            client.meta.events.register(
                "before-parameter-build.codebuild.StartBuild", lambda params, **kw: started.append(params)
            )

    remove = aws.add_client_hook(hook)
    acme = register("acme")
    lee = learner(acme)
    lab = global_lab()
    offer(acme, lab, lee)
    session = lab_session_start(tenant_id=acme, user_id=lee, lab_id=lab.lab_id, actor="test")
    lab_session_end(tenant_id=acme, session_id=session.session_id, by=EndReason.LEARNER, actor="test")
    remove()
    env = [{e["name"]: e["value"] for e in p["environmentVariablesOverride"]} for p in started]
    assert [e["NUKE_VERIFY"] for e in env] == ["false", "true"]
    config = json.loads(env[0]["NUKE_CONFIG"])
    assert list(config["accounts"]) == [session.account_id] and "123456789012" in config["blocklist"]
    assert env[0]["NUKE_ROLE_ARN"].endswith(f"{session.account_id}:role/CloudKidaCleanup")
    account = account_get(session.account_id)
    assert account.state is AccountState.CLEANING and account.cleanup_failures == 1
    assert "Not empty after two passes" in account.last_cleanup_error and "iam.roles" in account.last_cleanup_error
