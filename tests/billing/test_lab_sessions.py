"""Billing on real lab sessions (labs' own start, provisioning and ending on moto): a learner of the shared
tenant with no credit is refused (402), buys credit through the provider's webhook, starts a lab (its cost
held by the start guard), ends it (the listener meters the minutes and settles the hold); a session whose
listener did not run is metered by the reconciliation job, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing import providers, selectors, services
from cloudkida import clock
from cloudkida.errors import PaymentRequired
from labs import ports
from labs.domain import EndReason, SessionState
from labs.selectors import lab_session_get
from labs.services import lab_session_end, lab_session_start
from tests.billing.conftest import learner
from tests.conftest import tid
from tests.labs.conftest import federation, global_lab, pool  # noqa: F401  labs fixtures

pytestmark = pytest.mark.usefixtures("deployed_platform", "pool", "federation", "fake_provider")


def _buy(tenant_id: str, owner: str, cents: int, checkout: str) -> None:
    adapter = providers.provider()
    payload = adapter.completed_checkout_payload(
        checkout_id=checkout, tenant_id=tenant_id, owner=owner, amount_cents=cents
    )
    assert services.webhook_handle(payload=payload, signature=providers.fake_signature(payload)) == "handled"


def _run(tenant_id: str, user_id: str, lab_id: str, minutes: int):
    session = lab_session_start(tenant_id=tenant_id, user_id=user_id, lab_id=lab_id, actor="test")
    assert session.state is SessionState.READY, session.failure_reason
    with clock.frozen(session.ready_at + timedelta(minutes=minutes, seconds=30)):
        lab_session_end(tenant_id=tenant_id, session_id=session.session_id, by=EndReason.LEARNER, actor="test")
    session = lab_session_get(tenant_id=tenant_id, session_id=session.session_id)
    assert session.state is SessionState.ENDED
    return session


def test_credits_pay_for_a_real_lab_and_a_missed_listener_is_reconciled():
    learners = tid("learners")
    lee = learner(learners, "lee@learner.example")
    lab = global_lab(public=True)  # 60 minutes: $3.00 held at the learners' $0.05 a minute
    with pytest.raises(PaymentRequired) as refused:
        lab_session_start(tenant_id=learners, user_id=lee, lab_id=lab.lab_id, actor="test")
    assert refused.value.code == "insufficient_credit" and refused.value.status == 402
    _buy(learners, lee, 2000, "cs_fake_lee_1")

    first = _run(learners, lee, lab.lab_id, minutes=20)  # 21 started minutes: $1.05
    wallet = selectors.wallet_get(tenant_id=learners, owner=lee)
    assert (wallet.balance_cents, wallet.reserved_cents) == (2000 - 105, 0)
    assert selectors.usage_for_user(tenant_id=learners, user_id=lee, month=first.month)["lab_minutes"] == 21

    ports.remove_session_listener(services.SESSION_METER)  # as if the listener had failed
    try:
        second = _run(learners, lee, lab.lab_id, minutes=9)
    finally:
        ports.add_session_listener(services.SESSION_METER)
    assert selectors.wallet_get(tenant_id=learners, owner=lee).reserved_cents == 300  # not settled yet
    report = services.usage_reconcile()
    assert report["metered"] == 1
    assert services.usage_reconcile()["metered"] == 0  # idempotent by session id
    wallet = selectors.wallet_get(tenant_id=learners, owner=lee)
    assert (wallet.balance_cents, wallet.reserved_cents) == (2000 - 105 - 50, 0)
    usage = selectors.usage_month(tenant_id=learners, month=second.month)
    assert usage.get("lab_minutes") == 31 and usage.get("credits_charged_cents") == 155
