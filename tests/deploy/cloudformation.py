"""Deploy a generated template to moto's CloudFormation, and cover what moto's CloudFormation skips.

moto's ``create_stack`` reaches CREATE_COMPLETE while silently creating nothing for some resource types (and
crashes on a ``GetAtt`` of one). Those types are listed here; ``split`` takes them out, with every resource
that reads one of their attributes, and ``apply_skipped`` creates the Cognito, SES, usage-plan and CodeBuild ones
through their APIs *from the template's own properties*, so the template, not a copy of it, is what gets deployed.
CloudFront, ACM, the bucket policy and the records that point at CloudFront are checked by cfn-lint only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cloudkida import aws

MOTO_SKIPS = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::S3::BucketPolicy",
    "AWS::CertificateManager::Certificate",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::EmailIdentity",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::DomainName",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::CodeBuild::Project",
}
# Created here through the API from the template's properties; the rest of MOTO_SKIPS is lint-only.
APPLIED = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::EmailIdentity",
    "AWS::ApiGateway::UsagePlan",
    "AWS::CodeBuild::Project",
}


def _refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, GetAtt, ${X} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)}
                if isinstance(inner, list):
                    found |= _refs(inner[1])
            else:
                found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def split(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what moto's CloudFormation can deploy, the skipped resources and everything depending on them)."""
    resources = template["Resources"]
    skipped = {name for name, r in resources.items() if r["Type"] in MOTO_SKIPS}
    changed = True
    while changed:
        changed = False
        for name, resource in resources.items():
            if name not in skipped and _refs(resource.get("Properties", {})) & skipped:
                skipped.add(name)
                changed = True
    deployable = {**template, "Resources": {k: v for k, v in resources.items() if k not in skipped}}
    deployable["Outputs"] = {k: v for k, v in template.get("Outputs", {}).items() if not _refs(v["Value"]) & skipped}
    return deployable, {k: resources[k] for k in skipped}


class Resolver:
    """Just enough of CloudFormation's intrinsic functions for the resources ``apply_skipped`` creates."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], account: str, region: str):
        self.template = template
        self.parameters = {
            name: parameters.get(name, spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
        }
        self.pseudo = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
        self.physical: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return _NO_VALUE
                if arg in self.pseudo:
                    return self.pseudo[arg]
                if arg in self.parameters:
                    return self.parameters[arg]
                return self.physical[arg]
            if key == "Fn::GetAtt":
                return self.attributes[tuple(arg)]
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return self._sub(text, variables)
            if key == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if key == "Fn::And":
                return all(self.value(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not _NO_VALUE}

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if name in self.pseudo:
                return self.pseudo[name]
            if name in self.parameters:
                return self.parameters[name]
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.attributes[(logical, attribute)]
            return self.physical[name]

        return re.sub(r"\$\{([^}]+)\}", one, text)


_NO_VALUE = object()


def _stack_made(template: dict[str, Any], resolver: Resolver) -> None:
    """What the skipped resources refer to among what moto's stack did create: roles (Ref, Arn) and log
    groups (Ref), looked up by their names."""
    iam = aws.client("iam")
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            role = iam.get_role(RoleName=resolver.value(resource["Properties"]["RoleName"]))["Role"]
            resolver.physical[logical] = role["RoleName"]
            resolver.attributes[(logical, "Arn")] = role["Arn"]
        elif resource["Type"] == "AWS::Logs::LogGroup":
            resolver.physical[logical] = resolver.value(resource["Properties"]["LogGroupName"])


def apply_skipped(template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """Create the skipped Cognito, SES, usage-plan and CodeBuild resources through their APIs; returns
    logical → id."""
    cognito, ses, apigateway = aws.client("cognito-idp"), aws.client("ses"), aws.client("apigateway")
    _stack_made(template, resolver)
    order = ["AWS::SES::ConfigurationSet", "AWS::SES::EmailIdentity", "AWS::Cognito::UserPool"]
    order += ["AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolDomain", "AWS::ApiGateway::UsagePlan"]
    order += ["AWS::CodeBuild::Project"]
    for kind in order:
        for logical, resource in template["Resources"].items():
            if resource["Type"] != kind or ("Condition" in resource and not resolver.condition(resource["Condition"])):
                continue
            props = resolver.value(resource["Properties"])
            if kind == "AWS::SES::ConfigurationSet":
                ses.create_configuration_set(ConfigurationSet={"Name": props["Name"]})
                resolver.physical[logical] = props["Name"]
            elif kind == "AWS::SES::EmailIdentity":
                ses.verify_domain_identity(Domain=props["EmailIdentity"])
                resolver.physical[logical] = props["EmailIdentity"]
            elif kind == "AWS::Cognito::UserPool":
                request = {("PoolName" if k == "UserPoolName" else k): v for k, v in props.items()}
                mfa = request.pop("MfaConfiguration")
                totp = "SOFTWARE_TOKEN_MFA" in request.pop("EnabledMfas", [])
                pool = cognito.create_user_pool(**request)["UserPool"]
                if mfa != "OFF":
                    cognito.set_user_pool_mfa_config(
                        UserPoolId=pool["Id"], MfaConfiguration=mfa, SoftwareTokenMfaConfiguration={"Enabled": totp}
                    )
                resolver.physical[logical] = pool["Id"]
                resolver.attributes[(logical, "Arn")] = pool["Arn"]
            elif kind == "AWS::Cognito::UserPoolClient":
                client = cognito.create_user_pool_client(**props)["UserPoolClient"]
                resolver.physical[logical] = client["ClientId"]
            elif kind == "AWS::Cognito::UserPoolDomain":
                cognito.create_user_pool_domain(UserPoolId=props["UserPoolId"], Domain=props["Domain"])
                resolver.physical[logical] = props["Domain"]
            elif kind == "AWS::CodeBuild::Project":
                environment = props["Environment"]
                logs = props["LogsConfig"]["CloudWatchLogs"]
                aws.client("codebuild").create_project(
                    name=props["Name"],
                    description=props.get("Description", ""),
                    # moto (5.2) wants a location even for NO_SOURCE, which has none on AWS.
                    source={
                        "type": props["Source"]["Type"],
                        "buildspec": props["Source"]["BuildSpec"],
                        "location": "moto-needs-one",
                    },
                    artifacts={"type": props["Artifacts"]["Type"]},
                    environment={
                        "type": environment["Type"],
                        "image": environment["Image"],
                        "computeType": environment["ComputeType"],
                        "environmentVariables": [
                            {"name": v["Name"], "value": v["Value"], "type": v["Type"]}
                            for v in environment.get("EnvironmentVariables", [])
                        ],
                    },
                    serviceRole=props["ServiceRole"],
                    timeoutInMinutes=props["TimeoutInMinutes"],
                    queuedTimeoutInMinutes=props["QueuedTimeoutInMinutes"],
                    logsConfig={"cloudWatchLogs": {"status": logs["Status"], "groupName": logs["GroupName"]}},
                    tags=[{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])],
                )
                resolver.physical[logical] = props["Name"]
            else:
                plan = apigateway.create_usage_plan(
                    name=props["UsagePlanName"],
                    description=props.get("Description", ""),
                    throttle={
                        "rateLimit": props["Throttle"]["RateLimit"],
                        "burstLimit": props["Throttle"]["BurstLimit"],
                    },
                    quota={"limit": props["Quota"]["Limit"], "period": props["Quota"]["Period"]},
                    apiStages=[{"apiId": s["ApiId"], "stage": s["Stage"]} for s in props.get("ApiStages", [])],
                    tags={t["Key"]: t["Value"] for t in props.get("Tags", [])},
                )
                resolver.physical[logical] = plan["id"]
    return dict(resolver.physical)


def create_stack(name: str, template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """create_stack (or update_stack) in moto; returns the stack description. Fails unless it completed."""
    cfn = aws.client("cloudformation")
    kwargs = {
        "StackName": name,
        "TemplateBody": json.dumps(template),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
    }
    existing = [
        s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == name and "DELETE" not in s["StackStatus"]
    ]
    (cfn.update_stack if existing else cfn.create_stack)(**kwargs)
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}, stack
    return stack


def attach_usage_plans(template: dict[str, Any], resolver: Resolver) -> None:
    """The second pass's change to the skipped usage plans: their ApiStages, as CloudFormation would update them."""
    apigateway = aws.client("apigateway")
    existing = {p["name"]: p for p in apigateway.get_usage_plans()["items"]}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::ApiGateway::UsagePlan":
            continue
        props = resolver.value(resource["Properties"])
        plan = existing[props["UsagePlanName"]]
        have = {(s["apiId"], s["stage"]) for s in plan.get("apiStages", [])}
        for stage in props.get("ApiStages", []):
            if (stage["ApiId"], stage["Stage"]) not in have:
                apigateway.update_usage_plan(
                    usagePlanId=plan["id"],
                    patchOperations=[
                        {"op": "add", "path": "/apiStages", "value": f"{stage['ApiId']}:{stage['Stage']}"}
                    ],
                )


def executable_state_machines(region: str, account: str) -> list[str]:
    """moto's CloudFormation puts state machines in its plain Step Functions backend, which never executes;
    the executing one (``execute_state_machine``) is separate. Re-create each machine the stack made there,
    with the definition *as the stack resolved it* (the Lambda ARN substituted by Fn::Sub)."""
    from moto.stepfunctions.models import stepfunctions_backends  # lazy: test-only moto internals

    made = []
    for machine in stepfunctions_backends[account][region].state_machines:
        aws.client("stepfunctions").create_state_machine(
            name=machine.name, definition=machine.definition, roleArn=machine.roleArn
        )
        made.append(machine.name)
    return made
