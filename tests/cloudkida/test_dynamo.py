"""The repository layer: isolation, conditional writes, optimistic locking, cursors, the Scan guard."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import signing

from accounts import repository as users_repo
from accounts.domain import Role
from accounts.selectors import user_get_by_email, user_list
from accounts.services import user_create, user_update
from cloudkida.dynamo import QueryScope, Table, Unique, maintenance, tables, tenant_pk
from cloudkida.dynamo.cursor import encode
from cloudkida.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from cloudkida.ids import new_ulid
from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_get_by_slug
from tenants.services import tenant_create

pytestmark = pytest.mark.usefixtures("moto")


@pytest.fixture
def acme_and_acme_corp():
    """Two tenants whose slugs prefix each other; returns their ids."""
    acme, corp = (
        tenant_create(slug=slug, name=f"{slug} inc", tier=Tier.BASIC, status=TenantStatus.ACTIVE).tenant_id
        for slug in ("acme", "acme-corp")
    )
    for n in range(3):
        user_create(tenant_id=acme, email=f"user{n}@acme.example", name=f"Acme {n}")
        user_create(tenant_id=corp, email=f"user{n}@corp.example", name=f"Corp {n}")
    return acme, corp


def test_tenant_reads_are_exact_never_by_prefix(acme_and_acme_corp):
    acme, corp = acme_and_acme_corp
    acme_users = user_list(tenant_id=acme, limit=100).items
    corp_users = user_list(tenant_id=corp, limit=100).items
    assert {u.tenant_id for u in acme_users} == {acme} and len(acme_users) == 3
    assert {u.tenant_id for u in corp_users} == {corp} and len(corp_users) == 3
    # A user id of acme-corp asked for through acme is simply not there.
    assert users_repo.get(acme, corp_users[0].user_id) is None
    assert user_get_by_email(tenant_id=acme, email="user0@corp.example") is None


def test_same_email_may_exist_in_two_tenants_but_not_twice_in_one(acme_and_acme_corp):
    acme, corp = acme_and_acme_corp
    user_create(tenant_id=corp, email="USER0@acme.example", name="Same address, other tenant")
    with pytest.raises(Conflict) as raised:
        user_create(tenant_id=acme, email="user0@ACME.example", name="Duplicate")
    assert raised.value.code == "already_exists"
    assert raised.value.details["constraint"] == "email"


def test_tenant_ids_that_could_confuse_keys_are_refused():
    good = new_ulid()
    for bad in (
        "acme#x",
        "acme",
        "ACME",
        "a",
        good.upper(),
        good[:-1],
        good + "0",
        good[:-1] + "#",
        "8" + good[1:],
        "",
    ):
        with pytest.raises(ValidationFailed):
            tenant_pk(bad)
    assert tenant_pk(good) == f"TENANT#{good}"


def test_tenant_ids_are_never_reused_and_sort_by_creation():
    ids = [new_ulid() for _ in range(1000)]
    assert len(set(ids)) == 1000
    later = datetime.now(UTC) + timedelta(seconds=1)
    from cloudkida import clock

    with clock.frozen(later):
        assert new_ulid() > max(ids)


def test_concurrent_creates_of_one_unique_key_have_exactly_one_winner():
    race = tenant_create(slug="race", name="Race", tier=Tier.BASIC, status=TenantStatus.ACTIVE).tenant_id
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            user_create(tenant_id=race, email="same@race.example", name=f"Thread {n}")
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert len(user_list(tenant_id=race, limit=100).items) == 1


def test_concurrent_signups_with_one_slug_create_one_tenant():
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            tenant_create(slug="contested", name=f"Contested {n}", tier=Tier.BASIC)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1
    # The losers left no name marker behind: every other name is still free.
    for n in range(6):
        if f"Contested {n}" != _winner_name():
            tenant_create(slug=f"contested-{n}", name=f"Contested {n}", tier=Tier.BASIC)


def _winner_name() -> str:
    return tenant_get_by_slug(slug="contested").name


def test_stale_version_raises_conflict_and_keeps_the_winning_write(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    user = user_list(tenant_id=acme, limit=1).items[0]
    user_update(tenant_id=acme, user_id=user.user_id, expected_version=user.version, name="First writer")
    with pytest.raises(Conflict) as raised:
        user_update(tenant_id=acme, user_id=user.user_id, expected_version=user.version, name="Stale writer")
    assert raised.value.code == "version_conflict"
    assert raised.value.status == 409
    assert raised.value.details == {"expected_version": 1, "current_version": 2}
    assert users_repo.get(acme, user.user_id).name == "First writer"


def test_changing_an_email_moves_its_uniqueness_marker(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    user = user_get_by_email(tenant_id=acme, email="user1@acme.example")
    user_update(tenant_id=acme, user_id=user.user_id, expected_version=user.version, email="new@acme.example")
    assert user_get_by_email(tenant_id=acme, email="user1@acme.example") is None
    assert user_get_by_email(tenant_id=acme, email="new@acme.example").user_id == user.user_id
    user_create(tenant_id=acme, email="user1@acme.example", name="Reuses the freed address")
    with pytest.raises(Conflict):
        user_create(tenant_id=acme, email="new@acme.example", name="Taken")


def test_update_of_a_missing_item_is_not_found(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    with pytest.raises(NotFound):
        user_update(tenant_id=acme, user_id="nope", expected_version=1, name="x")


def test_delete_removes_item_and_marker_and_honours_version(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    user = user_get_by_email(tenant_id=acme, email="user2@acme.example")
    stale = users_repo.get(acme, user.user_id)
    stale.version = 99
    with pytest.raises(Conflict):
        users_repo.delete(acme, stale)
    users_repo.delete(acme, user)
    assert users_repo.get(acme, user.user_id) is None
    user_create(tenant_id=acme, email="user2@acme.example", name="Address free again")


def test_pages_follow_cursors_to_the_end_without_repeats():
    paged = tenant_create(slug="paged", name="Paged", tier=Tier.BASIC, status=TenantStatus.ACTIVE).tenant_id
    for n in range(7):
        user_create(tenant_id=paged, email=f"p{n}@paged.example", name=str(n))
    seen, cursor = [], None
    while True:
        page = user_list(tenant_id=paged, limit=3, cursor=cursor)
        seen += [u.email for u in page.items]
        cursor = page.cursor
        if not cursor:
            break
    assert sorted(seen) == sorted(f"p{n}@paged.example" for n in range(7))


def test_tampered_cursor_is_refused(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    cursor = user_list(tenant_id=acme, limit=1).cursor
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    with pytest.raises(ValidationFailed) as raised:
        user_list(tenant_id=acme, limit=1, cursor=tampered)
    assert raised.value.code == "invalid_cursor" and raised.value.status == 400
    with pytest.raises(ValidationFailed):
        user_list(tenant_id=acme, limit=1, cursor="not-a-cursor")


def test_cursor_of_another_tenant_is_refused(acme_and_acme_corp):
    acme, corp = acme_and_acme_corp
    acme_cursor = user_list(tenant_id=acme, limit=1).cursor
    with pytest.raises(ValidationFailed) as raised:
        user_list(tenant_id=corp, limit=1, cursor=acme_cursor)
    assert raised.value.code == "invalid_cursor"


def test_forged_cursor_signed_with_another_key_is_refused(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    table = tables.pooled_table().name
    scope = QueryScope(acme, table, "", tenant_pk(acme), "USER#")
    forged = signing.dumps({"t": acme, "q": scope.fingerprint(), "k": {}}, key="x" * 50, salt="cloudkida.dynamo.cursor")
    with pytest.raises(ValidationFailed):
        user_list(tenant_id=acme, limit=1, cursor=forged)


def test_validly_signed_cursor_pointing_into_another_partition_is_refused(acme_and_acme_corp):
    acme, corp = acme_and_acme_corp
    """Even a correctly signed cursor cannot move the query to another tenant's partition."""
    table = tables.pooled_table().name
    scope = QueryScope(acme, table, "", tenant_pk(acme), "USER#")
    start = {"PK": {"S": tenant_pk(corp)}, "SK": {"S": "USER#0"}}
    with pytest.raises(ValidationFailed):
        Table(table).query(scope=scope, limit=5, cursor=encode(scope, start))


def test_expired_cursor_is_refused(acme_and_acme_corp, settings):
    acme, _corp = acme_and_acme_corp
    from cloudkida import clock

    cursor = user_list(tenant_id=acme, limit=1).cursor
    settings.CLOUDKIDA_CURSOR_MAX_AGE = 60
    later = datetime.now(UTC) + timedelta(minutes=5)
    with clock.frozen(later), pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.core.signing.time.time", lambda: later.timestamp())
        with pytest.raises(ValidationFailed) as raised:
            user_list(tenant_id=acme, limit=1, cursor=cursor)
    assert "expired" in raised.value.message


def test_page_size_is_bounded(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    with pytest.raises(ValidationFailed):
        user_list(tenant_id=acme, limit=1000)


@pytest.mark.any_item_kind
def test_create_is_conditional():
    table = Table(tables.control_table().name)
    table.create({"PK": "X", "SK": "Y", "a": 1})
    with pytest.raises(Conflict):
        table.create({"PK": "X", "SK": "Y", "a": 2})
    assert table.get("X", "Y")["a"] == 1


def test_unique_markers_are_platform_wide_or_per_tenant():
    assert Unique("name", "Acme").key() == {"PK": "UNIQ#NAME#acme", "SK": "UNIQ"}
    acme = new_ulid()
    assert Unique("email", "A@x.io", tenant_id=acme).key() == {"PK": f"TENANT#{acme}", "SK": "UNIQ#EMAIL#a@x.io"}


def test_a_missing_table_is_a_5xx_not_a_client_error(settings):
    settings.CLOUDKIDA_RESOURCE_PREFIX = "cloudkida-missing"
    with pytest.raises(ServiceUnavailable) as raised:
        Table(tables.control_table().name).get("X", "Y")
    assert raised.value.status == 503


def test_scan_is_allowed_inside_maintenance(scan_guard):
    table = Table(tables.control_table().name)
    with maintenance("test: listing every item"):
        assert list(table.scan_for_maintenance()) == []
    assert scan_guard.violations == []
    with pytest.raises(RuntimeError):
        list(table.scan_for_maintenance())


def test_scan_guard_fails_a_test_that_scans():
    """Run a test that scans in a fresh pytest process: the guard must turn it red."""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/cloudkida/scan_guard_demo.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Scan outside maintenance()" in result.stdout
    assert "1 passed, 1 error" in result.stdout


def test_a_version_guarded_update_uses_one_request(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    from benchmarks.counting import count_requests

    user = user_get_by_email(tenant_id=acme, email="user0@acme.example")
    with count_requests() as counts:
        users_repo.update(acme, user, name="Renamed")
    assert counts.by_operation == {"UpdateItem": 1}
    renamed = users_repo.get(acme, user.user_id)
    with count_requests() as counts:  # a role change moves the counts too: one transaction, one read back
        users_repo.update(acme, renamed, role=Role.TENANT_ADMIN)
    assert counts.by_operation == {"GetItem": 1, "TransactWriteItems": 1}


def test_role_is_stored_and_read_back(acme_and_acme_corp):
    acme, _corp = acme_and_acme_corp
    user = user_create(tenant_id=acme, email="boss@acme.example", name="Boss", role=Role.TENANT_ADMIN)
    assert users_repo.get(acme, user.user_id).role is Role.TENANT_ADMIN
