"""DynamoDB adapter for billing: usage events and their aggregates, prices, wallets, holds, invoices.

Tenant items (all in the tenant's partition of its data table, ``PK = TENANT#<tid>``):
- usage event:   ``BILLEV#<YYYY-MM>#<idempotency key>`` (written once: ``attribute_not_exists``; never updated)
- month total:   ``BILLAGG#<YYYY-MM>#TOTAL`` (ADD counters; ``closed`` once the month is invoiced)
- day total:     ``BILLAGG#<YYYY-MM>#DAY#<DD>`` (ADD counters)
- breakdowns:    ``BILLBY#<YYYY-MM>#USER#<user id>`` and ``BILLBY#<YYYY-MM>#LAB#<lab id>`` (ADD counters)
- alert sent:    ``BILLALERT#<YYYY-MM>#<scope>#<percent>`` (written once, so each alert goes out once)
- state:         ``BILLSTATE`` (mode, limits, dunning standing, provider customer; versioned)
- wallet:        ``WALLET#<owner>`` (``balance_cents``, ``reserved_cents``; conditional ADD, never below zero)
- ledger entry:  ``WALLETTX#<owner>#<idempotency key>`` (written once)
- hold:          ``HOLDSTART#<user id>#<lab id>`` between the start guard and the session's ``started``
                 event, then ``HOLD#<session id>`` until the session is settled
- invoice:       ``INVOICE#<YYYY-MM>`` (one per tenant and month: the month-end job is idempotent by key)
- actual spend:  ``BILLACT#<session id>`` (Cost Explorer's figures recorded for the session, per day, and their
                 revision; written in the transaction of the event that records their difference)
Platform items (control table): prices ``BILLING#PRICES`` / ``<plan>#<effective from>``, the invoice
number counter ``BILLING#COUNTER`` / ``INVOICE``, unpaid invoices ``BILLING#UNPAID`` / ``<due>#<tid>#<month>``
(with the tenant's ownership index), webhook events handled ``BILLING#WEBHOOK#<provider>`` / ``<event id>``
and lab account leases ``BILLING#LEASE#<account id>`` / ``<lease start>#<session id>`` (which tenant's session
held a pool account when: written at the session's end, with the tenant's ownership index).

An event, its month and day totals and its two breakdowns are one TransactWriteItems (one request).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from billing.domain import (
    API_CALLS_COUNTER,
    COUNTER_OF,
    BillingState,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    MonthUsage,
    Price,
    UsageEvent,
    Wallet,
)
from cloudkida.clock import from_iso, to_iso
from cloudkida.dynamo import Also, QueryScope, Table, owner_index, tables, tenant_data_table, tenant_pk
from cloudkida.dynamo.keys import join
from cloudkida.dynamo.store import serialize
from cloudkida.errors import Conflict
from labs.domain import LabSession
from labs.repository.sessions import from_item as session_from_item  # labs' own mapping of its session items
from tenants.selectors import tenant_data_table_name

EVENT, AGG, BY, ALERT, STATE, ACTUAL = "BILLEV", "BILLAGG", "BILLBY", "BILLALERT", "BILLSTATE", "BILLACT"
WALLET, LEDGER, HOLD_START, HOLD, INVOICE = "WALLET", "WALLETTX", "HOLDSTART", "HOLD", "INVOICE"
PRICES_PK, COUNTER_PK, UNPAID_PK = "BILLING#PRICES", "BILLING#COUNTER", "BILLING#UNPAID"
WEBHOOK_PK = "BILLING#WEBHOOK#"
LEASE_PK = "BILLING#LEASE#"


def control() -> Table:
    return Table(tables.control_table().name)


def tenant_table(tenant_id: str) -> Table:
    return tenant_data_table(tenant_id)


def platform_table(tenant_id: str) -> Table:
    """The tenant's data table with the process's own credentials: for the transactions that also write the
    control table (issuing an invoice), which run in jobs and the admin, never with scoped credentials."""
    return Table(tenant_data_table_name(tenant_id=tenant_id))


def _add(table: Table, pk: str, sk: str, counters: dict[str, int], *, condition: str = "") -> dict:
    names = {f"#c{n}": k for n, k in enumerate(counters)}
    values = {f":c{n}": v for n, v in enumerate(counters.values())}
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": serialize({"PK": pk, "SK": sk}),
        "UpdateExpression": "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(counters))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
    }
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


# --- metering ---------------------------------------------------------------------------------------------------
def event_sk(month: str, key: str) -> str:
    return join(EVENT, month, key)


def record_event(event: UsageEvent, also: list[Also] = ()) -> str:
    """Write the event and add it to its aggregates in one transaction (with ``also``): "recorded",
    "duplicate" (the key was recorded before) or "closed" (the month is invoiced: nothing was written; record
    it in the next)."""
    table = tenant_table(event.tenant_id)
    pk = tenant_pk(event.tenant_id)
    name = COUNTER_OF[event.kind]
    counter = {f"adjusted_{name}" if event.adjusts else name: event.quantity, f"events_{event.kind.value}": 1}
    item = {
        "PK": pk,
        "SK": event_sk(event.month, event.key),
        "entity": "usage-event",
        "key": event.key,
        "kind": event.kind.value,
        "quantity": event.quantity,
        "at": to_iso(event.at),
        "month": event.month,
        "user_id": event.user_id or None,
        "lab_id": event.lab_id or None,
        "session_id": event.session_id or None,
        "adjusts": event.adjusts or None,
        "version": 1,
    }
    operations = [
        Also(
            {
                "Put": {
                    "TableName": table.name,
                    "Item": serialize(item),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            "usage_event",
            code="duplicate",
        ),
        Also(
            _add(table, pk, join(AGG, event.month, "TOTAL"), counter, condition="attribute_not_exists(closed)"),
            "period_open",
            code="closed",
        ),
        Also(_add(table, pk, join(AGG, event.month, "DAY", f"{event.at.day:02d}"), counter), "day"),
    ]
    if event.user_id:
        operations.append(Also(_add(table, pk, join(BY, event.month, "USER", event.user_id), counter), "by_user"))
    if event.lab_id:
        operations.append(Also(_add(table, pk, join(BY, event.month, "LAB", event.lab_id), counter), "by_lab"))
    operations += list(also)
    try:
        table.transact([o.operation for o in operations], labels=operations, values={})
    except Conflict as conflict:
        if conflict.code in {"duplicate", "closed"}:
            return conflict.code
        raise
    return "recorded"


def api_calls_add(tenant_id: str, month: str, day: int, calls: int) -> bool:
    """Add a batch of counted API calls to the month's and the day's totals (one TransactWriteItems); False
    (nothing added) if the month is already invoiced."""
    table = tenant_table(tenant_id)
    pk = tenant_pk(tenant_id)
    counter = {API_CALLS_COUNTER: calls}
    operations = [
        Also(
            _add(table, pk, join(AGG, month, "TOTAL"), counter, condition="attribute_not_exists(closed)"),
            "open",
            code="closed",
        ),
        Also(_add(table, pk, join(AGG, month, "DAY", f"{day:02d}"), counter), "day"),
    ]
    try:
        table.transact([o.operation for o in operations], labels=operations, values={})
    except Conflict as conflict:
        if conflict.code == "closed":
            return False
        raise
    return True


def event_exists(tenant_id: str, month: str, key: str) -> bool:
    return tenant_table(tenant_id).get(tenant_pk(tenant_id), event_sk(month, key)) is not None


def events_page(tenant_id: str, month: str, *, limit: int, cursor: str | None):
    table = tenant_table(tenant_id)
    prefix = join(EVENT, month, "")
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), prefix)
    return table.query(scope=scope, limit=limit, cursor=cursor)


def _counters(item: dict[str, Any]) -> dict[str, int]:
    skip = {"PK", "SK", "closed", "version"}
    return {k: int(v) for k, v in item.items() if k not in skip and isinstance(v, (int, float))}


def month_usage(tenant_id: str, month: str) -> MonthUsage:
    """The month's totals and days: one Query (at most 32 items)."""
    table = tenant_table(tenant_id)
    prefix = join(AGG, month, "")
    page = table.query(scope=QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), prefix), limit=40)
    usage = MonthUsage(tenant_id=tenant_id, month=month)
    for item in page.items:
        rest = item["SK"][len(prefix) :]
        if rest == "TOTAL":
            usage.totals = _counters(item)
            usage.closed = bool(item.get("closed"))
        elif rest.startswith("DAY#"):
            usage.by_day[rest[4:]] = _counters(item)
    return usage


def breakdown(tenant_id: str, month: str, by: str, *, limit: int = 100, cursor: str | None = None):
    """A page of ``(id, counters)`` by ``USER`` or ``LAB``."""
    table = tenant_table(tenant_id)
    prefix = join(BY, month, by, "")
    page = table.query(
        scope=QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), prefix), limit=limit, cursor=cursor
    )
    return [(i["SK"][len(prefix) :], _counters(i)) for i in page.items], page.cursor


def user_month(tenant_id: str, month: str, user_id: str) -> dict[str, int]:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), join(BY, month, "USER", user_id))
    return _counters(item) if item else {}


def month_total(tenant_id: str, month: str) -> dict[str, int]:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), join(AGG, month, "TOTAL"))
    return _counters(item) if item else {}


def charge_counter(tenant_id: str, month: str, amount_cents: int) -> Also:
    """Add a settled wallet charge to the month's total (revenue from credits), for the settle transaction."""
    table = tenant_table(tenant_id)
    return Also(
        _add(table, tenant_pk(tenant_id), join(AGG, month, "TOTAL"), {"credits_charged_cents": amount_cents}), "charged"
    )


def sessions_between(tenant_id: str, since: datetime, until: datetime) -> list[LabSession]:
    """The tenant's lab sessions requested between two times: one Query of the labs session items by key
    range (a session id is a ULID, so its first ten characters are its creation time), page by page."""
    table = tenant_table(tenant_id)
    low, high = join("SESSION", _ulid_floor(since)), join("SESSION", _ulid_floor(until) + "~")
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), "")
    out, cursor = [], None
    while True:
        page = table.query(scope=scope, limit=100, cursor=cursor, sk_between=(low, high))
        out += [session_from_item(i) for i in page.items if i.get("entity") == "lab-session"]
        if not page.cursor:
            return out
        cursor = page.cursor


def _ulid_floor(at: datetime) -> str:
    value = int(at.timestamp() * 1000)
    chars = []
    for _ in range(10):
        chars.append(_ULID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_ULID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def close_month_operation(table: Table, tenant_id: str, month: str) -> Also:
    """Mark the month invoiced (later events go to the next month as adjustments), for the issue transaction."""
    return Also(
        {
            "Update": {
                "TableName": table.name,
                "Key": serialize({"PK": tenant_pk(tenant_id), "SK": join(AGG, month, "TOTAL")}),
                "UpdateExpression": "SET closed = :t",
                "ExpressionAttributeValues": serialize({":t": True}),
            }
        },
        "close_month",
    )


def alert_once(tenant_id: str, month: str, scope: str, percent: int) -> bool:
    """True the first time this alert is recorded (so it is sent once)."""
    table = tenant_table(tenant_id)
    try:
        table.create({"PK": tenant_pk(tenant_id), "SK": join(ALERT, month, scope, str(percent)), "scope": scope})
    except Conflict:
        return False
    return True


def alerts(tenant_id: str, month: str) -> list[dict[str, Any]]:
    table = tenant_table(tenant_id)
    prefix = join(ALERT, month, "")
    page = table.query(scope=QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), prefix), limit=100)
    return [{"scope": i["scope"], "percent": int(i["SK"].rsplit("#", 1)[1])} for i in page.items]


# --- prices -----------------------------------------------------------------------------------------------------
def _price_item(p: Price) -> dict[str, Any]:
    return {
        "PK": PRICES_PK,
        "SK": join(p.plan, p.effective_from.isoformat()),
        "plan": p.plan,
        "effective_from": p.effective_from.isoformat(),
        "platform_fee_cents": p.platform_fee_cents,
        "included_lab_minutes": p.included_lab_minutes,
        "included_seats": p.included_seats,
        "extra_lab_minute_usd": str(p.extra_lab_minute_usd),
        "extra_seat_cents": p.extra_seat_cents,
        "aws_markup_percent": p.aws_markup_percent,
        "api_calls_included": p.api_calls_included,
        "api_calls_1000_usd": str(p.api_calls_1000_usd),
    }


def _price(item: dict[str, Any]) -> Price:
    return Price(
        plan=item["plan"],
        effective_from=date.fromisoformat(item["effective_from"]),
        platform_fee_cents=int(item["platform_fee_cents"]),
        included_lab_minutes=int(item["included_lab_minutes"]),
        included_seats=int(item["included_seats"]),
        extra_lab_minute_usd=Decimal(item["extra_lab_minute_usd"]),
        extra_seat_cents=int(item.get("extra_seat_cents", 0)),
        aws_markup_percent=int(item.get("aws_markup_percent", 0)),
        api_calls_included=int(item.get("api_calls_included", 0)),
        api_calls_1000_usd=Decimal(item.get("api_calls_1000_usd", "0")),
    )


def price_put(price: Price) -> bool:
    """Add a price row; False if the plan already has a row from that date."""
    try:
        control().create(_price_item(price))
    except Conflict:
        return False
    return True


def price_rows() -> list[Price]:
    """Every price row, by plan and date (one Query per 100 rows: the table is small)."""
    table = control()
    scope = QueryScope("", table.name, "", PRICES_PK, "")
    return [_price(i) for i in table.query_all(scope)]


# --- state ------------------------------------------------------------------------------------------------------
def state_get(tenant_id: str, *, consistent: bool = False) -> BillingState:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), STATE, consistent=consistent)
    if item is None:
        return BillingState(tenant_id=tenant_id)
    return BillingState(
        tenant_id=tenant_id,
        mode=item.get("mode", "invoice"),
        monthly_limit_cents=int(item.get("monthly_limit_cents", 0)),
        user_monthly_limit_cents=int(item.get("user_monthly_limit_cents", 0)),
        starts_refused=bool(item.get("starts_refused")),
        customer_id=item.get("customer_id", ""),
        version=int(item["version"]),
    )


def state_put(state: BillingState, table: Table | None = None, **changes: Any) -> BillingState:
    table = table or tenant_table(state.tenant_id)
    values = {
        "mode": state.mode,
        "monthly_limit_cents": state.monthly_limit_cents,
        "user_monthly_limit_cents": state.user_monthly_limit_cents,
        "starts_refused": state.starts_refused,
        "customer_id": state.customer_id,
        **changes,
    }
    pk = tenant_pk(state.tenant_id)
    if state.version == 0:
        table.create({"PK": pk, "SK": STATE, **values})
    else:
        table.update(pk, STATE, expected_version=state.version, changes=values)
    return state_get(state.tenant_id, consistent=True)


# --- wallets ----------------------------------------------------------------------------------------------------
def wallet_get(tenant_id: str, owner: str, *, consistent: bool = False) -> Wallet:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), join(WALLET, owner), consistent=consistent)
    return Wallet(
        tenant_id=tenant_id,
        owner=owner,
        balance_cents=int((item or {}).get("balance_cents", 0)),
        reserved_cents=int((item or {}).get("reserved_cents", 0)),
    )


def _ledger_put(table: Table, entry: LedgerEntry) -> Also:
    item = {
        "PK": tenant_pk(entry.tenant_id),
        "SK": join(LEDGER, entry.owner, entry.key),
        "owner": entry.owner,
        "key": entry.key,
        "kind": entry.kind,
        "amount_cents": entry.amount_cents,
        "at": to_iso(entry.at),
        "detail": entry.detail or None,
        "version": 1,
    }
    return Also(
        {"Put": {"TableName": table.name, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}},
        "ledger",
        code="duplicate",
    )


def _wallet_change(table: Table, tenant_id: str, owner: str, *, balance: int, reserved: int, need: int = 0) -> Also:
    update: dict[str, Any] = {
        "TableName": table.name,
        "Key": serialize({"PK": tenant_pk(tenant_id), "SK": join(WALLET, owner)}),
        "UpdateExpression": "ADD balance_cents :b, reserved_cents :r",
        "ExpressionAttributeValues": serialize({":b": balance, ":r": reserved}),
    }
    if need:
        update["ConditionExpression"] = "balance_cents >= :need"
        update["ExpressionAttributeValues"] = serialize({":b": balance, ":r": reserved, ":need": need})
    return Also({"Update": update}, "wallet", "The wallet does not hold enough credit.", "insufficient_credit")


def wallet_apply(entry: LedgerEntry, *, reserved_delta: int = 0, need: int = 0, extra: list[Also] = ()) -> bool:
    """Apply a ledger entry to its wallet in one transaction; False if the entry was applied before.
    ``need`` makes it conditional on the balance (Conflict ``insufficient_credit`` otherwise)."""
    table = tenant_table(entry.tenant_id)
    operations = [
        _ledger_put(table, entry),
        _wallet_change(
            table, entry.tenant_id, entry.owner, balance=entry.amount_cents, reserved=reserved_delta, need=need
        ),
        *extra,
    ]
    try:
        table.transact([o.operation for o in operations], labels=operations, values={})
    except Conflict as conflict:
        if conflict.code == "duplicate":
            return False
        raise
    return True


def ledger(tenant_id: str, owner: str, *, limit: int = 50, cursor: str | None = None):
    table = tenant_table(tenant_id)
    prefix = join(LEDGER, owner, "")
    return table.query(
        scope=QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), prefix), limit=limit, cursor=cursor
    )


def hold_start_sk(user_id: str, lab_id: str) -> str:
    return join(HOLD_START, user_id, lab_id)


def hold_put(tenant_id: str, sk: str, attributes: dict[str, Any]) -> Also:
    table = tenant_table(tenant_id)
    item = {"PK": tenant_pk(tenant_id), "SK": sk, **attributes, "version": 1}
    return Also(
        {"Put": {"TableName": table.name, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}},
        "hold",
        "A lab start of this lab is already being paid for.",
        "hold_exists",
    )


def hold_delete(tenant_id: str, sk: str) -> Also:
    table = tenant_table(tenant_id)
    return Also(
        {
            "Delete": {
                "TableName": table.name,
                "Key": serialize({"PK": tenant_pk(tenant_id), "SK": sk}),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
        "hold_gone",
        code="hold_gone",
    )


def hold_get(tenant_id: str, sk: str) -> dict[str, Any] | None:
    return tenant_table(tenant_id).get(tenant_pk(tenant_id), sk, consistent=True)


def hold_bind(tenant_id: str, start_sk: str, session_id: str, attributes: dict[str, Any]) -> bool:
    """Move a start's hold to its session (one transaction); False if there was no start hold to move."""
    table = tenant_table(tenant_id)
    operations = [hold_delete(tenant_id, start_sk), hold_put(tenant_id, join(HOLD, session_id), attributes)]
    try:
        table.transact([o.operation for o in operations], labels=operations, values={})
    except Conflict as conflict:
        if conflict.code in {"hold_gone", "hold_exists"}:
            return False
        raise
    return True


def open_start_holds(tenant_id: str) -> list[dict[str, Any]]:
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(HOLD_START, ""))
    return list(table.query_all(scope))


# --- invoices ---------------------------------------------------------------------------------------------------
def _line_item(line: InvoiceLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price_usd": line.unit_price_usd,
        "amount_cents": line.amount_cents,
    }


def _invoice_item(inv: Invoice) -> dict[str, Any]:
    return {
        "PK": tenant_pk(inv.tenant_id),
        "SK": join(INVOICE, inv.month),
        "entity": "invoice",
        "tenant_id": inv.tenant_id,
        "month": inv.month,
        "status": inv.status.value,
        "lines": [_line_item(line) for line in inv.lines],
        "total_cents": inv.total_cents,
        "plan": inv.plan,
        "price_effective_from": inv.price_effective_from,
        "created_at": to_iso(inv.created_at),
        "number": inv.number or None,
    }


def _invoice(item: dict[str, Any]) -> Invoice:
    def when(name: str):
        return from_iso(item[name]) if item.get(name) else None

    return Invoice(
        tenant_id=item["tenant_id"],
        month=item["month"],
        status=InvoiceStatus(item["status"]),
        lines=[
            InvoiceLine(
                code=line["code"],
                description=line["description"],
                quantity=int(line["quantity"]),
                unit_price_usd=line["unit_price_usd"],
                amount_cents=int(line["amount_cents"]),
            )
            for line in item.get("lines", [])
        ],
        plan=item["plan"],
        price_effective_from=item["price_effective_from"],
        created_at=from_iso(item["created_at"]),
        number=item.get("number") or "",
        issued_at=when("issued_at"),
        due_at=when("due_at"),
        paid_at=when("paid_at"),
        provider_invoice_id=item.get("provider_invoice_id", ""),
        dunning=item.get("dunning", ""),
        version=int(item["version"]),
    )


def invoice_create(invoice: Invoice) -> Invoice | None:
    """Write a draft; None if the tenant already has an invoice for that month (the job is idempotent)."""
    try:
        item = platform_table(invoice.tenant_id).create(_invoice_item(invoice))
    except Conflict:
        return None
    return _invoice(item)


def invoice_get(tenant_id: str, month: str, *, consistent: bool = False) -> Invoice | None:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), join(INVOICE, month), consistent=consistent)
    return _invoice(item) if item else None


def invoice_list(tenant_id: str, *, limit: int = 50, cursor: str | None = None):
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(INVOICE, ""))
    page = table.query(scope=scope, limit=limit, cursor=cursor, forward=False)
    return [_invoice(i) for i in page.items], page.cursor


def counter_value() -> int:
    item = control().get(COUNTER_PK, "INVOICE", consistent=True)
    return int((item or {}).get("last", 0))


def unpaid_key(invoice: Invoice) -> dict[str, str]:
    due = to_iso(invoice.due_at) if invoice.due_at else ""
    return {"PK": UNPAID_PK, "SK": join(due, invoice.tenant_id, invoice.month)}


def invoice_issue(
    invoice: Invoice, *, number: int, last: int, due_at: datetime, changes: dict[str, Any], also: list[Also]
) -> Invoice:
    """Issue a draft under ``number`` (= the counter's ``last`` + 1) in one transaction with the counter, the
    month's closing, the unpaid marker and ``also`` (its event): the number is taken only if the invoice is."""
    table = platform_table(invoice.tenant_id)
    ctl = control()
    counter = Also(
        {
            "Update": {
                "TableName": ctl.name,
                "Key": serialize({"PK": COUNTER_PK, "SK": "INVOICE"}),
                "UpdateExpression": "SET #l = :n",
                "ConditionExpression": "attribute_not_exists(#l) OR #l = :last",
                "ExpressionAttributeNames": {"#l": "last"},
                "ExpressionAttributeValues": serialize({":n": number, ":last": last}),
            }
        },
        "invoice_counter",
        "Another invoice took that number; retry.",
        "counter_moved",
    )
    if last == 0:  # the first invoice ever: the counter item does not exist yet
        counter.operation["Update"]["ConditionExpression"] = "attribute_not_exists(#l)"
        counter.operation["Update"]["ExpressionAttributeValues"] = serialize({":n": number})
    issued = {**changes, "status": InvoiceStatus.ISSUED.value, "due_at": to_iso(due_at)}
    marker = {
        **unpaid_key(replace(invoice, due_at=due_at)),
        "tenant_id": invoice.tenant_id,
        "month": invoice.month,
        **owner_index(invoice.tenant_id, UNPAID_PK),
    }
    unpaid = Also({"Put": {"TableName": ctl.name, "Item": serialize(marker)}}, "unpaid")
    item = table.update(
        tenant_pk(invoice.tenant_id),
        join(INVOICE, invoice.month),
        expected_version=invoice.version,
        changes=issued,
        also=[counter, close_month_operation(table, invoice.tenant_id, invoice.month), unpaid, *also],
    )
    return _invoice(item)


def invoice_update(invoice: Invoice, *, changes: dict[str, Any], also: list[Also] = ()) -> Invoice:
    table = platform_table(invoice.tenant_id)
    item = table.update(
        tenant_pk(invoice.tenant_id),
        join(INVOICE, invoice.month),
        expected_version=invoice.version,
        changes=changes,
        also=list(also),
    )
    return _invoice(item)


def invoice_warned_at(tenant_id: str, month: str) -> datetime | None:
    item = tenant_table(tenant_id).get(tenant_pk(tenant_id), join(INVOICE, month), consistent=True)
    return from_iso(item["warned_at"]) if item and item.get("warned_at") else None


def overdue_of_tenant(tenant_id: str) -> bool:
    """Whether another invoice of the tenant is still refused for non-payment."""
    table = tenant_table(tenant_id)
    scope = QueryScope(tenant_id, table.name, "", tenant_pk(tenant_id), join(INVOICE, ""))
    return any(
        i.get("dunning") == "refused" and i.get("status") in {"issued", "uncollectible"} for i in table.query_all(scope)
    )


def unpaid_delete(invoice: Invoice) -> Also:
    return Also({"Delete": {"TableName": control().name, "Key": serialize(unpaid_key(invoice))}}, "unpaid_gone")


def unpaid_due_before(before: str) -> list[dict[str, Any]]:
    """Unpaid invoices due before ``before`` (ISO time), oldest first: one Query per 100."""
    table = control()
    out, cursor = [], None
    while True:
        page = table.query(
            scope=QueryScope("", table.name, "", UNPAID_PK, ""), limit=100, cursor=cursor, sk_between=("0", before)
        )
        out += page.items
        if not page.cursor:
            return out
        cursor = page.cursor


# --- webhooks ---------------------------------------------------------------------------------------------------
def webhook_seen(provider: str, event_id: str, kind: str) -> bool:
    """Record a provider's event id; True if it was recorded before (a replay)."""
    try:
        control().create({"PK": WEBHOOK_PK + provider, "SK": event_id, "kind": kind})
    except Conflict:
        return True
    return False


def webhook_forget(provider: str, event_id: str) -> None:
    """Undo the record of an event whose handling failed, so the provider's retry is handled."""
    control().delete(WEBHOOK_PK + provider, event_id)


# --- lab account leases and Cost Explorer actuals ---------------------------------------------------------------
def lease_put(session: LabSession, *, estimate_cents: int) -> bool:
    """Record which tenant's session held ``session.account_id`` from its request to its end; False if it
    was recorded before (idempotent by session)."""
    pk = LEASE_PK + session.account_id
    item = {
        "PK": pk,
        "SK": join(to_iso(session.requested_at), session.session_id),
        "tenant_id": session.tenant_id,
        "account_id": session.account_id,
        "session_id": session.session_id,
        "user_id": session.user_id,
        "lab_id": session.lab_id,
        "month": session.month,
        "start": to_iso(session.requested_at),
        "end": to_iso(session.ended_at or session.ending_at or session.requested_at),
        "estimate_cents": estimate_cents,
        **owner_index(session.tenant_id, pk),
    }
    try:
        control().create(item)
    except Conflict:
        return False
    return True


def leases_between(account_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The account's leases that started between two times: one Query per 100 (key range on the start)."""
    table = control()
    scope = QueryScope("", table.name, "", LEASE_PK + account_id, "")
    out, cursor = [], None
    while True:
        page = table.query(scope=scope, limit=100, cursor=cursor, sk_between=(to_iso(since), to_iso(until) + "~"))
        out += page.items
        if not page.cursor:
            return out
        cursor = page.cursor


def actual_get(tenant_id: str, session_id: str) -> dict[str, Any] | None:
    return tenant_table(tenant_id).get(tenant_pk(tenant_id), join(ACTUAL, session_id), consistent=True)


def actual_put(tenant_id: str, session_id: str, *, days: dict[str, int], revision: int, account_id: str) -> Also:
    """Write the session's recorded figures at ``revision`` if it is still at ``revision - 1`` (for the
    transaction of the event that records the difference: two runs never both record one revision)."""
    table = tenant_table(tenant_id)
    item = {
        "PK": tenant_pk(tenant_id),
        "SK": join(ACTUAL, session_id),
        "entity": "spend-actual",
        "account_id": account_id,
        "days": days,
        "revision": revision,
    }
    put: dict[str, Any] = {"TableName": table.name, "Item": serialize(item)}
    if revision == 1:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "revision = :previous"
        put["ExpressionAttributeValues"] = serialize({":previous": revision - 1})
    return Also({"Put": put}, "actual", "Another run recorded this revision.", "actual_moved")
