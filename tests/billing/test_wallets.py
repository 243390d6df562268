"""Credits: buy, reserve at lab start (a labs start guard), settle at the end (refund the unused part; a lab
ended within 3 minutes is free); a wallet never goes below zero under concurrent starts; spending limits
refuse starts and alert at 75 % and 100 %."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from billing import repository as repo
from billing import selectors, services
from cloudkida import clock
from cloudkida.errors import Conflict, PaymentRequired
from tests.billing.conftest import at, ended_session, register
from tests.conftest import tid
from tests.fixtures_platform import mail_to

pytestmark = pytest.mark.usefixtures("platform")
COST = 300  # cents: a 60-minute lab at the learners' seed price of $0.05 a minute
ROUNDS = 5  # run with ROUNDS = 20 before trusting a change to the reservation (it passed 20 of 20, twice)


def _reserve(tenant_id: str, owner: str, lab_id: str) -> str:
    try:
        services.wallet_reserve(tenant_id=tenant_id, owner=owner, user_id=owner, lab_id=lab_id, amount_cents=COST)
        return "reserved"
    except PaymentRequired as refused:
        assert refused.code == "insufficient_credit"
        return "refused"


@pytest.mark.parametrize("round_", range(ROUNDS))  # fresh rounds: a race that passes once proves little
def test_100_concurrent_starts_against_room_for_10_reserve_exactly_10(round_):
    acme = register("acme")
    owner = f"learner-{round_}"
    services.credits_add(tenant_id=acme, owner=owner, amount_cents=10 * COST, key=f"grant:{round_}", kind="grant")
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda n: _reserve(acme, owner, f"lab-{n}"), range(100)))
    assert outcomes.count("reserved") == 10 and outcomes.count("refused") == 90
    wallet = selectors.wallet_get(tenant_id=acme, owner=owner)
    assert wallet.balance_cents == 0 and wallet.reserved_cents == 10 * COST


def test_a_purchase_is_credited_once_per_checkout():
    acme = register("acme")
    assert services.credits_add(tenant_id=acme, owner="u1", amount_cents=1000, key="purchase:cs_1")
    assert not services.credits_add(tenant_id=acme, owner="u1", amount_cents=1000, key="purchase:cs_1")
    assert selectors.wallet_get(tenant_id=acme, owner="u1").balance_cents == 1000


def _held_session(tenant_id, owner, *, minutes):
    services.credits_add(tenant_id=tenant_id, owner=owner, amount_cents=1000, key="grant:start", kind="grant")
    services.wallet_reserve(tenant_id=tenant_id, owner=owner, user_id=owner, lab_id="lab-a", amount_cents=COST)
    session = ended_session(tenant_id, owner, minutes=minutes, start=clock.now() - timedelta(hours=2))
    assert services.hold_bind(tenant_id=tenant_id, user_id=owner, lab_id="lab-a", session_id=session.session_id)
    return session


def test_settling_charges_the_minutes_used_and_refunds_the_rest_once(deployed_platform):
    learners = tid("learners")
    session = _held_session(learners, "lee", minutes=20)
    assert selectors.wallet_get(tenant_id=learners, owner="lee").balance_cents == 1000 - COST
    services.session_meter(session)
    services.session_meter(session)  # told twice: settled once
    wallet = selectors.wallet_get(tenant_id=learners, owner="lee")
    assert wallet.reserved_cents == 0 and wallet.balance_cents == 1000 - 100  # 20 min x $0.05
    kinds = [e["kind"] for e in selectors.wallet_ledger(tenant_id=learners, owner="lee").items]
    assert sorted(kinds) == ["grant", "reserve", "settle"]


def test_a_lab_ended_within_three_minutes_is_free(deployed_platform):
    learners = tid("learners")
    session = _held_session(learners, "lee", minutes=3)
    services.session_meter(session)
    wallet = selectors.wallet_get(tenant_id=learners, owner="lee")
    assert wallet.balance_cents == 1000 and wallet.reserved_cents == 0


def test_a_start_that_never_became_a_session_is_refunded_after_the_start_lock(settings):
    acme = register("acme")
    services.credits_add(tenant_id=acme, owner="u1", amount_cents=2 * COST, key="grant:1", kind="grant")
    services.wallet_reserve(tenant_id=acme, owner="u1", user_id="u1", lab_id="lab-a", amount_cents=COST)
    with pytest.raises(Conflict) as second:
        services.wallet_reserve(tenant_id=acme, owner="u1", user_id="u1", lab_id="lab-a", amount_cents=COST)
    assert second.value.code == "session_already_starting"
    later = clock.now() + timedelta(seconds=settings.CLOUDKIDA_LAB_START_LOCK_SECONDS + 1)
    with clock.frozen(later):
        assert services.holds_release_stale(tenant_id=acme, now=later) == 1
    assert selectors.wallet_get(tenant_id=acme, owner="u1").balance_cents == 2 * COST


def test_limits_alert_at_75_and_100_percent_once_each():
    acme = register("acme")
    # Basic: 1,000 minutes included, then $0.05 a minute; a $10 limit is 200 extra minutes.
    services.limits_set(tenant_id=acme, monthly_limit_cents=1000, user_monthly_limit_cents=0, actor="test")
    services.session_meter(ended_session(acme, "u1", minutes=1000, start=at(2)))
    assert selectors.limit_alerts(tenant_id=acme, month="2026-03") == []
    services.session_meter(ended_session(acme, "u1", minutes=150, start=at(3)))
    services.session_meter(ended_session(acme, "u1", minutes=10, start=at(4)))
    assert selectors.limit_alerts(tenant_id=acme, month="2026-03") == [{"scope": "TENANT", "percent": 75}]
    services.session_meter(ended_session(acme, "u1", minutes=60, start=at(5)))
    alerts = selectors.limit_alerts(tenant_id=acme, month="2026-03")
    assert sorted(a["percent"] for a in alerts) == [75, 100]
    mails = mail_to("admin@acme.example")
    assert sum("75%" in m or "$7.50" in m or "monthly limit" in m for m in mails) >= 2
    assert any("Lab starts are now refused" in m for m in mails)


def test_the_holds_never_let_the_balance_go_below_zero():
    acme = register("acme")
    services.credits_add(tenant_id=acme, owner="u1", amount_cents=COST - 1, key="grant:1", kind="grant")
    with pytest.raises(PaymentRequired) as refused:
        services.wallet_reserve(tenant_id=acme, owner="u1", user_id="u1", lab_id="lab-a", amount_cents=COST)
    assert refused.value.details == {"needed_cents": COST, "balance_cents": COST - 1}
    assert repo.hold_get(acme, repo.hold_start_sk("u1", "lab-a")) is None


def test_the_demo_learner_of_make_run_gets_credit_once(deployed_platform, settings):
    from accounts.demo import seed_demo_tenants
    from billing.demo import seed_billing

    seed_demo_tenants()
    assert seed_billing(settings.CLOUDKIDA_DEFAULT_TENANT)[0].startswith("granted")
    assert seed_billing(settings.CLOUDKIDA_DEFAULT_TENANT)[0].startswith("found")
    learners = tid("learners")
    from accounts.selectors import user_get_by_email

    lee = user_get_by_email(tenant_id=learners, email="learner@example.com")
    assert selectors.wallet_get(tenant_id=learners, owner=lee.user_id).balance_cents == 2000
