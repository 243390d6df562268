"""A's tenant-scoped credentials reach only A's data: the tenant-data role's own policy (from the generated
template) and the session policy the authorizer attaches (the real one), evaluated together — moto applies
neither — against requests for A's and B's items and tables, pooled and silo."""

from __future__ import annotations

import pytest

from accounts import authorizer
from cloudkida import infrastructure
from cloudkida.dynamo import tables
from tenants.domain import Tier
from tenants.services.onboarding import onboarding_run
from tenants.services.records import tenant_create
from tests.iam import Request, evaluate, requests_for

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]

ACCOUNT, REGION = "123456789012", "us-east-1"


def _tenant(slug: str, tier: Tier) -> str:
    tenant_id = tenant_create(
        slug=slug, name=slug.title(), tier=tier, admin_email=f"a@{slug}.example", country="GB"
    ).tenant_id
    assert onboarding_run(tenant_id=tenant_id).ok
    return tenant_id


def _role_policy() -> dict:
    document = infrastructure.tenant_data_policy()
    text = str(document)
    assert "${aws:PrincipalTag/tenant}" in text
    pseudo = {"${AWS::Partition}": "aws", "${AWS::Region}": REGION, "${AWS::AccountId}": ACCOUNT}

    def fill(node):
        if isinstance(node, str):
            for k, v in pseudo.items():
                node = node.replace(k, v)
            return node
        if isinstance(node, list):
            return [fill(n) for n in node]
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        return node

    return fill(document)


def _credentials_of(tenant_id: str):
    """What a session of the tenant-data role, tagged tenant=<id>, with the authorizer's session policy, may do."""
    policies = [_role_policy(), authorizer.session_policy(tenant_id)]
    variables = {"aws:PrincipalTag/tenant": tenant_id}
    return lambda request: evaluate(policies, request, variables)


def _item_calls(table: str, tenant_id: str) -> list[Request]:
    key = {"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "USER#1"}}
    calls = [
        ("GetItem", {"TableName": table, "Key": key}),
        ("PutItem", {"TableName": table, "Item": key}),
        ("DeleteItem", {"TableName": table, "Key": key}),
        ("Query", {"TableName": table, "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{tenant_id}"}}}),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": table, "Item": key}}]}),
    ]
    return [r for op, params in calls for r in requests_for("dynamodb", op, params, REGION, ACCOUNT)]


def test_pooled_credentials_reach_their_own_partition_only():
    a, b = _tenant("alpha", Tier.BASIC), _tenant("beta", Tier.PREMIUM)
    pooled = tables.pooled_table().name
    allowed = _credentials_of(a)
    assert all(allowed(r) for r in _item_calls(pooled, a))
    assert not any(allowed(r) for r in _item_calls(pooled, b))
    # A transaction that touches B's partition even once is refused whole.
    mixed = requests_for(
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": pooled, "Item": {"PK": {"S": f"TENANT#{t}"}}}} for t in (a, b)]},
        REGION,
        ACCOUNT,
    )
    assert [allowed(r) for r in mixed] == [True, False]
    # Not the control table, not any silo table, not table management.
    assert not any(allowed(r) for r in _item_calls(tables.control_table().name, a))
    assert not any(allowed(r) for r in _item_calls(tables.silo_table(a).name, a))
    assert not allowed(Request("dynamodb:DeleteTable", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{pooled}"))
    # A prefix of another tenant's key is not the tenant's key.
    assert not allowed(
        Request(
            "dynamodb:GetItem",
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{pooled}",
            (("dynamodb:LeadingKeys", (f"TENANT#{a}X",)),),
        )
    )


def test_silo_credentials_reach_their_own_table_only():
    a, b = _tenant("alpha", Tier.PLATINUM), _tenant("beta", Tier.PLATINUM)
    allowed = _credentials_of(a)
    assert all(allowed(r) for r in _item_calls(tables.silo_table(a).name, a))
    assert all(
        allowed(r)
        for r in requests_for(
            "dynamodb", "Query", {"TableName": tables.silo_table(a).name, "IndexName": "GSI1"}, REGION, ACCOUNT
        )
    )
    assert not any(allowed(r) for r in _item_calls(tables.silo_table(b).name, b))
    assert not any(allowed(r) for r in _item_calls(tables.silo_table(b).name, a))
    assert not any(allowed(r) for r in _item_calls(tables.pooled_table().name, a))


def test_the_role_alone_already_confines_a_session_to_its_tag():
    """Defence in depth: even a session policy that allowed everything would leave B's data out of reach."""
    a, b = _tenant("alpha", Tier.BASIC), _tenant("beta", Tier.PLATINUM)
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policies = [_role_policy(), everything]
    tagged_a = {"aws:PrincipalTag/tenant": a}
    assert all(evaluate(policies, r, tagged_a) for r in _item_calls(tables.pooled_table().name, a))
    assert not any(evaluate(policies, r, tagged_a) for r in _item_calls(tables.pooled_table().name, b))
    assert not any(evaluate(policies, r, tagged_a) for r in _item_calls(tables.silo_table(b).name, b))
    assert not any(evaluate(policies, r, {}) for r in _item_calls(tables.pooled_table().name, a))  # untagged: nothing
