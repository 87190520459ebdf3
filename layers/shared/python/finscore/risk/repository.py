"""Risk data access: the customer feature store, transactions and interventions.

The only module of the risk product that talks to DynamoDB (dropped files and reports go through
finscore.data_bucket). Items go in and come out as plain dicts with Python numbers; listings page
with opaque base64 cursors that carry DynamoDB's LastEvaluatedKey and the listing they belong to, so
a cursor is never replayed against another query.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import FieldIssue, InvalidRequest, ServiceUnavailable

# The by_score index keeps every scored customer under this one partition value, so the high-risk
# listing is one descending range query (resources.RISK_CUSTOMERS_TABLE).
SCORE_PARTITION = "scored"
BY_SCORE_INDEX = "by_score"
BY_CUSTOMER_INDEX = "by_customer"
BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100
# Unprocessed items are retried with backoff this many times before the write is reported failed.
MAX_BATCH_ATTEMPTS = 8

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write found the item in another state than expected."""


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
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in to_dynamo(item).items() if value is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON item (client answers, stream images) as plain Python values."""
    return from_dynamo({key: _DESERIALIZER.deserialize(value) for key, value in item.items()})


def encode_cursor(listing: str, key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps({"l": listing, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str | None) -> dict[str, Any] | None:
    """The LastEvaluatedKey inside CURSOR; a cursor that is not one of LISTING's is a 400 naming it."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if decoded.get("l") != listing or not isinstance(decoded.get("k"), dict):
            raise ValueError(listing)
        key = decoded["k"]
        if not all(isinstance(v, dict) and len(v) == 1 and set(v) <= {"S", "N"} for v in key.values()):
            raise ValueError(listing)
        return key
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "The cursor is not valid for this listing", [FieldIssue("cursor", "not a cursor returned by this listing")]
        ) from exc


def _call(operation: str, **request: Any) -> dict[str, Any]:
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
        raise ServiceUnavailable(f"DynamoDB {operation} failed: {code or exc}") from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(f"DynamoDB {operation} failed: {exc}") from exc


def batch_put(table: str, items: Iterable[Mapping[str, Any]]) -> int:
    """Write ITEMS in batches of 25, retrying unprocessed ones; items with the same key overwrite."""
    written = 0
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if len(batch) == BATCH_WRITE_SIZE:
            written += _write_batch(table, batch)
            batch = []
    if batch:
        written += _write_batch(table, batch)
    return written


def _write_batch(table: str, requests: list[dict[str, Any]]) -> int:
    pending = requests
    for attempt in range(MAX_BATCH_ATTEMPTS):
        answer = _call("batch_write_item", RequestItems={table: pending})
        pending = answer.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return len(requests)
        time.sleep(min(0.05 * 2**attempt, 1.0))
    raise ServiceUnavailable(f"DynamoDB kept {len(pending)} writes to {table} unprocessed")


def _query_pages(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        answer = _call("query", **request)
        yield answer
        if "LastEvaluatedKey" not in answer:
            return
        request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}


class CustomerStore:
    """One item per customer: profile, behavioural features and the latest score."""

    def __init__(self, table: str):
        self.table = table

    def get(self, customer_id: str) -> dict[str, Any] | None:
        answer = _call("get_item", TableName=self.table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True)
        return deserialize(answer["Item"]) if "Item" in answer else None

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(customer_ids))
        for start in range(0, len(unique), BATCH_GET_SIZE):
            keys = [{"customer_id": {"S": customer_id}} for customer_id in unique[start:start + BATCH_GET_SIZE]]
            for attempt in range(MAX_BATCH_ATTEMPTS):
                answer = _call("batch_get_item", RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}})
                for item in answer.get("Responses", {}).get(self.table, []):
                    customer = deserialize(item)
                    found[customer["customer_id"]] = customer
                keys = answer.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise ServiceUnavailable(f"DynamoDB left {len(keys)} reads of {self.table} unprocessed")
        return found

    def put_many(self, customers: Iterable[Mapping[str, Any]]) -> int:
        """Write whole customer items; name_search (the lower-cased name) makes the name searchable."""
        return batch_put(self.table, ({**c, "name_search": str(c.get("name", "")).lower()} for c in customers))

    def save_features(self, customer_id: str, features: Mapping[str, float], *, as_of: str | None,
                      transactions: int, updated_at: str) -> None:
        _call(
            "update_item",
            TableName=self.table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression="SET features = :features, features_as_of = :as_of, "
            "transaction_count = :count, features_updated_at = :at",
            ConditionExpression="attribute_exists(customer_id)",
            ExpressionAttributeValues=serialize(
                {":features": dict(features), ":as_of": as_of or "", ":count": transactions, ":at": updated_at}
            ),
        )

    def save_score(self, customer_id: str, score: Mapping[str, Any]) -> None:
        """Store the latest score; score_partition puts the customer in the by_score index."""
        values = {f":{name}": value for name, value in score.items()}
        values[":partition"] = SCORE_PARTITION
        assignments = ", ".join(f"{name} = :{name}" for name in score)
        _call(
            "update_item",
            TableName=self.table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression=f"SET {assignments}, score_partition = :partition",
            ConditionExpression="attribute_exists(customer_id)",
            ExpressionAttributeValues=serialize(values),
        )

    def highest_scores(self, min_score: float, limit: int, cursor: str | None) -> Page:
        """Scored customers at or above MIN_SCORE, highest first."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": BY_SCORE_INDEX,
            "KeyConditionExpression": "score_partition = :partition AND risk_score >= :min",
            "ExpressionAttributeValues": serialize({":partition": SCORE_PARTITION, ":min": float(min_score)}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_cursor("high-risk", cursor)
        if start:
            request["ExclusiveStartKey"] = start
        answer = _call("query", **request)
        return Page([deserialize(item) for item in answer.get("Items", [])],
                    encode_cursor("high-risk", answer.get("LastEvaluatedKey")))

    def level_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        request = {
            "TableName": self.table,
            "IndexName": BY_SCORE_INDEX,
            "KeyConditionExpression": "score_partition = :partition",
            "ExpressionAttributeValues": {":partition": {"S": SCORE_PARTITION}},
            "ProjectionExpression": "risk_level",
        }
        for answer in _query_pages(request):
            for item in answer.get("Items", []):
                level = item.get("risk_level", {}).get("S", "unknown")
                counts[level] = counts.get(level, 0) + 1
        return counts

    def search(self, text: str, limit: int, cursor: str | None, scan_page: int = 500) -> Page:
        """Customers whose id starts with TEXT or whose name contains it (case-insensitive).

        A filtered scan: DynamoDB reads up to SCAN_PAGE items per call and keeps the matches, so the
        next cursor is the key of the last match returned, never a page the caller has not seen.
        """
        needle = text.strip().lower()
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(customer_id, :id) OR contains(name_search, :lower)",
            "ExpressionAttributeValues": serialize({":id": text.strip(), ":lower": needle}),
            "Limit": scan_page,
        }
        start = decode_cursor("customers", cursor)
        if start:
            request["ExclusiveStartKey"] = start
        matches: list[dict[str, Any]] = []
        while True:
            answer = _call("scan", **request)
            for item in answer.get("Items", []):
                matches.append(item)
                if len(matches) == limit:
                    last = {"customer_id": item["customer_id"]}
                    return Page([deserialize(match) for match in matches], encode_cursor("customers", last))
            if "LastEvaluatedKey" not in answer:
                return Page([deserialize(match) for match in matches], None)
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


class TransactionStore:
    """Transactions per customer, sorted by "<ISO date>#<transaction id>"."""

    def __init__(self, table: str):
        self.table = table

    @staticmethod
    def key_of(transaction: Mapping[str, Any]) -> str:
        return f"{transaction['date']}#{transaction['txn_id']}"

    def put_many(self, transactions: Iterable[Mapping[str, Any]]) -> int:
        return batch_put(self.table, ({**t, "txn_key": self.key_of(t)} for t in transactions))

    def all_for(self, customer_id: str) -> list[dict[str, Any]]:
        request = {
            "TableName": self.table,
            "KeyConditionExpression": "customer_id = :customer",
            "ExpressionAttributeValues": {":customer": {"S": customer_id}},
            "ConsistentRead": True,
        }
        return [deserialize(item) for answer in _query_pages(request) for item in answer.get("Items", [])]

    def page(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        """A customer's transactions, newest first."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "customer_id = :customer",
            "ExpressionAttributeValues": {":customer": {"S": customer_id}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_cursor(f"transactions:{customer_id}", cursor)
        if start:
            request["ExclusiveStartKey"] = start
        answer = _call("query", **request)
        return Page([deserialize(item) for item in answer.get("Items", [])],
                    encode_cursor(f"transactions:{customer_id}", answer.get("LastEvaluatedKey")))


class InterventionStore:
    """Interventions with their status history; creation also stamps the customer's last contact."""

    def __init__(self, table: str, customers_table: str | None = None):
        self.table = table
        self.customers_table = customers_table

    def create(self, intervention: Mapping[str, Any], *, contacted_before: str | None = None) -> None:
        """Put INTERVENTION and stamp the customer, in one transaction.

        With CONTACTED_BEFORE (an ISO time), the transaction also requires that the customer's last
        intervention is older than it: two scorers racing to auto-trigger for one customer cannot
        both pass, and the loser gets ConditionFailed.
        """
        if self.customers_table is None:
            raise ValueError("creating an intervention needs the customers table")
        condition = "attribute_exists(customer_id)"
        values: dict[str, Any] = {":at": intervention["created_at"], ":id": intervention["intervention_id"]}
        if contacted_before is not None:
            condition += " AND (attribute_not_exists(last_intervention_at) OR last_intervention_at < :before)"
            values[":before"] = contacted_before
        _call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": serialize(intervention),
                        "ConditionExpression": "attribute_not_exists(intervention_id)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.customers_table,
                        "Key": {"customer_id": {"S": intervention["customer_id"]}},
                        "UpdateExpression": "SET last_intervention_at = :at, last_intervention_id = :id",
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": serialize(values),
                    }
                },
            ],
        )

    def get(self, intervention_id: str) -> dict[str, Any] | None:
        answer = _call("get_item", TableName=self.table, Key={"intervention_id": {"S": intervention_id}},
                       ConsistentRead=True)
        return deserialize(answer["Item"]) if "Item" in answer else None

    def transition(self, intervention_id: str, from_status: str, to_status: str, entry: Mapping[str, Any],
                   fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Move the intervention FROM_STATUS -> TO_STATUS, appending ENTRY to its history.

        Conditional on the stored status still being FROM_STATUS: of two writers, one wins and the
        other gets ConditionFailed, which is what makes claiming a send exclusive.
        """
        extra = dict(fields or {})
        assignments = ["#status = :to", "updated_at = :at", "history = list_append(history, :entry)"]
        # Field names go through placeholders: some (response, status) are DynamoDB reserved words.
        assignments += [f"#f_{name} = :f_{name}" for name in extra]
        values = {":to": to_status, ":from": from_status, ":at": entry["at"], ":entry": [dict(entry)]}
        values.update({f":f_{name}": value for name, value in extra.items()})
        answer = _call(
            "update_item",
            TableName=self.table,
            Key={"intervention_id": {"S": intervention_id}},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression="#status = :from",
            ExpressionAttributeNames={"#status": "status", **{f"#f_{name}": name for name in extra}},
            ExpressionAttributeValues=serialize(values),
            ReturnValues="ALL_NEW",
        )
        return deserialize(answer["Attributes"])

    def page(self, *, customer_id: str | None, status: str | None, limit: int, cursor: str | None) -> Page:
        """A customer's interventions newest first, or all of them; optionally of one status."""
        listing = f"interventions:{customer_id or '*'}:{status or '*'}"
        request: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if status:
            request["FilterExpression"] = "#status = :status"
            names["#status"] = "status"
            values[":status"] = status
        if customer_id:
            request.update(IndexName=BY_CUSTOMER_INDEX, KeyConditionExpression="customer_id = :customer",
                           ScanIndexForward=False)
            values[":customer"] = customer_id
        if names:
            request["ExpressionAttributeNames"] = names
        if values:
            request["ExpressionAttributeValues"] = serialize(values)
        start = decode_cursor(listing, cursor)
        if start:
            request["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        # A filter can leave a page empty while more remain; keep reading until something to show.
        while True:
            answer = _call("query" if customer_id else "scan", **request)
            items.extend(deserialize(item) for item in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if items or not last:
                return Page(items, encode_cursor(listing, last))
            request["ExclusiveStartKey"] = last

    def status_counts(self) -> list[tuple[str, str]]:
        """(status, channel) of every intervention."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "ProjectionExpression": "#status, channel",
            "ExpressionAttributeNames": {"#status": "status"},
        }
        pairs = []
        while True:
            answer = _call("scan", **request)
            pairs += [(item["status"]["S"], item.get("channel", {}).get("S", "unknown")) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return pairs
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
