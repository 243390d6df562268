"""How much a lab account has spent since its lease began: Cost Explorer in production, injectable in tests.

Cost Explorer data lags by hours, which is why the guardrail SCPs (preventive) come first and this check
(detective) second. One ``GetCostAndUsage`` per shard per run, grouped by linked account, daily, from the
earliest lease's day; a lease's spend is the sum of its account's days from the lease's day (so a day shared
with the account's previous lease counts for both: the check errs towards ending early).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from cloudkida import aws, clock
from labs import aws_accounts
from labs.domain import Shard


class SpendSource(Protocol):
    def spend(self, shard: Shard, since: dict[str, date]) -> dict[str, float]:
        """USD spent per account id since its date (accounts with no data may be left out)."""


class CostExplorerSource:
    def spend(self, shard: Shard, since: dict[str, date]) -> dict[str, float]:
        if not since:
            return {}
        ce = aws.client("ce", credentials=aws_accounts.management(shard))
        start = min(since.values())
        end = clock.now().date() + timedelta(days=1)
        totals: dict[str, float] = defaultdict(float)
        request = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
            "Filter": {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(since)}},
            "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        }
        while True:
            response = ce.get_cost_and_usage(**request)
            for period in response.get("ResultsByTime", []):
                day = date.fromisoformat(period["TimePeriod"]["Start"])
                for group in period.get("Groups", []):
                    account = group["Keys"][0]
                    if account in since and day >= since[account]:
                        totals[account] += float(group["Metrics"]["UnblendedCost"]["Amount"])
            token = response.get("NextPageToken")
            if not token:
                return dict(totals)
            request["NextPageToken"] = token


_override: list[SpendSource] = []


def source() -> SpendSource:
    return _override[-1] if _override else import_string(settings.CLOUDKIDA_LAB_SPEND_SOURCE)()


@contextmanager
def using(spend_source: SpendSource) -> Iterator[None]:
    """Use ``spend_source`` inside the block (tests and local demos)."""
    _override.append(spend_source)
    try:
        yield
    finally:
        _override.remove(spend_source)
