"""Groups (cohorts, classes) and the policies of a tenant and its groups."""

from __future__ import annotations

import pytest

from accounts.domain import Policy
from accounts.selectors import (
    combine_policies,
    group_get,
    group_list,
    group_member_ids,
    policy_for_user,
    user_get_by_email,
    user_group_ids,
)
from accounts.services import (
    group_add_member,
    group_create,
    group_delete,
    group_remove_member,
    group_update,
    policy_set,
    user_create,
)
from cloudkida.errors import Conflict, NotFound, ValidationFailed
from tests.conftest import tid
from tests.identity.conftest import register

pytestmark = pytest.mark.usefixtures("platform")


@pytest.fixture
def acme() -> str:
    register("acme")
    return tid("acme")


def _user(tenant_id: str, name: str) -> str:
    return user_create(tenant_id=tenant_id, email=f"{name}@acme.example", name=name).user_id


def test_groups_are_created_renamed_and_named_uniquely(acme):
    group = group_create(tenant_id=acme, name="  Cohort   2027 ", description="Autumn intake")
    assert group.name == "Cohort 2027" and group.member_count == 0
    with pytest.raises(Conflict):
        group_create(tenant_id=acme, name="cohort 2027")
    renamed = group_update(tenant_id=acme, group_id=group.group_id, expected_version=group.version, name="Cohort A")
    assert renamed.name == "Cohort A"
    group_create(tenant_id=acme, name="Cohort 2027")  # the old name is free again
    with pytest.raises(Conflict) as stale:
        group_update(tenant_id=acme, group_id=group.group_id, expected_version=group.version, name="Lost")
    assert stale.value.code == "version_conflict"
    assert sorted(g.name for g in group_list(tenant_id=acme).items) == ["Cohort 2027", "Cohort A"]
    with pytest.raises(ValidationFailed):
        group_create(tenant_id=acme, name="   ")


def test_memberships_are_idempotent_counted_and_found_both_ways(acme):
    a, b = group_create(tenant_id=acme, name="A"), group_create(tenant_id=acme, name="B")
    ada = _user(acme, "ada")
    assert group_add_member(tenant_id=acme, group_id=a.group_id, user_id=ada) is True
    assert group_add_member(tenant_id=acme, group_id=a.group_id, user_id=ada) is False
    assert group_add_member(tenant_id=acme, group_id=b.group_id, user_id=ada) is True
    assert sorted(user_group_ids(tenant_id=acme, user_id=ada)) == sorted([a.group_id, b.group_id])
    assert group_member_ids(tenant_id=acme, group_id=a.group_id).items == [ada]
    assert group_get(tenant_id=acme, group_id=a.group_id).member_count == 1
    with pytest.raises(Conflict) as not_empty:
        group_delete(
            tenant_id=acme, group_id=a.group_id, expected_version=group_get(tenant_id=acme, group_id=a.group_id).version
        )
    assert not_empty.value.code == "group_not_empty"
    assert group_remove_member(tenant_id=acme, group_id=a.group_id, user_id=ada) is True
    assert group_remove_member(tenant_id=acme, group_id=a.group_id, user_id=ada) is False
    current = group_get(tenant_id=acme, group_id=a.group_id)
    assert current.member_count == 0
    group_delete(tenant_id=acme, group_id=a.group_id, expected_version=current.version)
    with pytest.raises(NotFound):
        group_get(tenant_id=acme, group_id=a.group_id)
    with pytest.raises(NotFound):
        group_add_member(tenant_id=acme, group_id=a.group_id, user_id=ada)
    with pytest.raises(NotFound):
        group_add_member(tenant_id=acme, group_id=b.group_id, user_id="nobody")


def test_another_tenants_groups_and_users_are_not_found(acme):
    register("globex")
    globex = tid("globex")
    theirs = group_create(tenant_id=globex, name="Theirs")
    ada = _user(acme, "ada")
    with pytest.raises(NotFound):
        group_get(tenant_id=acme, group_id=theirs.group_id)
    with pytest.raises(NotFound):
        group_add_member(tenant_id=acme, group_id=theirs.group_id, user_id=ada)
    with pytest.raises(NotFound):
        group_add_member(tenant_id=globex, group_id=theirs.group_id, user_id=ada)
    assert group_list(tenant_id=acme).items == []


def test_policies_validate_their_values(acme):
    with pytest.raises(ValidationFailed) as region:
        policy_set(tenant_id=acme, expected_version=0, allowed_regions=["us-east-1", "mars-north-1"])
    assert region.value.code == "invalid_region" and region.value.details["unknown"] == ["mars-north-1"]
    for bad in (
        {"max_concurrent_labs": 0},
        {"max_concurrent_labs": 51},
        {"monthly_lab_minutes": -1},
        {"max_concurrent_labs": "2"},
    ):
        with pytest.raises(ValidationFailed):
            policy_set(tenant_id=acme, expected_version=0, **bad)
    saved = policy_set(tenant_id=acme, expected_version=0, max_concurrent_labs=2, allowed_regions=["EU-West-1"])
    assert saved.version == 1 and saved.allowed_regions == ["eu-west-1"]
    cleared = policy_set(tenant_id=acme, expected_version=1, max_concurrent_labs=None)
    assert cleared.max_concurrent_labs is None and cleared.allowed_regions is None
    with pytest.raises(Conflict):
        policy_set(tenant_id=acme, expected_version=1, max_concurrent_labs=3)


def test_a_users_policy_is_the_tenants_capping_the_most_generous_of_their_groups(acme):
    ada, bob, cy = _user(acme, "ada"), _user(acme, "bob"), _user(acme, "cy")
    a, b = group_create(tenant_id=acme, name="A"), group_create(tenant_id=acme, name="B")
    policy_set(tenant_id=acme, expected_version=0, max_concurrent_labs=3, allowed_regions=["us-east-1", "eu-west-1"])
    policy_set(
        tenant_id=acme,
        group_id=a.group_id,
        expected_version=0,
        max_concurrent_labs=1,
        allowed_lab_ids=["lab-1"],
        allowed_regions=["eu-west-1", "ap-south-1"],
    )
    policy_set(
        tenant_id=acme,
        group_id=b.group_id,
        expected_version=0,
        max_concurrent_labs=5,
        allowed_lab_ids=["lab-2"],
        monthly_lab_minutes=600,
        allowed_regions=["us-east-1"],
    )
    group_add_member(tenant_id=acme, group_id=a.group_id, user_id=ada)
    for group in (a, b):
        group_add_member(tenant_id=acme, group_id=group.group_id, user_id=bob)

    only_a = policy_for_user(tenant_id=acme, user_id=ada)
    assert only_a.max_concurrent_labs == 1 and only_a.allowed_lab_ids == {"lab-1"}
    assert only_a.allowed_regions == {"eu-west-1"}  # ap-south-1 is outside the tenant's regions
    assert only_a.monthly_lab_minutes is None and only_a.allows_lab("lab-1") and not only_a.allows_lab("lab-2")
    both = policy_for_user(tenant_id=acme, user_id=bob)
    assert both.max_concurrent_labs == 3  # the groups' 5, capped by the tenant's 3
    assert both.allowed_lab_ids == {"lab-1", "lab-2"} and both.allowed_regions == {"us-east-1", "eu-west-1"}
    assert both.monthly_lab_minutes is None  # group A leaves it open
    no_group = policy_for_user(tenant_id=acme, user_id=cy)
    assert no_group.max_concurrent_labs == 3 and no_group.allowed_lab_ids is None


def test_combining_is_pure_and_a_group_without_a_policy_does_not_restrict():
    tenant = Policy(tenant_id="t", monthly_lab_minutes=100)
    restricted = Policy(tenant_id="t", group_id="g1", monthly_lab_minutes=30, allowed_lab_ids=["x"])
    assert combine_policies(tenant, [restricted], member_of=1).monthly_lab_minutes == 30
    open_too = combine_policies(tenant, [restricted], member_of=2)  # a second group with no policy
    assert open_too.monthly_lab_minutes == 100 and open_too.allowed_lab_ids is None


def test_deleting_a_group_removes_its_policy(acme):
    group = group_create(tenant_id=acme, name="Temporary")
    policy_set(tenant_id=acme, group_id=group.group_id, expected_version=0, max_concurrent_labs=1)
    group_delete(tenant_id=acme, group_id=group.group_id, expected_version=group.version)
    again = group_create(tenant_id=acme, name="Temporary")
    assert again.group_id != group.group_id
    from accounts import repository

    assert repository.policy_get(acme, group.group_id).version == 0
    assert user_get_by_email(tenant_id=acme, email="nobody@acme.example") is None
