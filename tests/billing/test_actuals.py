"""Actual lab AWS spend from Cost Explorer (moto's CE serving canned results, as AWS shapes them): a run
records each session's actual once (replacing its estimate), a rerun records nothing, a revised figure
records only its difference, a revision after the month was invoiced is an adjustment line on the next
invoice, and an account's cost bills only the tenant whose session held it that day."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from moto.ce.models import ce_backends
from moto.core import DEFAULT_ACCOUNT_ID

from billing import repository as repo
from billing import selectors, services
from cloudkida import clock
from labs.services.pool import shard_register
from tests.billing.conftest import at, ended_session, register

pytestmark = [pytest.mark.usefixtures("platform", "fake_provider")]
ACME_ACCOUNT, GLOBEX_ACCOUNT, IDLE_ACCOUNT = "111111111111", "222222222222", "333333333333"


def _serve(days: dict[str, dict[str, str]]) -> None:
    """What Cost Explorer answers next: per day, USD per linked account (a day with no accounts is known
    and cost nothing). moto keeps one answer per request body, so its memory of past answers is cleared."""
    backend = ce_backends[DEFAULT_ACCOUNT_ID]["global"]
    backend.cost_usage_results.clear()
    backend.cost_usage_results_queue[:] = [
        {
            "ResultsByTime": [
                {
                    "TimePeriod": {"Start": day, "End": day},
                    "Total": {},
                    "Estimated": True,
                    "Groups": [
                        {"Keys": [account], "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}
                        for account, amount in accounts.items()
                    ],
                }
                for day, accounts in days.items()
            ],
            "DimensionValueAttributes": [],
        }
    ]


def _run(when: datetime) -> dict[str, int]:
    with clock.frozen(when):
        return services.actual_spend_reconcile()


def _spend(tenant_id: str, month: str) -> tuple[int, int, int, int]:
    usage = selectors.usage_month(tenant_id=tenant_id, month=month)
    return (
        usage.get("spend_estimated_cents"),
        usage.get("spend_actual_cents"),
        usage.get("adjusted_spend_estimated_cents"),
        usage.get("adjusted_spend_actual_cents"),
    )


@pytest.fixture
def leased():
    """Acme's session held account 1111 on 10 March (estimated $1.25); Globex's held 2222 on 10 March and
    then 1111 on 11 March; nobody held 3333."""
    shard_register(shard_id="main")
    acme, globex = register("acme"), register("globex", tier="standard")
    a = replace(ended_session(acme, "u1", minutes=60, start=at(10), spend_usd=1.25), account_id=ACME_ACCOUNT)
    g1 = replace(ended_session(globex, "g1", minutes=30, start=at(10, 14)), account_id=GLOBEX_ACCOUNT)
    g2 = replace(ended_session(globex, "g1", minutes=30, start=at(11, 9)), account_id=ACME_ACCOUNT)
    for session in (a, g1, g2):
        services.session_meter(session)
    return acme, globex, a, g1, g2


MARCH = {
    "2026-03-09": {},
    "2026-03-10": {ACME_ACCOUNT: "4.00", GLOBEX_ACCOUNT: "0.50", IDLE_ACCOUNT: "9.00"},
    "2026-03-11": {ACME_ACCOUNT: "1.00"},
}


def test_a_run_records_actuals_once_and_a_rerun_records_nothing(leased):
    acme, globex, a, _g1, _g2 = leased
    assert _spend(acme, "2026-03") == (125, 0, 0, 0)
    _serve(MARCH)
    report = _run(at(12, 6))
    assert report["recorded"] == 3 and report["unattributed_cents"] == 900
    # The actual replaces the estimate: the event carries actual − estimate.
    assert _spend(acme, "2026-03") == (125, 400 - 125, 0, 0)
    assert repo.event_exists(acme, "2026-03", f"lab_spend_actual:{a.session_id}:r1")
    again = _run(at(12, 6))
    assert again["recorded"] == 0 and again["sessions"] == 3
    assert _spend(acme, "2026-03") == (125, 275, 0, 0)
    assert _spend(globex, "2026-03") == (0, 50 + 100, 0, 0)


def test_an_account_held_by_one_tenant_never_bills_another(leased):
    acme, globex, a, g1, g2 = leased
    _serve(MARCH)
    _run(at(12, 6))
    # 1111's 10 March is Acme's alone; its 11 March is Globex's alone; 3333 is nobody's.
    assert selectors.usage_breakdown(tenant_id=acme, month="2026-03", by="user") == [
        ("u1", {"lab_minutes": 60, "spend_estimated_cents": 125, "spend_actual_cents": 275, **_events(2)})
    ]
    assert repo.actual_get(globex, a.session_id) is None and repo.actual_get(acme, g2.session_id) is None
    assert repo.actual_get(globex, g2.session_id)["days"] == {"2026-03-11": 100}
    assert repo.actual_get(globex, g1.session_id)["days"] == {"2026-03-10": 50}
    assert _spend(acme, "2026-03")[1] == 275 and _spend(globex, "2026-03")[1] == 150


def _events(actuals: int) -> dict[str, int]:
    return {"events_lab_minutes": 1, "events_lab_spend_estimated": 1, "events_lab_spend_actual": actuals - 1}


def test_a_revised_figure_records_only_its_difference(leased):
    acme, _globex, a, _g1, _g2 = leased
    _serve(MARCH)
    _run(at(12, 6))
    _serve({**MARCH, "2026-03-10": {**MARCH["2026-03-10"], ACME_ACCOUNT: "4.40"}})
    report = _run(at(13, 6))
    assert report["recorded"] == 1  # only Acme's session changed
    assert _spend(acme, "2026-03") == (125, 275 + 40, 0, 0)
    assert repo.actual_get(acme, a.session_id)["revision"] == 2
    assert repo.event_exists(acme, "2026-03", f"lab_spend_actual:{a.session_id}:r2")
    assert _run(at(13, 6))["recorded"] == 0


def test_a_day_shared_by_two_sessions_is_split_by_the_time_each_held_the_account():
    shard_register(shard_id="main")
    acme, globex = register("acme"), register("globex")
    # Acme held 1111 from 08:00 to 09:07, Globex from 12:00 to 15:07: 67 and 187 minutes of the day.
    a = replace(ended_session(acme, "u1", minutes=60, start=at(10, 8)), account_id=ACME_ACCOUNT)
    g = replace(ended_session(globex, "g1", minutes=180, start=at(10, 12)), account_id=ACME_ACCOUNT)
    services.session_meter(a)
    services.session_meter(g)
    _serve({"2026-03-10": {ACME_ACCOUNT: "2.54"}})
    _run(at(12, 6))
    assert repo.actual_get(acme, a.session_id)["days"] == {"2026-03-10": 67}
    assert repo.actual_get(globex, g.session_id)["days"] == {"2026-03-10": 187}


def test_a_revision_after_invoicing_is_an_adjustment_line_on_the_next_invoice(leased):
    acme, _globex, _a, _g1, _g2 = leased
    _serve(MARCH)
    _run(at(12, 6))
    with clock.frozen(at(1, 1, month="2026-04")):
        services.invoices_month_end()
    march = selectors.invoice_get(tenant_id=acme, month="2026-03")
    assert {line.code: line.amount_cents for line in march.lines}["aws_spend"] == 400
    # On 2 April the previous month is still re-read: AWS revised Acme's 10 March down to $3.70.
    _serve({**MARCH, "2026-03-10": {**MARCH["2026-03-10"], ACME_ACCOUNT: "3.70"}})
    assert _run(datetime(2026, 4, 2, 6, tzinfo=UTC))["recorded"] == 1
    assert _spend(acme, "2026-03") == (125, 275, 0, 0)  # the invoiced month is not changed
    assert _spend(acme, "2026-04") == (0, 0, 0, -30)
    with clock.frozen(at(1, 1, month="2026-05")):
        services.invoices_month_end()
    april = selectors.invoice_get(tenant_id=acme, month="2026-04")
    lines = {line.code: line for line in april.lines}
    assert lines["aws_spend_adjustment"].amount_cents == -30 and "aws_spend" not in lines
    assert "revised" in lines["aws_spend_adjustment"].description
    assert april.total_cents == 4900 - 30


def test_the_window_covers_the_lag_and_the_previous_month_until_its_figures_are_final(settings):
    settings.CLOUDKIDA_BILLING_ACTUALS_DAYS = 3
    settings.CLOUDKIDA_BILLING_ACTUALS_PREVIOUS_MONTH_UNTIL_DAY = 5
    assert services.actuals_window(datetime(2026, 3, 20).date()) == (
        datetime(2026, 3, 17).date(),
        datetime(2026, 3, 20).date(),
    )
    assert services.actuals_window(datetime(2026, 3, 5).date())[0] == datetime(2026, 2, 1).date()
    assert services.actuals_window(datetime(2026, 3, 6).date())[0] == datetime(2026, 3, 3).date()


def test_two_runs_at_once_record_each_sessions_actual_once(leased):
    """The per-session record moves from one revision to the next only on condition that it is still at the
    previous one, in the event's own transaction: of two runs racing, one records and the other sees it."""
    acme, globex, *_ = leased
    _serve(MARCH)
    barrier, reports, errors = threading.Barrier(2), [], []

    def run():
        barrier.wait()
        try:
            reports.append(_run(at(12, 6)))
        except Exception as error:  # a lost race must not fail the job
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(reports) == 2
    assert sum(r["recorded"] for r in reports) == 3
    assert _spend(acme, "2026-03") == (125, 275, 0, 0) and _spend(globex, "2026-03") == (0, 150, 0, 0)
