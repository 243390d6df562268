"""Emptying a lab account: the boto3 cleanup (local runs and tests) and the aws-nuke configuration
(production, run in CodeBuild).

The boto3 path covers exactly what the AWS emulator emulates, per region: CloudFormation stacks, S3 (once:
buckets are global; every object version, delete marker and multipart upload), DynamoDB (deletion
protection lifted), Lambda functions and layers, EC2 (instances, Elastic IPs, key pairs, own AMIs and
snapshots, volumes, security groups, and non-default VPCs with their ENIs, internet and NAT gateways,
subnets, route tables, network ACLs), SQS, SNS (subscriptions, topics), CloudWatch Logs, CloudWatch alarms,
EventBridge (targets, rules, custom buses), SSM parameters, Secrets Manager (forced), ECR (forced), KMS
(customer keys scheduled for deletion, their aliases); then IAM (roles but CloudKida's own, instance
profiles, users with keys, profiles, MFA, SSH keys, groups, local policies and versions, OIDC and SAML
providers). It keeps each region's default VPC and its parts. aws-nuke covers every resource type it knows
(several hundred) and is what production runs; see docs/architecture.md.

Service-managed resources that cannot be deleted (service-linked roles, KMS keys already pending deletion,
AWS-managed aliases) are reported as exceptions, not leftovers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from cloudkida import aws
from labs import guardrails

PROTECTED_ROLES = frozenset({guardrails.ACCESS_ROLE, guardrails.CLEANUP_ROLE})
_MISSING = (
    "NoSuchEntity",
    "ResourceNotFoundException",
    "NotFoundException",
    "NoSuchBucket",
    "InvalidGroup.NotFound",
    "InvalidVpcID.NotFound",
    "AWS.SimpleQueueService.NonExistentQueue",
)
Log = Callable[[str, Any], None]


def _ignore_missing(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return None
        raise


def _emulator_gap(fn, default=()):
    """Calls the emulator does not implement (it raises NotImplementedError in-process); real AWS has them."""
    try:
        return fn()
    except NotImplementedError:
        return default


def _pages(client, op: str, key: str, **kwargs) -> Iterator[Any]:
    if client.can_paginate(op):
        for page in client.get_paginator(op).paginate(**kwargs):
            yield from page.get(key, [])
    else:
        yield from getattr(client, op)(**kwargs).get(key, [])


class Account:
    """Clients for one lab account (``credentials`` of its cleanup role), per region."""

    def __init__(self, account_id: str, credentials: dict):
        self.account_id = account_id
        self.credentials = credentials

    def client(self, service: str, region: str | None = None):
        return aws.client(service, credentials=self.credentials, region=region)


def stacks_delete(account: Account, regions: list[str]) -> int:
    """Ask CloudFormation to delete every stack in ``regions``; returns how many are still there."""
    left = 0
    for region in regions:
        cfn = account.client("cloudformation", region)
        for stack in _pages(cfn, "describe_stacks", "Stacks"):
            status = stack["StackStatus"]
            if status == "DELETE_COMPLETE":
                continue
            left += 1
            if status != "DELETE_IN_PROGRESS":
                if stack.get("EnableTerminationProtection"):
                    _emulator_gap(
                        lambda n=stack["StackName"], c=cfn: c.update_termination_protection(
                            StackName=n, EnableTerminationProtection=False
                        )
                    )
                _empty_stack_buckets(account, cfn, stack["StackName"])
                cfn.delete_stack(StackName=stack["StackName"])
    return left


def stacks_left(account: Account, regions: list[str]) -> int:
    return sum(
        1
        for region in regions
        for s in _pages(account.client("cloudformation", region), "describe_stacks", "Stacks")
        if s["StackStatus"] != "DELETE_COMPLETE"
    )


def _empty_stack_buckets(account: Account, cfn, stack_name: str) -> None:
    """A stack's non-empty bucket fails its deletion (in AWS; the emulator silently keeps it): empty first."""
    for resource in _pages(cfn, "list_stack_resources", "StackResourceSummaries", StackName=stack_name):
        if resource.get("ResourceType") == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
            _empty_bucket(account.client("s3"), resource["PhysicalResourceId"])


def _empty_bucket(s3, name: str) -> None:
    while True:  # list from the start each round: deleting while paginating skips pages in the emulator
        try:
            page = s3.list_object_versions(Bucket=name, MaxKeys=1000)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                return
            raise
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not objects:
            break
        result = s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
        if result.get("Errors"):
            raise RuntimeError(f"s3 delete_objects {name}: {result['Errors'][:3]}")
    for upload in _pages(s3, "list_multipart_uploads", "Uploads", Bucket=name):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])


def clean_pass(account: Account, regions: list[str]) -> list[tuple[str, Any]]:
    """Delete everything the boto3 path covers; returns what it deleted (kind, name)."""
    deleted: list[tuple[str, Any]] = []

    def log(kind: str, what: Any) -> None:
        deleted.append((kind, what))

    stacks_delete(account, regions)
    _s3(account, log)
    for region in regions:
        _region(account, region, log)
    _iam(account, log)
    return deleted


def _s3(account: Account, log: Log) -> None:
    s3 = account.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        _empty_bucket(s3, bucket["Name"])
        _ignore_missing(s3.delete_bucket_policy, Bucket=bucket["Name"])
        _ignore_missing(s3.delete_bucket, Bucket=bucket["Name"])
        log("s3", bucket["Name"])


def _region(account: Account, region: str, log: Log) -> None:
    def c(name):
        return account.client(name, region)

    ddb = c("dynamodb")
    for table in list(_pages(ddb, "list_tables", "TableNames")):
        if ddb.describe_table(TableName=table)["Table"].get("DeletionProtectionEnabled"):
            ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
        ddb.delete_table(TableName=table)
        log("dynamodb", table)
    lam = c("lambda")
    for function in list(_pages(lam, "list_functions", "Functions")):
        lam.delete_function(FunctionName=function["FunctionName"])
        log("lambda", function["FunctionName"])
    for layer in list(_pages(lam, "list_layers", "Layers")):
        for version in _pages(lam, "list_layer_versions", "LayerVersions", LayerName=layer["LayerName"]):
            lam.delete_layer_version(LayerName=layer["LayerName"], VersionNumber=version["Version"])
            log("lambda-layer", version["LayerVersionArn"])
    _ec2(account, c("ec2"), log)
    sqs = c("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)
        log("sqs", url)
    sns = c("sns")
    for sub in list(_pages(sns, "list_subscriptions", "Subscriptions")):
        if sub["SubscriptionArn"].startswith("arn:"):
            _ignore_missing(sns.unsubscribe, SubscriptionArn=sub["SubscriptionArn"])
    for topic in list(_pages(sns, "list_topics", "Topics")):
        sns.delete_topic(TopicArn=topic["TopicArn"])
        log("sns", topic["TopicArn"])
    logs = c("logs")
    for group in list(_pages(logs, "describe_log_groups", "logGroups")):
        logs.delete_log_group(logGroupName=group["logGroupName"])
        log("logs", group["logGroupName"])
    cw = c("cloudwatch")
    alarms = [a["AlarmName"] for a in _pages(cw, "describe_alarms", "MetricAlarms")]
    alarms += [a["AlarmName"] for a in _pages(cw, "describe_alarms", "CompositeAlarms")]
    for start in range(0, len(alarms), 100):
        cw.delete_alarms(AlarmNames=alarms[start : start + 100])
        log("alarms", alarms[start : start + 100])
    events = c("events")
    for bus in events.list_event_buses()["EventBuses"]:
        for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]:
            ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus["Name"])["Targets"]]
            if ids:
                events.remove_targets(Rule=rule["Name"], EventBusName=bus["Name"], Ids=ids)
            events.delete_rule(Name=rule["Name"], EventBusName=bus["Name"])
            log("events-rule", rule["Name"])
        if bus["Name"] != "default":
            events.delete_event_bus(Name=bus["Name"])
            log("event-bus", bus["Name"])
    ssm = c("ssm")
    names = [p["Name"] for p in _pages(ssm, "describe_parameters", "Parameters")]
    for start in range(0, len(names), 10):
        ssm.delete_parameters(Names=names[start : start + 10])
        log("ssm", names[start : start + 10])
    secrets = c("secretsmanager")
    for secret in list(_pages(secrets, "list_secrets", "SecretList")):
        secrets.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
        log("secret", secret["Name"])
    ecr = c("ecr")
    for repo in list(_pages(ecr, "describe_repositories", "repositories")):
        ecr.delete_repository(repositoryName=repo["repositoryName"], force=True)
        log("ecr", repo["repositoryName"])
    kms = c("kms")
    for alias in _pages(kms, "list_aliases", "Aliases"):
        if not alias["AliasName"].startswith("alias/aws/"):
            kms.delete_alias(AliasName=alias["AliasName"])
    for key in list(_pages(kms, "list_keys", "Keys")):
        meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta["KeyManager"] == "CUSTOMER" and meta["KeyState"] not in {"PendingDeletion", "PendingReplicaDeletion"}:
            kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
            log("kms", key["KeyId"])


def _ec2(account: Account, ec2, log: Log) -> None:
    live = [
        i["InstanceId"]
        for r in _pages(ec2, "describe_instances", "Reservations")
        for i in r["Instances"]
        if i["State"]["Name"] not in {"terminated", "shutting-down"}
    ]
    if live:
        ec2.terminate_instances(InstanceIds=live)
        log("ec2-instance", live)
        # Local and test path only (production cleans with aws-nuke): a short, bounded wait.
        ec2.get_waiter("instance_terminated").wait(InstanceIds=live, WaiterConfig={"Delay": 2, "MaxAttempts": 10})
    for address in ec2.describe_addresses()["Addresses"]:
        if address.get("AssociationId"):
            ec2.disassociate_address(AssociationId=address["AssociationId"])
        ec2.release_address(AllocationId=address["AllocationId"])
        log("eip", address["AllocationId"])
    for pair in ec2.describe_key_pairs()["KeyPairs"]:
        ec2.delete_key_pair(KeyName=pair["KeyName"])  # the emulator ignores KeyPairId=
        log("keypair", pair["KeyName"])
    for image in ec2.describe_images(Owners=["self"])["Images"]:
        ec2.deregister_image(ImageId=image["ImageId"])
        log("ami", image["ImageId"])
    mine = [{"Name": "owner-id", "Values": [account.account_id]}]  # the emulator ignores OwnerIds=["self"]
    for snapshot in _pages(ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"], Filters=mine):
        if snapshot["OwnerId"] == account.account_id:
            ec2.delete_snapshot(SnapshotId=snapshot["SnapshotId"])
            log("snapshot", snapshot["SnapshotId"])
    for volume in _pages(ec2, "describe_volumes", "Volumes"):
        if volume["State"] == "available":
            ec2.delete_volume(VolumeId=volume["VolumeId"])
            log("volume", volume["VolumeId"])
    groups = [g for g in _pages(ec2, "describe_security_groups", "SecurityGroups") if g["GroupName"] != "default"]
    for group in groups:  # rules first: groups that reference each other cannot be deleted otherwise
        if group["IpPermissions"]:
            ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
        if group["IpPermissionsEgress"]:
            ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
    for group in groups:
        ec2.delete_security_group(GroupId=group["GroupId"])
        log("sg", group["GroupId"])
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        if vpc["IsDefault"]:
            continue
        vpc_id = vpc["VpcId"]
        by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        for eni in ec2.describe_network_interfaces(Filters=by_vpc)["NetworkInterfaces"]:
            ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
        attached = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        for igw in ec2.describe_internet_gateways(Filters=attached)["InternetGateways"]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        for nat in ec2.describe_nat_gateways(Filters=by_vpc)["NatGateways"]:
            if nat["State"] != "deleted":
                ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        for subnet in ec2.describe_subnets(Filters=by_vpc)["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        for table in ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]:
            if any(a.get("Main") for a in table["Associations"]):
                continue
            for association in table["Associations"]:
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
            ec2.delete_route_table(RouteTableId=table["RouteTableId"])
        for acl in ec2.describe_network_acls(Filters=by_vpc)["NetworkAcls"]:
            if not acl["IsDefault"]:
                ec2.delete_network_acl(NetworkAclId=acl["NetworkAclId"])
        for group in ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]:
            if group["GroupName"] != "default":
                ec2.delete_security_group(GroupId=group["GroupId"])
        ec2.delete_vpc(VpcId=vpc_id)
        log("vpc", vpc_id)
    for igw in ec2.describe_internet_gateways()["InternetGateways"]:
        if not igw["Attachments"]:
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
            log("igw", igw["InternetGatewayId"])


def _iam(account: Account, log: Log) -> None:
    iam = account.client("iam")
    for role in list(_pages(iam, "list_roles", "Roles")):
        name = role["RoleName"]
        if name in PROTECTED_ROLES or role["Path"].startswith("/aws-service-role/"):
            continue
        for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
            iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
        for p in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name):
            iam.delete_role_policy(RoleName=name, PolicyName=p)
        for profile in _pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=name):
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
        _ignore_missing(iam.delete_role_permissions_boundary, RoleName=name)
        iam.delete_role(RoleName=name)
        log("iam-role", name)
    for profile in list(_pages(iam, "list_instance_profiles", "InstanceProfiles")):
        roles = [r["RoleName"] for r in profile["Roles"]]
        for name in roles:
            if name not in PROTECTED_ROLES:
                iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
        if not PROTECTED_ROLES & set(roles):
            iam.delete_instance_profile(InstanceProfileName=profile["InstanceProfileName"])
            log("iam-instance-profile", profile["InstanceProfileName"])
    for user in list(_pages(iam, "list_users", "Users")):
        name = user["UserName"]
        for key in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name):
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        _ignore_missing(iam.delete_login_profile, UserName=name)
        for mfa in _pages(iam, "list_mfa_devices", "MFADevices", UserName=name):
            iam.deactivate_mfa_device(UserName=name, SerialNumber=mfa["SerialNumber"])
            _ignore_missing(iam.delete_virtual_mfa_device, SerialNumber=mfa["SerialNumber"])
        for cert in _emulator_gap(lambda n=name: iam.list_signing_certificates(UserName=n)["Certificates"]):
            iam.delete_signing_certificate(UserName=name, CertificateId=cert["CertificateId"])
        for key in _emulator_gap(lambda n=name: iam.list_ssh_public_keys(UserName=n)["SSHPublicKeys"]):
            iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
        for cred in _emulator_gap(
            lambda n=name: iam.list_service_specific_credentials(UserName=n)["ServiceSpecificCredentials"]
        ):
            iam.delete_service_specific_credential(
                UserName=name, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"]
            )
        for p in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name):
            iam.detach_user_policy(UserName=name, PolicyArn=p["PolicyArn"])
        for p in _pages(iam, "list_user_policies", "PolicyNames", UserName=name):
            iam.delete_user_policy(UserName=name, PolicyName=p)
        for group in _pages(iam, "list_groups_for_user", "Groups", UserName=name):
            iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)
        iam.delete_user(UserName=name)
        log("iam-user", name)
    for group in list(_pages(iam, "list_groups", "Groups")):
        name = group["GroupName"]
        for p in _pages(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=name):
            iam.detach_group_policy(GroupName=name, PolicyArn=p["PolicyArn"])
        for p in _pages(iam, "list_group_policies", "PolicyNames", GroupName=name):
            iam.delete_group_policy(GroupName=name, PolicyName=p)
        iam.delete_group(GroupName=name)
        log("iam-group", name)
    for policy in list(_pages(iam, "list_policies", "Policies", Scope="Local")):
        arn = policy["Arn"]
        for role in iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"]:
            iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        for version in _pages(iam, "list_policy_versions", "Versions", PolicyArn=arn):
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)
        log("iam-policy", policy["PolicyName"])
    for mfa in list(_pages(iam, "list_virtual_mfa_devices", "VirtualMFADevices")):
        _ignore_missing(iam.delete_virtual_mfa_device, SerialNumber=mfa["SerialNumber"])
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
        log("iam-oidc", provider["Arn"])
    for provider in iam.list_saml_providers()["SAMLProviderList"]:
        iam.delete_saml_provider(SAMLProviderArn=provider["Arn"])
        log("iam-saml", provider["Arn"])


def leftovers(account: Account, regions: list[str]) -> tuple[dict[str, list], list[str]]:
    """The verifying pass: (what is still there that cleanup should have removed, service-managed
    exceptions that cannot be removed). ``({}, [...])`` means clean."""
    found: dict[str, list] = {}
    exceptions: list[str] = []

    def add(kind: str, values: list) -> None:
        if values:
            found[kind] = values

    iam = account.client("iam")
    roles = list(_pages(iam, "list_roles", "Roles"))
    exceptions += [
        f"iam-role {r['RoleName']} (service-linked)" for r in roles if r["Path"].startswith("/aws-service-role/")
    ]
    add("s3", [b["Name"] for b in account.client("s3").list_buckets()["Buckets"]])
    add(
        "iam.roles",
        [
            r["RoleName"]
            for r in roles
            if r["RoleName"] not in PROTECTED_ROLES and not r["Path"].startswith("/aws-service-role/")
        ],
    )
    add("iam.users", [u["UserName"] for u in _pages(iam, "list_users", "Users")])
    add("iam.groups", [g["GroupName"] for g in _pages(iam, "list_groups", "Groups")])
    add("iam.policies", [p["PolicyName"] for p in _pages(iam, "list_policies", "Policies", Scope="Local")])
    add(
        "iam.instance_profiles",
        [p["InstanceProfileName"] for p in _pages(iam, "list_instance_profiles", "InstanceProfiles")],
    )
    for region in regions:

        def c(name, r=region):
            return account.client(name, r)

        ec2 = c("ec2")
        add(
            f"{region}.cloudformation",
            [
                s["StackName"]
                for s in _pages(c("cloudformation"), "describe_stacks", "Stacks")
                if s["StackStatus"] != "DELETE_COMPLETE"
            ],
        )
        add(f"{region}.dynamodb", list(_pages(c("dynamodb"), "list_tables", "TableNames")))
        add(f"{region}.lambda", [f["FunctionName"] for f in _pages(c("lambda"), "list_functions", "Functions")])
        add(
            f"{region}.ec2.instances",
            [
                i["InstanceId"]
                for r in _pages(ec2, "describe_instances", "Reservations")
                for i in r["Instances"]
                if i["State"]["Name"] != "terminated"
            ],
        )
        add(f"{region}.ec2.vpcs", [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]])
        add(
            f"{region}.ec2.security_groups",
            [
                g["GroupId"]
                for g in _pages(ec2, "describe_security_groups", "SecurityGroups")
                if g["GroupName"] != "default"
            ],
        )
        add(f"{region}.ec2.volumes", [v["VolumeId"] for v in _pages(ec2, "describe_volumes", "Volumes")])
        add(
            f"{region}.ec2.snapshots",
            [
                s["SnapshotId"]
                for s in _pages(
                    ec2,
                    "describe_snapshots",
                    "Snapshots",
                    OwnerIds=["self"],
                    Filters=[{"Name": "owner-id", "Values": [account.account_id]}],
                )
                if s["OwnerId"] == account.account_id
            ],
        )
        add(f"{region}.ec2.addresses", [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]])
        add(f"{region}.ec2.key_pairs", [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]])
        add(f"{region}.sqs", c("sqs").list_queues().get("QueueUrls", []))
        add(f"{region}.sns", [t["TopicArn"] for t in _pages(c("sns"), "list_topics", "Topics")])
        add(f"{region}.logs", [g["logGroupName"] for g in _pages(c("logs"), "describe_log_groups", "logGroups")])
        add(f"{region}.alarms", [a["AlarmName"] for a in _pages(c("cloudwatch"), "describe_alarms", "MetricAlarms")])
        add(f"{region}.events", [r["Name"] for r in c("events").list_rules()["Rules"]])
        add(f"{region}.ssm", [p["Name"] for p in _pages(c("ssm"), "describe_parameters", "Parameters")])
        add(f"{region}.secrets", [s["Name"] for s in _pages(c("secretsmanager"), "list_secrets", "SecretList")])
        add(f"{region}.ecr", [r["repositoryName"] for r in _pages(c("ecr"), "describe_repositories", "repositories")])
        kms = c("kms")
        live_keys = []
        for key in _pages(kms, "list_keys", "Keys"):
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta["KeyManager"] != "CUSTOMER":
                continue
            if meta["KeyState"] in {"PendingDeletion", "PendingReplicaDeletion"}:
                exceptions.append(f"{region} kms {key['KeyId']} (pending deletion)")
            else:
                live_keys.append(key["KeyId"])
        add(f"{region}.kms", live_keys)
    return found, exceptions


# --- production: aws-nuke in CodeBuild ---------------------------------------------------------------------------
def aws_nuke_config(account_id: str, regions: list[str], *, blocklist: list[str]) -> dict:
    """An aws-nuke (v3, ekristen/aws-nuke) configuration that empties one lab account and keeps CloudKida's
    own roles, anything tagged ``cloudkida:managed=true`` and each region's default network."""
    if not blocklist or account_id in blocklist:
        raise ValueError("aws-nuke needs a non-empty blocklist that does not name the account it cleans")
    keep = sorted(PROTECTED_ROLES)
    return {
        "regions": ["global", *regions],
        "blocklist": sorted(set(blocklist)),
        "bypass-alias-check-accounts": [account_id],
        "settings": {
            "EC2Instance": {"DisableDeletionProtection": True, "DisableStopProtection": True},
            "EC2Image": {"IncludeDisabled": True, "IncludeDeprecated": True, "DisableDeregistrationProtection": True},
            "CloudFormationStack": {"DisableDeletionProtection": True},
            "DynamoDBTable": {"DisableDeletionProtection": True},
            "RDSInstance": {"DisableDeletionProtection": True},
        },
        "resource-types": {"excludes": ["S3Object"]},
        "presets": {
            "cloudkida-keep": {
                "filters": {
                    "__global__": [{"property": "tag:cloudkida:managed", "value": "true"}],
                    "IAMRole": [*keep, {"type": "glob", "value": "AWSServiceRoleFor*"}],
                    "IAMRolePolicy": [{"type": "glob", "value": f"{r} -> *"} for r in keep],
                    "IAMRolePolicyAttachment": [{"type": "glob", "value": f"{r} -> *"} for r in keep],
                    "EC2VPC": [{"property": "IsDefault", "value": "true"}],
                    "EC2Subnet": [{"property": "DefaultForAz", "value": "true"}],
                    "EC2InternetGateway": [{"property": "DefaultVPC", "value": "true"}],
                    "EC2InternetGatewayAttachment": [{"property": "DefaultVPC", "value": "true"}],
                    "EC2RouteTable": [{"property": "DefaultVPC", "value": "true"}],
                    "EC2DHCPOption": [{"property": "DefaultVPC", "value": "true"}],
                    "EC2DefaultSecurityGroupRule": [{"property": "DefaultVPC", "value": "true"}],
                }
            }
        },
        "accounts": {account_id: {"presets": ["cloudkida-keep"], "filters": {}}},
    }
