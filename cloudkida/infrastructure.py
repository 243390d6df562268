"""The CloudFormation template of a stage: everything Zappa does not create, generated from the specs the code
uses (table specs, user pool requests, usage plans per tier, registered workflows, queues and schedules), so
the stack and the code cannot drift. ``manage.py infrastructure`` writes ``deploy/<prefix>.template.json``
for each group of Zappa stages sharing a resource prefix (``--check`` fails on a stale one).

Deployed in two passes (docs/deploy.md): first with no API ids, before ``zappa deploy`` (which needs the
Lambda role); then with the ids of the REST APIs Zappa made, which attaches what needs them: the usage
plans to the integrator stage, the custom domains and DNS records, the scheduled events and their
permission to invoke the function. ``meter_api`` sets the integrator API's key source to AUTHORIZER and
every method to require a key, which Zappa cannot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.utils import override_settings

from cloudkida import aws, resources, workflows
from cloudkida.dynamo import tables
from cloudkida.workflows.definitions import STEP_FUNCTION_ARN, render_all

ROOT = Path(settings.BASE_DIR)
TEMPLATES_DIR = ROOT / "deploy"
ZAPPA_SETTINGS = ROOT / "zappa_settings.json"
ACCOUNT, REGION, PARTITION = "${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # the hosted zone id of every CloudFront distribution (AWS constant)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy
LOG_RETENTION_DAYS = 30

# What the Lambda does to items (BatchGetItem, ConditionCheckItem and Scan are never called).
LAMBDA_DATA = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
# What a tenant-scoped session may do to its own items (the authorizer's session policy narrows it further).
DYNAMODB_DATA = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]


@dataclass(frozen=True)
class Stage:
    name: str
    function_name: str  # the Lambda Zappa deploys for the stage
    integrator: bool  # the stage with the Lambda authorizer: API keys and usage plans apply here


@dataclass(frozen=True)
class StackConfig:
    """The Zappa stages that share one resource prefix, hence one stack."""

    prefix: str
    region: str
    environment: dict[str, str]
    stages: tuple[Stage, ...] = field(default_factory=tuple)

    @property
    def workflow_stage(self) -> Stage:
        """The stage whose function runs workflow steps and scheduled jobs (the one without the authorizer)."""
        return next((s for s in self.stages if not s.integrator), self.stages[0])

    @property
    def integrator_stage(self) -> Stage:
        return next((s for s in self.stages if s.integrator), self.stages[0])

    @property
    def path(self) -> Path:
        return TEMPLATES_DIR / f"{self.prefix}.template.json"


def _merged(config: dict[str, Any], name: str) -> dict[str, Any]:
    stage = dict(config[name])
    if "extends" in stage:
        parent = _merged(config, stage.pop("extends"))
        stage = {**parent, **stage}
    return stage


def stack_configs() -> list[StackConfig]:
    """One StackConfig per resource prefix in zappa_settings.json."""
    config = json.loads(ZAPPA_SETTINGS.read_text())
    stacks: dict[str, StackConfig] = {}
    for name in config:
        stage = _merged(config, name)
        env = stage["environment_variables"]
        prefix = env["CLOUDKIDA_RESOURCE_PREFIX"]
        entry = Stage(name, f"{stage['project_name']}-{name}", integrator="authorizer" in stage)
        known = stacks.get(prefix)
        stacks[prefix] = StackConfig(
            prefix=prefix,
            region=stage["aws_region"],
            environment=known.environment if known else env,
            stages=(*(known.stages if known else ()), entry),
        )
    return list(stacks.values())


@contextmanager
def stack_settings(config: StackConfig) -> Iterator[None]:
    """The settings a stage's Lambda runs with, so specs render with its names."""
    env = config.environment
    with override_settings(
        CLOUDKIDA_RESOURCE_PREFIX=config.prefix,
        AWS_REGION=config.region,
        CLOUDKIDA_BASE_DOMAIN=env["CLOUDKIDA_BASE_DOMAIN"],
        CLOUDKIDA_SENDER_EMAIL=env["CLOUDKIDA_SENDER_EMAIL"],
        CLOUDKIDA_ASSETS_BUCKET=env.get("CLOUDKIDA_ASSETS_BUCKET", f"{config.prefix}-tenant-assets"),
        CLOUDKIDA_ASSETS_DOMAIN=env.get("CLOUDKIDA_ASSETS_DOMAIN", ""),
        # Derived from the prefix in settings.py, so derived again here (or the template names the
        # generating process's project, not the stage's).
        CLOUDKIDA_LAB_NUKE_PROJECT=env.get("CLOUDKIDA_LAB_NUKE_PROJECT", f"{config.prefix}-aws-nuke"),
        CLOUDKIDA_PUBLIC_SCHEME="https",
        CLOUDKIDA_PUBLIC_PORT="",
    ):
        yield


def step_function_arn(function_name: str | None = None) -> str:
    """The Lambda the state machines invoke for every step (this account and region)."""
    name = function_name or f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-steps"
    return f"arn:aws:lambda:{settings.AWS_REGION}:{aws.account_id()}:function:{name}"


# --- rendering helpers ----------------------------------------------------------------------------------


def _sub(value: Any) -> Any:
    """Wrap every string that names a pseudo parameter or a resource in Fn::Sub (recursively)."""
    if isinstance(value, str):
        if "${" not in value.replace("${aws:", ""):
            return value  # no CloudFormation variable (an IAM policy variable stays as it is)
        return {"Fn::Sub": value.replace("${aws:", "${!aws:")}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref", "Condition")):
            return value
        return {k: _sub(v) for k, v in value.items()}
    return value


def _logical(*parts: str) -> str:
    return "".join(p.replace("-", " ").replace("_", " ").title().replace(" ", "") for p in parts)


def _tags(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in mapping.items()]


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _table_properties(spec: tables.TableSpec) -> dict[str, Any]:
    request = spec.create_request()
    return {
        "TableName": request["TableName"],
        "BillingMode": request["BillingMode"],
        "AttributeDefinitions": request["AttributeDefinitions"],
        "KeySchema": request["KeySchema"],
        "GlobalSecondaryIndexes": request["GlobalSecondaryIndexes"],
        "SSESpecification": {"SSEEnabled": request["SSESpecification"]["Enabled"]},
        "TimeToLiveSpecification": {"AttributeName": tables.TTL_ATTRIBUTE, "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "Tags": request["Tags"],
    }


def _user_pool_properties(request: dict[str, Any], *, operations: bool) -> dict[str, Any]:
    properties = {("UserPoolName" if k == "PoolName" else k): v for k, v in request.items()}
    if operations:
        properties.update(
            MfaConfiguration=resources.REQUIRED_MFA["MfaConfiguration"], EnabledMfas=["SOFTWARE_TOKEN_MFA"]
        )
    return properties


# --- the template ---------------------------------------------------------------------------------------


def lambda_policy(config: StackConfig) -> dict[str, Any]:
    """What the stage's Lambda may do: exactly the calls the code makes (the IAM coverage test checks every
    call the test suite makes against this), on this stage's resources only."""
    p = config.prefix
    control, pooled = tables.control_table().name, tables.pooled_table().name
    table = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/"
    bucket = settings.CLOUDKIDA_ASSETS_BUCKET
    apigw = f"arn:{PARTITION}:apigateway:{REGION}::"
    statements = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [_arn("logs", f"log-group:/aws/lambda/{s.function_name}:*") for s in config.stages],
        },
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
        {
            "Sid": "PlatformTables",
            "Effect": "Allow",
            "Action": [*LAMBDA_DATA, "dynamodb:DescribeTable"],
            "Resource": [f"{table}{name}{suffix}" for name in (control, pooled) for suffix in ("", "/index/*")],
        },
        {
            "Sid": "SiloTables",
            "Effect": "Allow",
            "Action": [
                *LAMBDA_DATA,
                "dynamodb:CreateTable",
                "dynamodb:DescribeTable",
                "dynamodb:DeleteTable",
                "dynamodb:TagResource",
                "dynamodb:DescribeTimeToLive",
                "dynamodb:UpdateTimeToLive",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:UpdateContinuousBackups",
            ],
            "Resource": [f"{table}{p}-tenant-*", f"{table}{p}-tenant-*/index/*"],
        },
        {
            "Sid": "NeverDropPlatformTables",
            "Effect": "Deny",
            "Action": ["dynamodb:DeleteTable", "dynamodb:CreateTable"],
            "Resource": [f"{table}{control}", f"{table}{pooled}"],
        },
        {
            "Sid": "UserPools",
            "Effect": "Allow",
            "Action": [
                "cognito-idp:AdminAddUserToGroup",
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminDeleteUser",
                "cognito-idp:AdminDisableUser",
                "cognito-idp:AdminEnableUser",
                "cognito-idp:AdminGetUser",
                "cognito-idp:AdminUpdateUserAttributes",
                "cognito-idp:AdminUserGlobalSignOut",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:SetUICustomization",
                "cognito-idp:CreateGroup",
                "cognito-idp:DeleteGroup",
                "cognito-idp:ListUsers",
                "cognito-idp:ListUsersInGroup",
                "cognito-idp:CreateUserPoolClient",
                "cognito-idp:DescribeUserPoolClient",
                "cognito-idp:UpdateUserPoolClient",
                "cognito-idp:DeleteUserPoolClient",
                "cognito-idp:ListUserPoolClients",
                "cognito-idp:DescribeUserPool",
                "cognito-idp:CreateUserPoolDomain",
                "cognito-idp:DeleteUserPoolDomain",
                "cognito-idp:DeleteUserPool",
                "cognito-idp:CreateIdentityProvider",
                "cognito-idp:DescribeIdentityProvider",
                "cognito-idp:UpdateIdentityProvider",
                "cognito-idp:DeleteIdentityProvider",
                "cognito-idp:AdminLinkProviderForUser",
            ],
            "Resource": _arn("cognito-idp", "userpool/*"),
        },
        {
            # CreateUserPool and ListUserPools take no resource; a new pool is tagged with the stage's prefix.
            "Sid": "NewUserPools",
            "Effect": "Allow",
            "Action": ["cognito-idp:CreateUserPool", "cognito-idp:ListUserPools"],
            "Resource": "*",
        },
        {
            "Sid": "UsageKeys",
            "Effect": "Allow",
            "Action": ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"],
            "Resource": [
                f"{apigw}/apikeys",
                f"{apigw}/apikeys/*",
                f"{apigw}/usageplans/*/keys",
                f"{apigw}/usageplans/*/keys/*",
            ],
        },
        {
            "Sid": "ReadUsagePlans",
            "Effect": "Allow",
            "Action": ["apigateway:GET"],
            "Resource": [f"{apigw}/usageplans", f"{apigw}/usageplans/*"],
        },
        {
            "Sid": "SendEmail",
            "Effect": "Allow",
            "Action": ["ses:SendRawEmail"],
            "Resource": [
                _arn("ses", f"identity/{resources.sender_domain()}"),
                _arn("ses", f"identity/{settings.CLOUDKIDA_SENDER_EMAIL}"),
                _arn("ses", f"configuration-set/{resources.resource_name(resources.EMAIL_CONFIGURATION_SET_SUFFIX)}"),
            ],
        },
        {
            "Sid": "EmailQuotaAndIdentity",
            "Effect": "Allow",
            "Action": ["ses:GetSendQuota", "ses:ListIdentities", "ses:DescribeConfigurationSet"],
            "Resource": "*",
        },
        {
            "Sid": "Assets",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:DeleteObjectVersion"],
            "Resource": f"arn:{PARTITION}:s3:::{bucket}/*",
        },
        {
            # Tenants' own files: branding served and replaced, CSV imports read back.
            "Sid": "TenantAssets",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:DeleteObject"],
            "Resource": f"arn:{PARTITION}:s3:::{bucket}/tenants/*",
        },
        {
            # `zappa manage <stage> "collectstatic --noinput"` runs in the Lambda and reads back what it uploads.
            "Sid": "StaticFiles",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": f"arn:{PARTITION}:s3:::{bucket}/static/*",
        },
        {
            "Sid": "ListAssets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": f"arn:{PARTITION}:s3:::{bucket}",
        },
        {
            "Sid": "TenantScopedCredentials",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Resource": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{p}-tenant-data",
        },
        {
            "Sid": "Workflows",
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": _arn("states", f"stateMachine:{p}-*"),
        },
    ]
    statements += resources.permissions()
    if resources.queues():
        statements.append(
            {
                "Sid": "Queues",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl"],
                "Resource": [_arn("sqs", queue.name) for queue in resources.queues()],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def tenant_data_policy() -> dict[str, Any]:
    """The tenant-data role's own policy: a session reaches only the tenant its ``tenant`` session tag names
    (its partition of the pooled table, or its own silo table), whatever session policy it was given."""
    table = f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/"
    pooled = tables.pooled_table().name
    silo = f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-${{aws:PrincipalTag/tenant}}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnPartitionOfThePooledTable",
                "Effect": "Allow",
                "Action": DYNAMODB_DATA,
                "Resource": [f"{table}{pooled}"],
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["TENANT#${aws:PrincipalTag/tenant}"]}
                },
            },
            {
                "Sid": "OwnSiloTable",
                "Effect": "Allow",
                "Action": DYNAMODB_DATA,
                "Resource": [f"{table}{silo}", f"{table}{silo}/index/*"],
            },
        ],
    }


def template(config: StackConfig) -> dict[str, Any]:
    """The stack for ``config`` (rendered with that stage's settings)."""
    with stack_settings(config):
        return _template(config)


def _template(config: StackConfig) -> dict[str, Any]:
    p = config.prefix
    base = settings.CLOUDKIDA_BASE_DOMAIN
    assets_domain = settings.CLOUDKIDA_ASSETS_DOMAIN
    bucket = settings.CLOUDKIDA_ASSETS_BUCKET
    parameters: dict[str, Any] = {
        "HostedZoneId": {
            "Type": "String",
            "Default": "",
            "Description": f"Route 53 hosted zone of {base} (empty: no certificate, custom domains or DNS)",
        }
    }
    conditions: dict[str, Any] = {"HasZone": {"Fn::Not": [{"Fn::Equals": [{"Ref": "HostedZoneId"}, ""]}]}}
    for stage in config.stages:
        key = _logical("ApiId", stage.name)
        parameters[key] = {
            "Type": "String",
            "Default": "",
            "Description": f"Id of the REST API `zappa deploy {stage.name}` made (empty before the first deploy)",
        }
        conditions[_logical("Has", stage.name, "Api")] = {"Fn::Not": [{"Fn::Equals": [{"Ref": key}, ""]}]}
        conditions[_logical("Has", stage.name, "Domain")] = {
            "Fn::And": [{"Condition": "HasZone"}, {"Condition": _logical("Has", stage.name, "Api")}]
        }
    retain = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    res: dict[str, Any] = {}

    # DynamoDB
    for spec, logical in ((tables.control_table(), "ControlTable"), (tables.pooled_table(), "TenantDataTable")):
        res[logical] = {"Type": "AWS::DynamoDB::Table", **retain, "Properties": _table_properties(spec)}

    # Assets bucket behind CloudFront (origin access control; only static/ is readable through it)
    spec = resources.bucket_settings()
    res["AssetsBucket"] = {
        "Type": "AWS::S3::Bucket",
        **retain,
        "Properties": {
            "BucketName": bucket,
            "PublicAccessBlockConfiguration": spec["PublicAccessBlockConfiguration"],
            "VersioningConfiguration": spec["VersioningConfiguration"],
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"]}
                    for rule in spec["ServerSideEncryptionConfiguration"]["Rules"]
                ]
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    }
    res["AssetsOriginAccess"] = {
        "Type": "AWS::CloudFront::OriginAccessControl",
        "Properties": {
            "OriginAccessControlConfig": {
                "Name": f"{p}-assets",
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    }
    res["AssetsDistribution"] = {
        "Type": "AWS::CloudFront::Distribution",
        "Properties": {
            "DistributionConfig": {
                "Enabled": True,
                "Comment": f"{p} static files",
                "PriceClass": "PriceClass_100",
                "HttpVersion": "http2and3",
                "Aliases": {"Fn::If": ["HasZone", [assets_domain], {"Ref": "AWS::NoValue"}]},
                "ViewerCertificate": {
                    "Fn::If": [
                        "HasZone",
                        {
                            "AcmCertificateArn": {"Ref": "Certificate"},
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                        {"CloudFrontDefaultCertificate": True},
                    ]
                },
                "Origins": [
                    {
                        "Id": "assets",
                        "DomainName": {"Fn::GetAtt": ["AssetsBucket", "RegionalDomainName"]},
                        "OriginAccessControlId": {"Fn::GetAtt": ["AssetsOriginAccess", "Id"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "assets",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": CACHING_OPTIMIZED,
                    "Compress": True,
                    "AllowedMethods": ["GET", "HEAD"],
                },
            }
        },
    }
    res["AssetsBucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": "AssetsBucket"},
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadsStaticOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:{PARTITION}:s3:::{bucket}/static/*",
                        "Condition": {
                            "StringEquals": {
                                "AWS:SourceArn": f"arn:{PARTITION}:cloudfront::{ACCOUNT}:distribution/"
                                "${AssetsDistribution}"
                            }
                        },
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:{PARTITION}:s3:::{bucket}", f"arn:{PARTITION}:s3:::{bucket}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        },
    }

    # Certificate and DNS for <base>, *.<base> (one certificate; CloudFront needs it in us-east-1)
    res["Certificate"] = {
        "Type": "AWS::CertificateManager::Certificate",
        "Condition": "HasZone",
        "Properties": {
            "DomainName": base,
            "SubjectAlternativeNames": [f"*.{base}"],
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": base, "HostedZoneId": {"Ref": "HostedZoneId"}}],
        },
    }
    res["AssetsRecord"] = {
        "Type": "AWS::Route53::RecordSet",
        "Condition": "HasZone",
        "Properties": {
            "HostedZoneId": {"Ref": "HostedZoneId"},
            "Name": assets_domain,
            "Type": "A",
            "AliasTarget": {
                "DNSName": {"Fn::GetAtt": ["AssetsDistribution", "DomainName"]},
                "HostedZoneId": CLOUDFRONT_ZONE,
            },
        },
    }
    for stage in config.stages:
        hosts = [f"api.{base}"] if stage.integrator else [base, f"*.{base}"]
        condition = _logical("Has", stage.name, "Domain")
        for host in hosts:
            logical = _logical(
                "Domain", "wildcard" if host.startswith("*") else host.split(".")[0] if host != base else "apex"
            )
            res[logical] = {
                "Type": "AWS::ApiGateway::DomainName",
                "Condition": condition,
                "Properties": {
                    "DomainName": host,
                    "RegionalCertificateArn": {"Ref": "Certificate"},
                    "EndpointConfiguration": {"Types": ["REGIONAL"]},
                    "SecurityPolicy": "TLS_1_2",
                },
            }
            res[f"{logical}Mapping"] = {
                "Type": "AWS::ApiGateway::BasePathMapping",
                "Condition": condition,
                "Properties": {
                    "DomainName": {"Ref": logical},
                    "RestApiId": {"Ref": _logical("ApiId", stage.name)},
                    "Stage": stage.name,
                },
            }
            res[f"{logical}Record"] = {
                "Type": "AWS::Route53::RecordSet",
                "Condition": condition,
                "Properties": {
                    "HostedZoneId": {"Ref": "HostedZoneId"},
                    "Name": host,
                    "Type": "A",
                    "AliasTarget": {
                        "DNSName": {"Fn::GetAtt": [logical, "RegionalDomainName"]},
                        "HostedZoneId": {"Fn::GetAtt": [logical, "RegionalHostedZoneId"]},
                    },
                },
            }

    # Email: the domain identity (DKIM) and configuration set every email goes through, Cognito's too
    res["EmailIdentity"] = {
        "Type": "AWS::SES::EmailIdentity",
        "Properties": {
            "EmailIdentity": resources.sender_domain(),
            "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
            "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": "EmailConfigurationSet"}},
        },
    }
    res["EmailConfigurationSet"] = {
        "Type": "AWS::SES::ConfigurationSet",
        "Properties": {
            "Name": resources.resource_name(resources.EMAIL_CONFIGURATION_SET_SUFFIX),
            "ReputationOptions": {"ReputationMetricsEnabled": True},
            "SendingOptions": {"SendingEnabled": True},
            "SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        },
    }
    for n in (1, 2, 3):
        res[f"EmailDkimRecord{n}"] = {
            "Type": "AWS::Route53::RecordSet",
            "Condition": "HasZone",
            "Properties": {
                "HostedZoneId": {"Ref": "HostedZoneId"},
                "Name": {"Fn::GetAtt": ["EmailIdentity", f"DkimDNSTokenName{n}"]},
                "Type": "CNAME",
                "TTL": "1800",
                "ResourceRecords": [{"Fn::GetAtt": ["EmailIdentity", f"DkimDNSTokenValue{n}"]}],
            },
        }

    # Cognito: the first pooled shard and the operations pool (MFA), with their hosted UIs
    pooled_name = resources.pooled_pool_name(0)
    operations_name = resources.resource_name(resources.OPERATIONS_POOL_SUFFIX)
    for logical, name, operations in (
        ("PooledUserPool", pooled_name, False),
        ("OperationsUserPool", operations_name, True),
    ):
        request = resources.user_pool_request(name, operations=operations, account_id=ACCOUNT)
        request.pop("LambdaConfig", None)  # the pooled pool's triggers are wired below, once the function exists
        res[logical] = {
            "Type": "AWS::Cognito::UserPool",
            **retain,
            "Properties": _user_pool_properties(request, operations=operations),
        }
        res[f"{logical}Domain"] = {
            "Type": "AWS::Cognito::UserPoolDomain",
            "Properties": {"Domain": resources.pool_domain(name), "UserPoolId": {"Ref": logical}},
        }
    res["OperationsClient"] = {
        "Type": "AWS::Cognito::UserPoolClient",
        "Properties": resources.operations_client_request({"Ref": "OperationsUserPool"}),
    }

    # Usage plans, attached to the integrator stage once Zappa has made it
    integrator = config.integrator_stage
    for plan in resources.usage_plans():
        res[_logical("UsagePlan", plan.tier)] = {
            "Type": "AWS::ApiGateway::UsagePlan",
            "Properties": {
                "UsagePlanName": plan.name,
                "Description": f"CloudKida {plan.tier} tier",
                "Throttle": {"RateLimit": plan.rate, "BurstLimit": plan.burst},
                "Quota": {"Limit": plan.quota_per_day, "Period": "DAY"},
                "ApiStages": {
                    "Fn::If": [
                        _logical("Has", integrator.name, "Api"),
                        [{"ApiId": {"Ref": _logical("ApiId", integrator.name)}, "Stage": integrator.name}],
                        {"Ref": "AWS::NoValue"},
                    ]
                },
                "Tags": _tags({"cloudkida:tier": plan.tier}),
            },
        }

    # Queues (each with its dead-letter queue)
    for queue in resources.queues():
        logical = _logical("Queue", queue.suffix)
        res[f"{logical}Dlq"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": f"{queue.name}-dlq", "MessageRetentionPeriod": 1209600},
        }
        res[logical] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue.name,
                "VisibilityTimeout": queue.visibility_timeout,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [f"{logical}Dlq", "Arn"]},
                    "maxReceiveCount": queue.max_receives,
                },
            },
        }

    # Roles: the Lambda's, the tenant-data role it assumes per tenant, Step Functions'
    res["LambdaRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"{p}-lambda",
            "Description": "CloudKida's Lambda functions (zappa_settings.json role_name)",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {
                            "Service": ["lambda.amazonaws.com", "apigateway.amazonaws.com", "events.amazonaws.com"]
                        },
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [{"PolicyName": "cloudkida", "PolicyDocument": lambda_policy(config)}],
        },
    }
    res["TenantDataRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"{p}-tenant-data",
            "Description": "Assumed per request by the authorizer, tagged tenant=<id>, narrowed by a session policy",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::GetAtt": ["LambdaRole", "Arn"]}},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ],
            },
            "Policies": [{"PolicyName": "one-tenant", "PolicyDocument": tenant_data_policy()}],
        },
    }
    step_arn = _arn("lambda", f"function:{config.workflow_stage.function_name}")
    res["StatesRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"{p}-states",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "invoke-steps",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "lambda:InvokeFunction",
                                "Resource": [step_arn, f"{step_arn}:*"],
                            },
                            {
                                "Effect": "Allow",
                                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                                "Resource": "*",
                            },
                        ],
                    },
                }
            ],
        },
    }

    # State machines, one per registered workflow, invoking the workflow stage's function
    for name, text in render_all().items():
        res[_logical("StateMachine", name)] = {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {
                "StateMachineName": workflows.state_machine_name(name),
                "RoleArn": {"Fn::GetAtt": ["StatesRole", "Arn"]},
                "DefinitionString": {"Fn::Sub": [text, {STEP_FUNCTION_ARN[2:-1]: step_arn}]},
                "TracingConfiguration": {"Enabled": True},
            },
        }

    # Scheduled jobs: EventBridge rules invoking the workflow stage's function with {"command": ...}
    workflow_api = _logical("Has", config.workflow_stage.name, "Api")
    for schedule in resources.schedules():
        logical = _logical("Schedule", schedule.name)
        res[logical] = {
            "Type": "AWS::Events::Rule",
            "Condition": workflow_api,
            "Properties": {
                "Name": f"{p}-{schedule.name}",
                "Description": schedule.description,
                "ScheduleExpression": schedule.expression,
                "State": "ENABLED",
                "Targets": [{"Id": "lambda", "Arn": step_arn, "Input": json.dumps({"command": schedule.command})}],
            },
        }
        res[f"{logical}Permission"] = {
            "Type": "AWS::Lambda::Permission",
            "Condition": workflow_api,
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": config.workflow_stage.function_name,
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [logical, "Arn"]},
            },
        }

    # Cognito user-pool triggers (single sign-on) served by the workflow stage's function: the pooled pool
    # points at it once the function exists, and Cognito may invoke it for any pool of this account (Platinum
    # pools and new shards get the same LambdaConfig when CloudKida creates them).
    if resources.cognito_triggers():
        res["PooledUserPool"]["Properties"]["LambdaConfig"] = {
            "Fn::If": [workflow_api, _sub(resources.cognito_lambda_config(step_arn)), {"Ref": "AWS::NoValue"}]
        }
        res["CognitoTriggerPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Condition": workflow_api,
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": config.workflow_stage.function_name,
                "Principal": "cognito-idp.amazonaws.com",
                "SourceAccount": ACCOUNT,
                "SourceArn": _arn("cognito-idp", "userpool/*"),
            },
        }

    # Log retention for the functions (Lambda would otherwise create never-expiring groups)
    for stage in config.stages:
        res[_logical("Logs", stage.name)] = {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": f"/aws/lambda/{stage.function_name}", "RetentionInDays": LOG_RETENTION_DAYS},
        }

    # What apps declare themselves (cloudkida.resources.register_template_resources)
    for logical, resource in resources.template_resources().items():
        if logical in res:
            raise ValueError(f"an app's template resource {logical} would replace the core's")
        res[logical] = resource

    outputs = {
        "ControlTable": {"Value": {"Ref": "ControlTable"}},
        "TenantDataTable": {"Value": {"Ref": "TenantDataTable"}},
        "AssetsBucket": {"Value": {"Ref": "AssetsBucket"}},
        "PooledUserPool": {"Value": {"Ref": "PooledUserPool"}},
        "LambdaRoleArn": {"Value": {"Fn::GetAtt": ["LambdaRole", "Arn"]}},
        "TenantDataRoleArn": {"Value": {"Fn::GetAtt": ["TenantDataRole", "Arn"]}},
        **{_logical("StateMachine", n): {"Value": {"Ref": _logical("StateMachine", n)}} for n in render_all()},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CloudKida {p}: generated by `manage.py infrastructure` from the code's specs; do not edit.",
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3005"]}}},
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": _sub(res),
        "Outputs": outputs,
    }


def render(config: StackConfig) -> str:
    return json.dumps(template(config), indent=2) + "\n"


def render_all_stacks() -> dict[Path, str]:
    return {config.path: render(config) for config in stack_configs()}


# --- after `zappa deploy`: make API Gateway meter the integrator stage ------------------------------------


def meter_api(api_id: str, stage: str) -> list[str]:
    """Make API Gateway meter the integrator stage: key source AUTHORIZER (the authorizer returns the tenant's
    key as ``usageIdentifierKey``), then a new deployment of ``stage``. Every method must already require a
    key (Zappa's ``api_key_required``); one that does not is refused here, since API Gateway would let its
    calls through unmetered. Idempotent; run with the deployer's credentials after `zappa deploy`."""
    apigateway = aws.client("apigateway")
    with aws.deploying():
        unmetered = [
            f"{method} {resource['path']}"
            for page in apigateway.get_paginator("get_resources").paginate(restApiId=api_id)
            for resource in page["items"]
            for method in resource.get("resourceMethods", {})
            if method != "OPTIONS"
            and not apigateway.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method)[
                "apiKeyRequired"
            ]
        ]
        if unmetered:
            raise RuntimeError(f"methods without apiKeyRequired (set api_key_required in the stage): {unmetered}")
        apigateway.update_rest_api(
            restApiId=api_id, patchOperations=[{"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"}]
        )
        apigateway.create_deployment(restApiId=api_id, stageName=stage, description="CloudKida metering")
    return ["apiKeySource=AUTHORIZER", f"deployed {stage}"]
