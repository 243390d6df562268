"""Filtered queries: substring and equality filters, sort-key ranges, pages that fill themselves, and
cursors bound to all of it."""

from __future__ import annotations

import pytest

from benchmarks.counting import count_requests
from cloudkida.dynamo import QueryScope, Table, tables, tenant_pk
from cloudkida.errors import ValidationFailed
from cloudkida.ids import new_ulid

pytestmark = [pytest.mark.usefixtures("moto"), pytest.mark.any_item_kind]


@pytest.fixture
def table() -> tuple[Table, QueryScope]:
    tenant = new_ulid()
    table = Table(tables.pooled_table().name)
    for n in range(40):
        table.create(
            {
                "PK": tenant_pk(tenant),
                "SK": f"ITEM#{n:03d}",
                "colour": "red" if n % 10 == 0 else "blue",
                "search": f"item number {n:03d}",
            }
        )
    return table, QueryScope(tenant, table.name, "", tenant_pk(tenant), "ITEM#")


def test_a_sparse_filter_fills_its_page_and_resumes_after_the_last_item(table):
    table, scope = table
    # One request evaluates up to FILTERED_READ_ITEMS items (DynamoDB's Limit counts items before the filter).
    with count_requests() as counts:
        one_read = table.query(scope=scope, limit=5, filters={"colour": "red"})
    assert [i["SK"] for i in one_read.items] == ["ITEM#000", "ITEM#010", "ITEM#020", "ITEM#030"]
    assert one_read.cursor is None and counts.dynamodb == 1
    filled = table.query(scope=scope, limit=3, filters={"colour": "red"}, max_reads=10)
    assert [i["SK"] for i in filled.items] == ["ITEM#000", "ITEM#010", "ITEM#020"]
    rest = table.query(scope=scope, limit=3, filters={"colour": "red"}, max_reads=10, cursor=filled.cursor)
    assert [i["SK"] for i in rest.items] == ["ITEM#030"] and rest.cursor is None


def test_contains_matches_substrings_and_its_cursor_is_bound_to_the_value(table):
    table, scope = table
    page = table.query(scope=scope, limit=2, contains={"search": "number 01"}, max_reads=10)
    assert [i["SK"] for i in page.items] == ["ITEM#010", "ITEM#011"] and page.cursor
    with pytest.raises(ValidationFailed) as refused:
        table.query(scope=scope, limit=2, contains={"search": "number 02"}, cursor=page.cursor)
    assert refused.value.code == "invalid_cursor"
    nxt = table.query(scope=scope, limit=50, contains={"search": "number 01"}, max_reads=10, cursor=page.cursor)
    assert [i["SK"] for i in nxt.items] == [f"ITEM#{n:03d}" for n in range(12, 20)]


def test_a_sort_key_range_reads_between_two_keys_in_either_direction(table):
    table, scope = table
    page = table.query(scope=scope, limit=50, sk_between=("ITEM#005", "ITEM#008"), forward=False)
    assert [i["SK"] for i in page.items] == ["ITEM#008", "ITEM#007", "ITEM#006", "ITEM#005"]
    first = table.query(scope=scope, limit=2, sk_between=("ITEM#005", "ITEM#008"))
    with pytest.raises(ValidationFailed):
        table.query(scope=scope, limit=2, sk_between=("ITEM#000", "ITEM#008"), cursor=first.cursor)
