"""The repository base: conditional writes, versioned updates, uniqueness, pagination.

Adapters (each app's ``repository.py``) build keys with ``cloudkida.dynamo.keys`` and hand plain
Python dicts to a ``Table``; they map items to entities. Nothing here knows about HTTP or entities.

Rules kept here so no adapter can forget them:
- creates are conditional (``attribute_not_exists(PK)``) and start at ``version`` 1;
- updates and deletes name the ``version`` they expect; a lost race raises ``Conflict`` (409);
- uniqueness markers are written in the same transaction as the item they guard;
- reads are GetItem or Query on a known partition; ``scan`` exists only inside ``maintenance()``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudkida import aws, clock
from cloudkida.dynamo import cursor as cursors
from cloudkida.dynamo.keys import owner_index, tenant_of_owner_pk, unique_key
from cloudkida.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed

_codec: list = []  # [TypeSerializer(), TypeDeserializer()], built at first use (boto3 is not imported before)


def _codecs() -> list:
    if not _codec:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # lazy: cold start (boto3)

        _codec[:] = [TypeSerializer(), TypeDeserializer()]
    return _codec


_maintenance: contextvars.ContextVar[str | None] = contextvars.ContextVar("dynamo_maintenance", default=None)

MAX_PAGE_SIZE = 100
FILTERED_READ_ITEMS = 1_000
_TRANSACTION_RETRIES = 3


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _codecs()[0].serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_codecs()[1].deserialize(v)) for k, v in item.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


@contextmanager
def maintenance(reason: str) -> Iterator[None]:
    """Mark code as maintenance (never a request path): the only place a Scan is allowed."""
    token = _maintenance.set(reason)
    try:
        yield
    finally:
        _maintenance.reset(token)


def in_maintenance() -> str | None:
    return _maintenance.get()


@dataclass(frozen=True)
class Unique:
    """A uniqueness constraint: ``kind``=``value``, platform-wide or within ``tenant_id``.

    A marker may be released with a grace period instead of deleted (a renamed slug keeps redirecting
    for a while): it then carries ``reclaim_after`` (epoch seconds), and a new owner may take it once
    that time has passed.
    """

    kind: str
    value: str
    tenant_id: str | None = None

    def key(self) -> dict[str, str]:
        return unique_key(self.kind, self.value, tenant_id=self.tenant_id)


@dataclass(frozen=True)
class Also:
    """A further operation for the same transaction (a counter, a guard), with the label a failed
    condition is reported under (``Conflict.details["constraint"]``) and the message it gets."""

    operation: dict[str, Any]
    label: str
    message: str = ""
    code: str = "conflict"


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None = None


@dataclass
class Table:
    """One DynamoDB table, addressed through the shared client."""

    name: str
    credentials: dict[str, str] | None = None  # tenant-scoped credentials from the authorizer, if any

    @property
    def client(self) -> Any:
        return aws.client("dynamodb", credentials=self.credentials)

    # --- reads --------------------------------------------------------------------------------
    def get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self._call(
            "get_item", TableName=self.name, Key=serialize({"PK": pk, "SK": sk}), ConsistentRead=consistent
        )
        item = response.get("Item")
        return deserialize(item) if item else None

    def batch_get(self, keys: Sequence[dict[str, str]], *, consistent: bool = False) -> list[dict[str, Any]]:
        """The items with these keys that exist, 100 keys per BatchGetItem, retrying unprocessed keys."""
        keys = list({(k["PK"], k["SK"]): k for k in keys}.values())
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            pending = {
                self.name: {"Keys": [serialize(k) for k in keys[start : start + 100]], "ConsistentRead": consistent}
            }
            for _ in range(8):
                response = self._call("batch_get_item", RequestItems=pending)
                found += [deserialize(i) for i in response.get("Responses", {}).get(self.name, [])]
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise ServiceUnavailable("Some items could not be read; try again.")
        return found

    def query(
        self,
        *,
        scope: cursors.QueryScope,
        limit: int = 50,
        cursor: str | None = None,
        forward: bool = True,
        filters: dict[str, Any] | None = None,
        contains: dict[str, str] | None = None,
        sk_between: tuple[str, str] | None = None,
        max_reads: int = 1,
    ) -> Page:
        """One page of a partition (``scope.partition``) optionally narrowed by sort-key prefix, or by a
        sort-key range (``sk_between``, inclusive, instead of the prefix).

        ``filters`` are equality filters on plain attributes and ``contains`` substring filters
        (``contains(attr, value)``, case-sensitive: keep a lower-cased attribute to search), applied by
        DynamoDB after the key condition; a page may then hold fewer than ``limit`` items (even none)
        and still have a cursor. The cursor is bound to every filter and to the range.

        With ``max_reads`` > 1 a filtered query reads on (up to that many Query requests) until it has
        ``limit`` matches, so a selective search still fills a page; the cursor then resumes right after
        the last item returned.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationFailed(
                f"limit must be between 1 and {MAX_PAGE_SIZE}.", code="invalid_limit", details={"limit": limit}
            )
        pk_name, sk_name = (f"{scope.index}PK", f"{scope.index}SK") if scope.index else ("PK", "SK")
        names = {"#pk": pk_name}
        values: dict[str, Any] = {":pk": scope.partition}
        condition = "#pk = :pk"
        if sk_between:
            names["#sk"] = sk_name
            values[":skfrom"], values[":skto"] = sk_between
            condition += " AND #sk BETWEEN :skfrom AND :skto"
        elif scope.sk_prefix:
            names["#sk"] = sk_name
            values[":skp"] = scope.sk_prefix
            condition += " AND begins_with(#sk, :skp)"
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "Limit": limit,
            "ScanIndexForward": forward,
        }
        parts = []
        for n, (attr, value) in enumerate(sorted((filters or {}).items())):
            names[f"#f{n}"] = attr
            values[f":f{n}"] = value
            parts.append(f"#f{n} = :f{n}")
        for n, (attr, value) in enumerate(sorted((contains or {}).items())):
            names[f"#c{n}"] = attr
            values[f":c{n}"] = value
            parts.append(f"contains(#c{n}, :c{n})")
        if parts:
            request["FilterExpression"] = " AND ".join(parts)
            # DynamoDB's Limit counts items *evaluated*, before the filter: a selective search of a large
            # partition would read on in tiny steps. Evaluate up to FILTERED_READ_ITEMS per request instead
            # (still at most 1 MB); what is read past a full page is resumed from the cursor.
            request["Limit"] = max(limit, FILTERED_READ_ITEMS)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = serialize(values)
        if scope.index:
            request["IndexName"] = scope.index
        bound = scope.with_filters(
            {
                **(filters or {}),
                **{f"contains:{k}": v for k, v in (contains or {}).items()},
                **({"sk_between": list(sk_between)} if sk_between else {}),
            }
        )
        if cursor:
            start = cursors.decode(bound, cursor)
            if start.get(pk_name) != {"S": scope.partition}:
                raise ValidationFailed("The cursor is not valid.", code="invalid_cursor")
            request["ExclusiveStartKey"] = start
        raw: list[dict[str, Any]] = []
        last = None
        for _ in range(max(1, max_reads)):
            response = self._call("query", **request)
            raw += response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last or len(raw) >= limit:
                break
            request["ExclusiveStartKey"] = last
        if len(raw) > limit:  # read past a full page: resume right after the last item kept
            raw = raw[:limit]
            key_names = {"PK", "SK", pk_name, sk_name}
            last = {k: v for k, v in raw[-1].items() if k in key_names}
        return Page(items=[deserialize(i) for i in raw], cursor=cursors.encode(bound, last) if last else None)

    def query_from(self, *, index: str, partition: str, start: str = "", limit: int = 5) -> list[dict[str, Any]]:
        """Up to ``limit`` items of an index partition whose sort key is ``>= start`` ("" for the first
        ones), in key order. For claiming one of many interchangeable items (a free pool account): a
        random ``start`` spreads concurrent callers over the partition. No cursor: it is not a listing."""
        names = {"#pk": f"{index}PK"}
        values: dict[str, Any] = {":pk": partition}
        condition = "#pk = :pk"
        if start:
            names["#sk"] = f"{index}SK"
            values[":start"] = start
            condition += " AND #sk >= :start"
        response = self._call(
            "query",
            TableName=self.name,
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
            Limit=limit,
        )
        return [deserialize(i) for i in response.get("Items", [])]

    def count(self, *, index: str, partition: str) -> int:
        """How many items an index partition holds (Select=COUNT, page by page): for jobs and dashboards,
        never a request path's hot loop."""
        total, start = 0, None
        while True:
            request: dict[str, Any] = {
                "TableName": self.name,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": f"{index}PK" if index else "PK"},
                "ExpressionAttributeValues": serialize({":pk": partition}),
                "Select": "COUNT",
            }
            if index:
                request["IndexName"] = index
            if start:
                request["ExclusiveStartKey"] = start
            response = self._call("query", **request)
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return total

    def query_all(self, scope: cursors.QueryScope) -> Iterator[dict[str, Any]]:
        """Every item of a partition, page by page (for jobs, exports and offboarding)."""
        cursor = None
        while True:
            page = self.query(scope=scope, limit=MAX_PAGE_SIZE, cursor=cursor)
            yield from page.items
            if not page.cursor:
                return
            cursor = page.cursor

    # --- writes -------------------------------------------------------------------------------
    def create(
        self, item: dict[str, Any], *, unique: Sequence[Unique] = (), also: Sequence[Also] = ()
    ) -> dict[str, Any]:
        """Write a new item at version 1; Conflict if it, or any of its unique values, exists.

        ``also`` adds operations to the same transaction (counters, guards on other items).
        """
        item = {**item, "version": 1}
        if not unique and not also:
            try:
                self._call(
                    "put_item",
                    TableName=self.name,
                    Item=serialize(item),
                    ConditionExpression="attribute_not_exists(PK)",
                    _expected=("ConditionalCheckFailedException",),
                )
            except ClientError as error:
                raise Conflict("It already exists.", code="already_exists", details={"key": _key(item)}) from error
            return item
        owner = _key(item)
        operations = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": serialize(item),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        operations += [self._unique_put(u, owner) for u in unique]
        labels = ["item"] + [f"{u.kind}" for u in unique]
        self.transact([*operations, *(a.operation for a in also)], labels=[*labels, *also], values=_values(unique))
        return item

    def update(
        self,
        pk: str,
        sk: str,
        *,
        expected_version: int,
        changes: dict[str, Any],
        remove: Sequence[str] = (),
        swap_unique: Sequence[tuple[Unique, Unique]] = (),
        release_unique: Sequence[tuple[Unique, dict[str, Any]]] = (),
        also: Sequence[Also] = (),
    ) -> dict[str, Any]:
        """Apply ``changes`` if the item is still at ``expected_version``; returns the new item.

        ``swap_unique`` moves uniqueness markers (old → new) in the same transaction; with
        ``release_unique`` an old marker is not deleted but updated with the given attributes (a
        ``reclaim_after`` time, a redirect). ``also`` adds further operations to the transaction.
        """
        if not changes and not remove:
            raise ValidationFailed("Nothing to change.", code="nothing_to_change")
        names = {"#version": "version"}
        values = {":expected": expected_version, ":next": expected_version + 1}
        sets = ["#version = :next"]
        for n, (attr, value) in enumerate(changes.items()):
            if value is None:  # None removes the attribute
                remove = [*remove, attr]
                continue
            names[f"#a{n}"] = attr
            values[f":a{n}"] = value
            sets.append(f"#a{n} = :a{n}")
        removes = []
        for n, attr in enumerate(remove):
            names[f"#r{n}"] = attr
            removes.append(f"#r{n}")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        update = {
            "TableName": self.name,
            "Key": serialize({"PK": pk, "SK": sk}),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(PK) AND #version = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
        if swap_unique or also:
            owner = {"PK": pk, "SK": sk}
            operations = [{"Update": update}]
            labels: list = ["item"]
            released = dict((old, attrs) for old, attrs in release_unique)
            for old, new in swap_unique:
                if old in released:
                    operations.append(self._unique_release(old, released[old]))
                else:
                    operations.append({"Delete": {"TableName": self.name, "Key": serialize(old.key())}})
                operations.append(self._unique_put(new, owner))
                labels += [f"{old.kind}-release", new.kind]
            operations += [a.operation for a in also]
            labels += list(also)
            self._transact_versioned(pk, sk, operations, labels, _values(new for _, new in swap_unique))
            return self.get(pk, sk, consistent=True) or {}
        try:
            response = self._call(
                "update_item", **update, ReturnValues="ALL_NEW", _expected=("ConditionalCheckFailedException",)
            )
        except ClientError as error:
            raise self._version_error(pk, sk, expected_version) from error
        return deserialize(response["Attributes"])

    def delete(
        self,
        pk: str,
        sk: str,
        *,
        expected_version: int | None = None,
        unique: Sequence[Unique] = (),
        also: Sequence[Also] = (),
        condition: str = "",
        condition_values: dict[str, Any] | None = None,
    ) -> None:
        """Delete the item (and its uniqueness markers); with ``expected_version``, only at that version;
        with ``condition`` (over ``:c*`` values), only while it holds too (a failure reads as a conflict)."""
        delete: dict[str, Any] = {"TableName": self.name, "Key": serialize({"PK": pk, "SK": sk})}
        if expected_version is not None:
            delete["ConditionExpression"] = "attribute_exists(PK) AND #version = :expected" + (
                f" AND ({condition})" if condition else ""
            )
            delete["ExpressionAttributeNames"] = {"#version": "version"}
            delete["ExpressionAttributeValues"] = serialize({":expected": expected_version, **(condition_values or {})})
        elif condition:
            delete["ConditionExpression"] = f"attribute_exists(PK) AND ({condition})"
            if condition_values:
                delete["ExpressionAttributeValues"] = serialize(condition_values)
        if unique or also:
            operations = [{"Delete": delete}] + [
                {"Delete": {"TableName": self.name, "Key": serialize(u.key())}} for u in unique
            ]
            operations += [a.operation for a in also]
            self._transact_versioned(pk, sk, operations, ["item", *(u.kind for u in unique), *also], {})
            return
        try:
            self._call("delete_item", **delete, _expected=("ConditionalCheckFailedException",))
        except ClientError as error:
            raise self._version_error(pk, sk, expected_version or 0) from error

    def upsert(
        self,
        pk: str,
        sk: str,
        *,
        set_values: dict[str, Any],
        add: dict[str, int] | None = None,
        remove: Sequence[str] = (),
        condition: str | None = None,
        condition_values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create-or-update without a version check: only for logs and counters, never for entities.

        ``add`` increments numbers atomically; ``condition`` (over ``:c*`` values) may guard the write,
        in which case a failed condition raises ``Conflict``. Returns the item as written.
        """
        names, values, sets = {}, {}, []
        for n, (attr, value) in enumerate(set_values.items()):
            names[f"#s{n}"] = attr
            values[f":s{n}"] = value
            sets.append(f"#s{n} = :s{n}")
        adds = []
        for n, (attr, value) in enumerate((add or {}).items()):
            names[f"#n{n}"] = attr
            values[f":n{n}"] = value
            adds.append(f"#n{n} :n{n}")
        removes = []
        for n, attr in enumerate(remove):
            names[f"#r{n}"] = attr
            removes.append(f"#r{n}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(sets) if sets else "",
                "ADD " + ", ".join(adds) if adds else "",
                "REMOVE " + ", ".join(removes) if removes else "",
            )
            if part
        )
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize({"PK": pk, "SK": sk}),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if condition:
            request["ConditionExpression"] = condition
            values.update(condition_values or {})
        if values:
            request["ExpressionAttributeValues"] = serialize(values)
        try:
            response = self._call("update_item", **request, _expected=("ConditionalCheckFailedException",))
        except ClientError as error:
            raise Conflict("The condition on this record no longer holds.") from error
        return deserialize(response["Attributes"])

    def batch_delete(self, keys: Sequence[dict[str, str]]) -> int:
        """Delete many items by key, 25 per request, retrying unprocessed ones. Returns how many."""
        keys = list({(k["PK"], k["SK"]): k for k in keys}.values())
        for start in range(0, len(keys), 25):
            pending = [{"DeleteRequest": {"Key": serialize(k)}} for k in keys[start : start + 25]]
            for _ in range(8):
                response = self._call("batch_write_item", RequestItems={self.name: pending})
                pending = response.get("UnprocessedItems", {}).get(self.name, [])
                if not pending:
                    break
            if pending:
                raise ServiceUnavailable("Some items could not be deleted; run the operation again.")
        return len(keys)

    def transact(self, operations: list[dict], *, labels: Sequence[str | Also], values: dict[str, str]) -> None:
        """TransactWriteItems; a failed condition becomes Conflict naming the constraint that failed.

        ``labels`` name the operations in order; an ``Also`` label carries its own message and code.
        """
        for attempt in range(_TRANSACTION_RETRIES):
            try:
                self._call(
                    "transact_write_items",
                    TransactItems=operations,
                    _expected=("TransactionCanceledException",),
                )
                return
            except ClientError as error:
                reasons = error.response.get("CancellationReasons") or []
                codes = [r.get("Code", "None") for r in reasons]
                failed_labels = [
                    labels[i] for i, c in enumerate(codes) if c == "ConditionalCheckFailed" and i < len(labels)
                ]
                guard = next((f for f in failed_labels if isinstance(f, Also)), None)
                if guard is not None:
                    conflict = Conflict(guard.message or None, code=guard.code, details={"constraint": guard.label})
                    conflict.failed = [guard.label]  # type: ignore[attr-defined]
                    raise conflict from error
                failed = [str(f) for f in failed_labels]
                if failed:
                    conflict = Conflict(
                        _conflict_message(failed[0], values),
                        code="already_exists" if failed[0] != "item" else "conflict",
                        details={
                            "constraint": failed[0],
                            **({failed[0]: values[failed[0]]} if failed[0] in values else {}),
                        },
                    )
                    conflict.failed = failed  # type: ignore[attr-defined]
                    raise conflict from error
                if "TransactionConflict" in codes and attempt + 1 < _TRANSACTION_RETRIES:
                    continue
                if "TransactionConflict" in codes:
                    raise Conflict("Another change to the same records is in progress; retry.") from error
                raise ServiceUnavailable(details={"reasons": codes}) from error

    def scan_for_maintenance(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Scan the whole table. Allowed only inside ``maintenance()``: never on a request path."""
        if not in_maintenance():
            raise RuntimeError("Scan outside maintenance(): use a Query on a known partition.")
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.name, **kwargs):
            for item in page.get("Items", []):
                yield deserialize(item)

    # --- helpers ------------------------------------------------------------------------------
    def _unique_put(self, unique: Unique, owner: dict[str, str]) -> dict:
        """Put a marker unless a live one exists (one whose ``reclaim_after`` has passed may be taken).

        A platform-wide marker guarding a tenant's item carries the tenant's ownership index.
        """
        key = unique.key()
        marker = {**key, "kind": unique.kind, "value": unique.value, "owner_pk": owner["PK"], "owner_sk": owner["SK"]}
        tenant_id = tenant_of_owner_pk(owner["PK"])
        if tenant_id and key["PK"] != owner["PK"]:
            marker.update(owner_index(tenant_id, key["PK"]))
        return {
            "Put": {
                "TableName": self.name,
                "Item": serialize(marker),
                "ConditionExpression": "attribute_not_exists(PK) OR reclaim_after < :now",
                "ExpressionAttributeValues": serialize({":now": int(clock.now().timestamp())}),
            }
        }

    def _unique_release(self, unique: Unique, attributes: dict[str, Any]) -> dict:
        names = {f"#u{n}": k for n, k in enumerate(attributes)}
        values = {f":u{n}": v for n, v in enumerate(attributes.values())}
        return {
            "Update": {
                "TableName": self.name,
                "Key": serialize(unique.key()),
                "UpdateExpression": "SET " + ", ".join(f"#u{n} = :u{n}" for n in range(len(attributes))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": serialize(values),
            }
        }

    def _transact_versioned(self, pk: str, sk: str, operations: list, labels: list, values: dict) -> None:
        try:
            self.transact(operations, labels=labels, values=values)
        except Conflict as conflict:
            if getattr(conflict, "failed", [None])[0] == "item":
                current = self.get(pk, sk, consistent=True)
                if current is None:
                    raise NotFound(details={"key": {"PK": pk, "SK": sk}}) from conflict
                raise Conflict(
                    "It was changed by someone else; reload and try again.",
                    code="version_conflict",
                    details={"current_version": current.get("version")},
                ) from conflict
            raise

    def _version_error(self, pk: str, sk: str, expected_version: int) -> Exception:
        current = self.get(pk, sk, consistent=True)
        if current is None:
            return NotFound(details={"key": {"PK": pk, "SK": sk}})
        return Conflict(
            "It was changed by someone else; reload and try again.",
            code="version_conflict",
            details={"expected_version": expected_version, "current_version": current.get("version")},
        )

    def _call(self, operation: str, _expected: tuple[str, ...] = (), **kwargs: Any) -> dict:
        """Call DynamoDB; errors the caller expects pass through, anything else is a 5xx."""
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            if error.response["Error"]["Code"] in _expected:
                raise
            raise ServiceUnavailable(
                "The data store is unavailable. Try again shortly.",
                details={"operation": operation, "error": error.response["Error"]["Code"]},
            ) from error
        except BotoCoreError as error:
            raise ServiceUnavailable(
                "The data store is unreachable. Try again shortly.",
                details={"operation": operation, "error": type(error).__name__},
            ) from error


def _values(unique) -> dict[str, str]:
    return {u.kind: u.value for u in unique}


def _key(item: dict[str, Any]) -> dict[str, str]:
    return {"PK": item["PK"], "SK": item["SK"]}


def _conflict_message(label: str, values: dict[str, str]) -> str:
    if label == "item":
        return "It already exists."
    value = values.get(label)
    return f"The {label} {value!r} is already taken." if value else f"The {label} is already taken."
