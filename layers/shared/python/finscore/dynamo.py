"""DynamoDB access for every part of FinScore: one codec, one error mapping, cursors and batched I/O.

Items go in and come out as plain dicts with Python numbers: floats are stored as Decimals and come
back as floats, integers come back as integers. Listings page with opaque base64 cursors that carry
DynamoDB's LastEvaluatedKey and the listing they belong to, so a cursor is never replayed against
another query. Every SDK error becomes ServiceUnavailable (503, or a retried message), except a
failed condition, which is ConditionFailed for the caller to turn into its own answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Collection, Iterable, Iterator, Mapping, Sequence

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import FieldIssue, InvalidRequest, ServiceUnavailable

BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100
# Unprocessed items are retried with backoff this many times before the call is reported failed.
MAX_BATCH_ATTEMPTS = 8
# DynamoDB's limit on a partition key value is 2 KB; nothing longer can be a key a listing returned.
MAX_KEY_TEXT = 2048

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write found the item in another state than expected."""


class Contended(ServiceUnavailable):
    """A transaction met another one on the same item (TransactionConflict): nothing was written, and
    the same write may be tried again. Left unhandled it is a 503, as every SDK error is."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def to_dynamo(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Integers were written as integers (counts); everything else comes back as float.
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as DynamoDB JSON; None attributes are left out."""
    return {key: _SERIALIZER.serialize(value) for key, value in to_dynamo(item).items() if value is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON item (client answers, stream images) as plain Python values."""
    return from_dynamo({key: _DESERIALIZER.deserialize(value) for key, value in item.items()})


def encode_cursor(listing: str, key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps({"l": listing, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str | None, key_names: Collection[str]) -> dict[str, Any] | None:
    """The LastEvaluatedKey inside CURSOR; a cursor that is not one of LISTING's, or whose key is not
    exactly KEY_NAMES (the table's key, and the index's when the listing reads one) with string or
    numeric values, is a 400 naming it. Checked here because DynamoDB (and the embedded AWS) may answer
    a malformed start key with a server error."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if decoded.get("l") != listing or not isinstance(decoded.get("k"), dict):
            raise ValueError(listing)
        return _checked_key(decoded["k"], key_names, listing)
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest("The cursor is not valid for this listing",
                          [FieldIssue("cursor", "not a cursor returned by this listing")])


def _checked_key(key: Any, key_names: Collection[str], listing: str) -> dict[str, Any]:
    if not isinstance(key, dict) or set(key) != set(key_names) or not all(_is_key_value(v) for v in key.values()):
        raise ValueError(listing)
    return key


def encode_partitions_cursor(listing: str, positions: Mapping[str, Mapping[str, Any]],
                             finished: Collection[str]) -> str:
    """The cursor of a listing merged from several partitions: where each one was left (the key of its
    last item returned), and which ones have nothing more."""
    raw = json.dumps({"l": listing, "p": dict(positions), "e": sorted(finished)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_partitions_cursor(listing: str, cursor: str | None, partitions: Collection[str], partition_key: str,
                             key_names: Collection[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The positions and finished partitions inside CURSOR (see encode_partitions_cursor): a 400 naming
    it unless every partition it names is one of PARTITIONS and each position is a key of KEY_NAMES
    within its own partition (PARTITION_KEY holds the partition's value)."""
    if not cursor:
        return {}, set()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if decoded.get("l") != listing or not isinstance(decoded.get("p"), dict) or not isinstance(decoded.get("e"), list):
            raise ValueError(listing)
        positions = {name: _checked_key(key, key_names, listing) for name, key in decoded["p"].items()}
        finished = set(decoded["e"])
        if not (set(positions) | finished) <= set(partitions):
            raise ValueError(listing)
        if any(key[partition_key] != {"S": name} for name, key in positions.items()):
            raise ValueError(listing)
        return positions, finished
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc


def _order_value(value: Mapping[str, str]) -> Any:
    """A typed key value as it sorts in DynamoDB: numbers by value, strings as they are."""
    (kind, text), = value.items()
    return Decimal(text) if kind == "N" else text


def _is_key_value(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (kind, text), = value.items()
    if kind == "S":
        return isinstance(text, str) and 0 < len(text) <= MAX_KEY_TEXT
    if kind == "N" and isinstance(text, str) and len(text) <= MAX_KEY_TEXT:
        try:
            number = Decimal(text)
        except ArithmeticError:
            return False
        # DynamoDB's number range: magnitudes from 1E-130 to 1E+125, or zero.
        return number.is_finite() and (number.is_zero() or -130 <= number.adjusted() <= 125)
    return False


def _tables_of(request: Mapping[str, Any]) -> list[str]:
    """The tables a request touches: its TableName, or those of a transaction's or batch's items."""
    if request.get("TableName"):
        return [request["TableName"]]
    names = [action.get("TableName") for item in request.get("TransactItems", []) for action in item.values()]
    names += list(request.get("RequestItems", {}))
    return list(dict.fromkeys(name for name in names if name))


def _failure(operation: str, request: Mapping[str, Any], reason: str) -> str:
    """What failed, naming the tables the request touches: the reason a 503 answer gives."""
    tables = _tables_of(request)
    target = f" of {'table' if len(tables) == 1 else 'tables'} {', '.join(tables)}" if tables else ""
    if reason == "ResourceNotFoundException":
        reason = ("the table does not exist" if len(tables) == 1 else "a table does not exist") + \
            " (ResourceNotFoundException)"
    return f"DynamoDB {operation}{target} failed: {reason}"


def call(operation: str, **request: Any) -> dict[str, Any]:
    """One DynamoDB client call with FinScore's error mapping."""
    try:
        return getattr(client("dynamodb"), operation)(**request)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(str(exc)) from exc
        if code == "TransactionCanceledException":
            reasons = [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
            if reasons and all(reason in ("None", "ConditionalCheckFailed") for reason in reasons):
                raise ConditionFailed(",".join(reasons)) from exc
            if "TransactionConflict" in reasons:
                raise Contended(_failure(operation, request, "TransactionConflict")) from exc
        if code == "TransactionConflictException":  # a plain write on an item a transaction holds
            raise Contended(_failure(operation, request, code)) from exc
        if code == "ValidationException" and "ExclusiveStartKey" in request:
            # The cursor decoded and named a listing, yet its key is not one this table or index can
            # start from: a forged or altered cursor, the client's input.
            raise InvalidRequest("The cursor is not valid for this listing",
                                 [FieldIssue("cursor", "not a cursor returned by this listing")]) from exc
        raise ServiceUnavailable(_failure(operation, request, code or str(exc))) from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(_failure(operation, request, str(exc))) from exc


def pages(operation: str, **request: Any) -> Iterator[dict[str, Any]]:
    """Every page of a query or scan, through boto3's paginator."""
    try:
        yield from client("dynamodb").get_paginator(operation).paginate(**request)
    except ClientError as exc:
        raise ServiceUnavailable(_failure(operation, request, exc.response.get("Error", {}).get("Code") or str(exc))) \
            from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(_failure(operation, request, str(exc))) from exc


class Table:
    """One table: keyed reads, batched writes and reads, paged listings."""

    def __init__(self, name: str):
        self.name = name

    def check(self) -> str:
        """The table's status when it can serve reads and writes (health checks); ServiceUnavailable saying
        why otherwise: it cannot be reached, does not exist, or is being created or deleted."""
        try:
            status = client("dynamodb").describe_table(TableName=self.name)["Table"].get("TableStatus", "ACTIVE")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise ServiceUnavailable(f"Table {self.name} does not exist") from exc
            raise ServiceUnavailable(f"Table {self.name} is unreachable: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"Table {self.name} is unreachable: {exc}") from exc
        # UPDATING (an index or capacity change) still serves; CREATING, DELETING and ARCHIVED do not.
        if status not in ("ACTIVE", "UPDATING"):
            raise ServiceUnavailable(f"Table {self.name} is {status}")
        return status

    def get(self, key: Mapping[str, Any], *, consistent: bool = True) -> dict[str, Any] | None:
        answer = call("get_item", TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        return deserialize(answer["Item"]) if "Item" in answer else None

    def get_many(self, key_name: str, values: Sequence[Any], *, consistent: bool = True) -> dict[Any, dict[str, Any]]:
        """Items whose single-attribute key KEY_NAME is one of VALUES, by that value (absent ones left out)."""
        found: dict[Any, dict[str, Any]] = {}
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), BATCH_GET_SIZE):
            keys = [serialize({key_name: value}) for value in unique[start:start + BATCH_GET_SIZE]]
            for attempt in range(MAX_BATCH_ATTEMPTS):
                answer = call("batch_get_item", RequestItems={self.name: {"Keys": keys, "ConsistentRead": consistent}})
                for item in answer.get("Responses", {}).get(self.name, []):
                    record = deserialize(item)
                    found[record[key_name]] = record
                keys = answer.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise ServiceUnavailable(f"DynamoDB left {len(keys)} reads of {self.name} unprocessed")
        return found

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write ITEMS in batches of 25, retrying unprocessed ones; an item with the same key overwrites
        (so a replayed write changes nothing)."""
        written = 0
        batch: list[dict[str, Any]] = []
        for item in items:
            batch.append({"PutRequest": {"Item": serialize(item)}})
            if len(batch) == BATCH_WRITE_SIZE:
                written += self._write_batch(batch)
                batch = []
        if batch:
            written += self._write_batch(batch)
        return written

    def _write_batch(self, requests: list[dict[str, Any]]) -> int:
        pending = requests
        for attempt in range(MAX_BATCH_ATTEMPTS):
            answer = call("batch_write_item", RequestItems={self.name: pending})
            pending = answer.get("UnprocessedItems", {}).get(self.name, [])
            if not pending:
                return len(requests)
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise ServiceUnavailable(f"DynamoDB kept {len(pending)} writes to {self.name} unprocessed")

    def query_all(self, **request: Any) -> list[dict[str, Any]]:
        """Every item a query returns, across its pages."""
        return [deserialize(item) for page in pages("query", TableName=self.name, **request)
                for item in page.get("Items", [])]

    def query_page(self, listing: str, limit: int, cursor: str | None, *, key_names: Collection[str],
                   **request: Any) -> Page:
        """One page of a query, resumed from CURSOR (a cursor of LISTING, whose key holds KEY_NAMES) and
        carrying the next one."""
        arguments = {"TableName": self.name, "Limit": limit, **request}
        start = decode_cursor(listing, cursor, key_names)
        if start:
            arguments["ExclusiveStartKey"] = start
        answer = call("query", **arguments)
        return Page([deserialize(item) for item in answer.get("Items", [])],
                    encode_cursor(listing, answer.get("LastEvaluatedKey")))

    def merged_page(self, listing: str, limit: int, cursor: str | None, *, index: str, partition_key: str,
                    partitions: Sequence[str], sort_key: str, key_names: Collection[str],
                    key_condition: str, values: Mapping[str, Any]) -> Page:
        """One page, highest SORT_KEY first, of an index whose items are spread over PARTITIONS (values
        of PARTITION_KEY) so that no one partition takes every write.

        KEY_CONDITION names the partition as :partition; VALUES are its other placeholders. Each
        partition is read in small descending chunks and the heads are merged, so a page reads about
        LIMIT items plus one chunk per partition, never a whole partition. The cursor keeps each
        partition's own position: items of equal SORT_KEY in different partitions are neither lost
        nor repeated between pages.
        """
        positions, finished = decode_partitions_cursor(listing, cursor, partitions, partition_key, key_names)
        chunk = math.ceil(limit / len(partitions)) + 1
        buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in partitions}
        more: dict[str, dict[str, Any] | None] = {}

        def refill(name: str) -> None:
            start = more.get(name, positions.get(name))
            request: dict[str, Any] = {
                "TableName": self.name, "IndexName": index, "Limit": chunk, "ScanIndexForward": False,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeValues": serialize({**values, ":partition": name}),
            }
            if start:
                request["ExclusiveStartKey"] = start
            answer = call("query", **request)
            buffers[name] = list(answer.get("Items", []))
            more[name] = answer.get("LastEvaluatedKey")

        items: list[dict[str, Any]] = []
        while len(items) < limit:
            for name in partitions:
                if not buffers[name] and name not in finished and (name not in more or more[name]):
                    refill(name)
                    if not buffers[name] and not more[name]:
                        finished.add(name)
            heads = [name for name in partitions if buffers[name]]
            if not heads:
                break
            # Highest first; equal values in partition order, so that pages never depend on timing.
            best = max(heads, key=lambda name: (_order_value(buffers[name][0][sort_key]), -partitions.index(name)))
            item = buffers[best].pop(0)
            positions[best] = {name: item[name] for name in key_names}
            items.append(deserialize(item))
        for name in partitions:
            if not buffers[name] and name in more and not more[name]:
                finished.add(name)
        if set(partitions) <= finished:
            return Page(items, None)
        return Page(items, encode_partitions_cursor(listing, positions, finished))
