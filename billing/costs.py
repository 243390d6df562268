"""Cost Explorer adapter for billing's actuals: a shard's daily unblended cost per linked account.

One ``GetCostAndUsage`` (DAILY, grouped by LINKED_ACCOUNT, UnblendedCost) per shard and run, page by page,
with the shard's management-account credentials (as labs' spend check reads it). A day that appears in the
results is *known*: an account with no group that day spent nothing; a day that does not appear is unknown
(Cost Explorer has not reached it yet) and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cloudkida import aws
from labs import aws_accounts
from labs.domain import Shard


@dataclass
class DailyCosts:
    days: set[date] = field(default_factory=set)  # the days the results cover
    amounts: dict[tuple[str, date], Decimal] = field(default_factory=dict)  # (account, day) -> USD

    def accounts(self) -> set[str]:
        return {account for account, _day in self.amounts}


def daily_costs(shard: Shard, start: date, end: date) -> DailyCosts:
    """Unblended cost per (linked account, day) from ``start`` to ``end`` (exclusive)."""
    out = DailyCosts()
    if start >= end:
        return out
    ce = aws.client("ce", credentials=aws_accounts.management(shard))
    request = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    }
    while True:
        response = ce.get_cost_and_usage(**request)
        for period in response.get("ResultsByTime", []):
            day = date.fromisoformat(period["TimePeriod"]["Start"])
            if not start <= day < end:
                continue
            out.days.add(day)
            for group in period.get("Groups", []):
                account = group["Keys"][0]
                amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
                out.amounts[(account, day)] = out.amounts.get((account, day), Decimal(0)) + amount
        token = response.get("NextPageToken")
        if not token:
            return out
        request["NextPageToken"] = token
