"""The audit log filtered by actor, action and day, readable and exportable; the one tier table."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import group_create
from cloudkida import clock
from tenants.audit import event_details, event_summary
from tenants.domain import AuditEvent, Tier
from tenants.plans import PLANS, plan_for, plan_list
from tenants.services import audit
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.django_db]


@pytest.mark.usefixtures("platform")
def test_audit_events_are_filtered_by_actor_action_and_days_and_exported():
    register("acme")
    acme = bearer(login("acme", "admin@acme.example"))
    acme_id = tid("acme")
    for day, action, actor in [
        (3, "user.invited", "TenantAdmin:admin@acme.example"),
        (4, "user.invited", "apikey:ck1"),
        (5, "group.created", "TenantAdmin:admin@acme.example"),
        (6, "user.invited", "TenantAdmin:admin@acme.example"),
    ]:
        with clock.frozen(datetime(2030, 1, day, 12, tzinfo=UTC)):
            audit(acme_id, action, actor, email=f"d{day}@acme.example", role="TenantUser")

    def actions(**params):
        response = acme.get("/api/v1/audit-events", params)
        assert response.status_code == 200, response.json()
        return [(e["at"][:10], e["action"]) for e in response.json()["results"]]

    assert actions(since="2030-01-04", until="2030-01-05") == [
        ("2030-01-05", "group.created"),
        ("2030-01-04", "user.invited"),
    ]
    assert actions(action="user.invited", since="2030-01-01") == [
        ("2030-01-06", "user.invited"),
        ("2030-01-04", "user.invited"),
        ("2030-01-03", "user.invited"),
    ]
    assert actions(actor="apikey:ck1") == [("2030-01-04", "user.invited")]
    until = actions(until="2030-01-03")
    assert until[0] == ("2030-01-03", "user.invited") and all(at < "2030-01-03" for at, _ in until[1:])
    assert acme.get("/api/v1/audit-events", {"since": "2030-02-01", "until": "2030-01-01"}).status_code == 400
    first = acme.get("/api/v1/audit-events", {"since": "2030-01-01", "limit": 2}).json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    other = acme.get("/api/v1/audit-events", {"since": "2030-01-02", "cursor": first["next_cursor"]})
    assert other.status_code == 400 and other.json()["code"] == "invalid_cursor"
    event = acme.get("/api/v1/audit-events", {"actor": "apikey:ck1"}).json()["results"][0]
    assert event["summary"] == "Invited d4@acme.example as TenantUser"

    export = acme.get("/api/v1/audit-events/export", {"action": "user.invited", "since": "2030-01-01"})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["at", "action", "actor", "summary", "details"] and len(rows) == 4
    assert rows[1][3] == "Invited d6@acme.example as TenantUser" and "email: d6@acme.example" in rows[1][4]


def test_audit_details_read_as_sentences_and_labelled_values():
    event = AuditEvent("t", clock.now(), "group.created", "TenantAdmin:a", {"name": "Cohort", "group_id": "g1"})
    assert event_summary(event) == "Created the group Cohort"
    assert event_details(event) == [("group id", "g1"), ("name", "Cohort")]
    unknown = AuditEvent("t", clock.now(), "lab.session_started", "x", {"lab": {"id": "l1", "region": "eu-west-1"}})
    assert event_summary(unknown) == "Lab session started"
    assert event_details(unknown) == [("lab", "id: l1, region: eu-west-1")]
    missing = AuditEvent("t", clock.now(), "tenant.renamed", "x", {"to": "acme2"})
    assert event_summary(missing) == "Subdomain changed from to acme2"
    group_create  # noqa: B018 - accounts' descriptions are registered when the app loads
    invited = AuditEvent("t", clock.now(), "user.invited", "x", {"email": "a@b.example", "role": "TenantUser"})
    assert event_summary(invited) == "Invited a@b.example as TenantUser"


def test_the_tier_table_covers_every_tier_and_takes_rate_limits_from_settings(settings, moto):  # prices: DynamoDB
    assert set(PLANS) == set(Tier) and [p.tier for p in plan_list()] == list(Tier)
    assert set(settings.CLOUDKIDA_TIER_LIMITS) == {t.value for t in Tier}
    fees = [p.monthly_fee_usd for p in plan_list()]
    assert fees == sorted(fees) and all(p.seats > 0 and p.included_lab_minutes > 0 for p in plan_list())
    assert plan_for("platinum").isolation.value == "silo" and plan_for(Tier.BASIC).isolation.value == "pooled"
    settings.CLOUDKIDA_TIER_LIMITS = {
        **settings.CLOUDKIDA_TIER_LIMITS,
        "basic": {"rate": 1, "burst": 2, "quota_per_day": 3},
    }
    assert plan_for("basic").rate_limits == {"rate": 1, "burst": 2, "quota_per_day": 3}


def test_plans_are_public(moto):  # the plan cards read the prices in force (billing's table)
    response = APIClient().get("/api/v1/plans")
    assert response.status_code == 200
    plans = response.json()["results"]
    assert [p["tier"] for p in plans] == ["basic", "standard", "premium", "platinum"]
    basic = plans[0]
    assert basic["monthly_fee_usd"] == "49.00" and basic["seats"] == 25 and basic["isolation"] == "pooled"
    assert basic["rate_limits"] == {k: float(v) for k, v in settings.CLOUDKIDA_TIER_LIMITS["basic"].items()}
