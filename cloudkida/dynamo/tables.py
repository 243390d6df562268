"""Table specs in code, and their idempotent creation.

Three kinds of table share one key schema (PK/SK plus two overloaded GSIs):
- the control table: platform-wide records (tenants, hostnames, tiers, the account pool);
- the pooled tenant-data table: items of every pooled tenant, partitioned by ``TENANT#<id>``;
- silo tenant-data tables: one per Platinum tenant, created on demand from the same spec.
All are on-demand, with point-in-time recovery and a TTL attribute (``expires_at``, epoch seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws
from cloudkida.dynamo.keys import check_tenant_id

TTL_ATTRIBUTE = "expires_at"
INDEXES = ("GSI1", "GSI2")


@dataclass(frozen=True)
class TableSpec:
    """What a table looks like; ``name`` is the full AWS name."""

    name: str
    kind: str  # control | tenant-data

    def create_request(self) -> dict:
        attributes = ["PK", "SK"] + [f"{index}{part}" for index in INDEXES for part in ("PK", "SK")]
        return {
            "TableName": self.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": f"{index}PK", "KeyType": "HASH"},
                        {"AttributeName": f"{index}SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in INDEXES
            ],
            "SSESpecification": {"Enabled": True},
            "Tags": [
                {"Key": "cloudkida:table-kind", "Value": self.kind},
                {"Key": "cloudkida:prefix", "Value": settings.CLOUDKIDA_RESOURCE_PREFIX},
            ],
        }


def control_table() -> TableSpec:
    return TableSpec(name=f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-control", kind="control")


def pooled_table() -> TableSpec:
    return TableSpec(name=f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-data", kind="tenant-data")


def silo_table(tenant_id: str) -> TableSpec:
    return TableSpec(
        name=f"{settings.CLOUDKIDA_RESOURCE_PREFIX}-tenant-{check_tenant_id(tenant_id)}",
        kind="tenant-data",
    )


def platform_tables() -> list[TableSpec]:
    return [control_table(), pooled_table()]


def table_kind(name: str) -> str:
    """``control`` for the control table, ``tenant-data`` for the pooled and every silo table."""
    return "control" if name == control_table().name else "tenant-data"


def create_table(spec: TableSpec) -> bool:
    """Ask DynamoDB for the table unless it exists; returns at once (True if asked now). See ``table_ready``."""
    try:
        aws.client("dynamodb").create_table(**spec.create_request())
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return False
    return True


def table_ready(spec: TableSpec) -> bool:
    """Whether the table is ACTIVE; once it is, TTL and point-in-time recovery are made sure of (idempotent)."""
    status = aws.client("dynamodb").describe_table(TableName=spec.name)["Table"]["TableStatus"]
    if status != "ACTIVE":
        return False
    ensure_table_settings(spec)
    return True


def ensure_table(spec: TableSpec) -> bool:
    """Create the table unless it exists, wait for it, and make sure TTL and point-in-time recovery are on.

    Local runs and tests only (it waits up to a minute); a workflow step uses ``create_table`` and polls
    ``table_ready`` instead. Returns True if it was created now.
    """
    created = create_table(spec)
    aws.client("dynamodb").get_waiter("table_exists").wait(
        TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ensure_table_settings(spec)
    return created


def ensure_table_settings(spec: TableSpec) -> None:
    """Turn on TTL and point-in-time recovery where they are off (two reads when both already are)."""
    dynamodb = aws.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}:
        dynamodb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    backups = dynamodb.describe_continuous_backups(TableName=spec.name)["ContinuousBackupsDescription"]
    if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=spec.name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def drop_table(spec: TableSpec) -> bool:
    """Delete the table if it exists. Returns True if it was deleted now."""
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb.delete_table(TableName=spec.name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True
