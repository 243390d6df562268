"""The aws-nuke CodeBuild project labs adds to the stack: its buildspec (the pinned release, its checksum, the
deleting and the verifying pass, run in bash against a stand-in for the aws-nuke binary) and its role."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from cloudkida import infrastructure
from labs import guardrails
from labs import infrastructure as labs_infrastructure
from tests.iam import Request, evaluate, resolve_sub

ACCOUNT, LAB = "123456789012", "210987654321"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT}
PROJECT = "cloudkida-prod-aws-nuke"  # the production stages' prefix, as cleanup derives it


@pytest.fixture(scope="module")
def stack() -> dict:
    """The production stack, rendered with the production stages' settings."""
    config = next(c for c in infrastructure.stack_configs() if c.prefix == "cloudkida-prod")
    return infrastructure.template(config)["Resources"]


def test_the_project_is_the_one_cleanup_starts_and_runs_on_its_own_role(stack):
    project = stack["LabNukeProject"]["Properties"]
    assert project["Name"] == PROJECT
    assert project["ServiceRole"] == {"Fn::GetAtt": ["LabNukeRole", "Arn"]}
    assert project["Source"]["Type"] == "NO_SOURCE"
    assert project["LogsConfig"]["CloudWatchLogs"]["GroupName"] == {"Ref": "LabNukeLogs"}
    assert stack["LabNukeLogs"]["Properties"]["LogGroupName"] == f"/aws/codebuild/{project['Name']}"
    # A build started without overrides (by hand, say) only verifies: it never deletes.
    default = project["Environment"]["EnvironmentVariables"]
    assert default == [{"Name": "NUKE_VERIFY", "Type": "PLAINTEXT", "Value": "true"}]
    # The Lambda may start and read builds of exactly this project.
    lambda_policy = stack["LambdaRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    build = next(s for s in lambda_policy["Statement"] if s.get("Sid") == "LabCleanupBuilds")
    assert build["Resource"]["Fn::Sub"].endswith(f":project/{project['Name']}")


def test_the_buildspec_installs_the_pinned_release_only_if_its_checksum_matches(stack):
    spec = yaml.safe_load(stack["LabNukeProject"]["Properties"]["Source"]["BuildSpec"])
    assert spec["version"] == 0.2 and spec["env"]["shell"] == "bash"
    install = spec["phases"]["install"]["commands"]
    version = labs_infrastructure.AWS_NUKE_VERSION
    assert version.startswith("v3.")
    assert (
        f"https://github.com/ekristen/aws-nuke/releases/download/{version}/aws-nuke-{version}-linux-amd64.tar.gz"
        in install[0]
    )
    assert install[1] == (
        f'echo "{labs_infrastructure.AWS_NUKE_SHA256}  aws-nuke.tar.gz" | sha256sum --check --strict -'
    )
    assert len(labs_infrastructure.AWS_NUKE_SHA256) == 64
    assert install.index(install[1]) < next(i for i, c in enumerate(install) if c.startswith("tar "))


def _run_build(
    tmp_path: Path, stack: dict, *, verify: str, nukeable: int, account: str = LAB, exit_code: int = 0
) -> tuple[int, str]:
    """The build phase's commands as CodeBuild runs them (one bash, stop at the first failing command), with
    a stand-in ``./aws-nuke`` that records its arguments and prints libnuke's scan summary."""
    spec = yaml.safe_load(stack["LabNukeProject"]["Properties"]["Source"]["BuildSpec"])
    (tmp_path / "aws-nuke").write_text(
        "#!/bin/bash\n"
        'echo "$@" > args.txt\n'
        "cp nuke-config.yaml seen-config.yaml\n"
        'echo "us-east-1 - EC2Volume - vol-1 - would remove"\n'
        f'echo "Scan complete: {nukeable + 2} total, {nukeable} nukeable, 2 filtered."\n'
        f"exit {exit_code}\n"
    )
    (tmp_path / "aws-nuke").chmod(0o755)
    commands = spec["phases"]["build"]["commands"]
    script = "".join(f"{command}\nrc=$?; [ $rc -eq 0 ] || exit $rc\n" for command in commands)
    env = {
        "PATH": "/usr/bin:/bin",
        "NUKE_CONFIG": '{"accounts": {"210987654321": {}}}',
        "NUKE_ACCOUNT": account,
        "NUKE_ROLE_ARN": f"arn:aws:iam::{LAB}:role/{guardrails.CLEANUP_ROLE}",
        "NUKE_VERIFY": verify,
    }
    # The buildspec is our own generated text, run in a scratch directory.
    done = subprocess.run(  # noqa: S603
        ["/bin/bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    args = (tmp_path / "args.txt").read_text() if (tmp_path / "args.txt").exists() else ""
    return done.returncode, args


def test_the_first_pass_deletes_on_the_lab_accounts_cleanup_role(tmp_path, stack):
    rc, args = _run_build(tmp_path, stack, verify="false", nukeable=3)
    assert rc == 0
    assert "--no-dry-run" in args and "--no-prompt" in args and "--config nuke-config.yaml" in args
    assert f"--assume-role-arn arn:aws:iam::{LAB}:role/CloudKidaCleanup" in args
    assert (tmp_path / "seen-config.yaml").read_text() == '{"accounts": {"210987654321": {}}}'


@pytest.mark.parametrize(("nukeable", "rc"), [(0, 0), (1, 1)])
def test_the_verifying_pass_only_lists_and_fails_unless_nothing_is_left(tmp_path, stack, nukeable, rc):
    code, args = _run_build(tmp_path, stack, verify="true", nukeable=nukeable)
    assert "--no-dry-run" not in args and "--assume-role-arn" in args
    assert (code == 0) == (rc == 0)


@pytest.mark.parametrize("verify", ["true", "false"])
def test_a_pass_fails_when_aws_nuke_does(tmp_path, stack, verify):
    """aws-nuke exits non-zero on a role it cannot assume, a refused account or resources left failed."""
    code, _args = _run_build(tmp_path, stack, verify=verify, nukeable=0, exit_code=1)
    assert code != 0


def test_a_role_of_another_account_than_the_configs_is_refused_before_aws_nuke_runs(tmp_path, stack):
    code, args = _run_build(tmp_path, stack, verify="false", nukeable=0, account="333333333333")
    assert code != 0 and args == ""


def test_the_projects_role_may_assume_only_the_cleanup_role_and_write_only_its_logs(stack):
    role = resolve_sub(stack["LabNukeRole"]["Properties"], PSEUDO)
    policy = role["Policies"][0]["PolicyDocument"]
    group = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/codebuild/{PROJECT}"

    def allowed(action: str, resource: str) -> bool:
        return evaluate([policy], Request(action, resource))

    assert allowed("sts:AssumeRole", f"arn:aws:iam::{LAB}:role/{guardrails.CLEANUP_ROLE}")
    assert not allowed("sts:AssumeRole", f"arn:aws:iam::{LAB}:role/{guardrails.ACCESS_ROLE}")
    assert not allowed("sts:AssumeRole", f"arn:aws:iam::{LAB}:role/{guardrails.SHARD_ROLE}")
    assert not allowed("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/cloudkida-prod-lambda")
    assert allowed("logs:PutLogEvents", f"{group}:log-stream:build-1")
    assert not allowed("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:log-stream:y")
    assert not allowed("iam:PassRole", "*") and not allowed("codebuild:StartBuild", "*")
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
