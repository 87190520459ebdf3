"""Risk data access: the customer feature store, transactions and interventions.

The only module of the risk product that talks to DynamoDB, through finscore.dynamo (its codec,
error mapping, cursors and batched I/O); dropped files and reports go through finscore.s3.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from finscore.dynamo import Page, Table, call, decode_cursor, deserialize, encode_cursor, pages, serialize



# The by_score index keeps every scored customer under this one partition value, so the high-risk
# listing is one descending range query (the risk product's customers table).
SCORE_PARTITION = "scored"
BY_SCORE_INDEX = "by_score"
BY_CUSTOMER_INDEX = "by_customer"


class CustomerStore(Table):
    """One item per customer: profile, behavioural features and the latest score."""

    def __init__(self, table: str):
        super().__init__(table)
        self.table = table

    def get(self, customer_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        return super().get({"customer_id": customer_id})

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return super().get_many("customer_id", customer_ids)

    def put_many(self, customers: Iterable[Mapping[str, Any]]) -> int:
        """Write whole customer items; name_search (the lower-cased name) makes the name searchable."""
        return super().put_many({**c, "name_search": str(c.get("name", "")).lower()} for c in customers)

    def save_features(self, customer_id: str, features: Mapping[str, float], *, as_of: str,
                      last_transaction: str | None, transactions: int, updated_at: str) -> None:
        """Store FEATURES computed as of AS_OF (an ISO date) from TRANSACTIONS transactions, the latest
        dated LAST_TRANSACTION."""
        call(
            "update_item",
            TableName=self.table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression="SET features = :features, features_as_of = :as_of, last_transaction_at = :last, "
            "transaction_count = :count, features_updated_at = :at",
            ConditionExpression="attribute_exists(customer_id)",
            ExpressionAttributeValues=serialize(
                {":features": dict(features), ":as_of": as_of, ":last": last_transaction or "", ":count": transactions,
                 ":at": updated_at}
            ),
        )

    def save_score(self, customer_id: str, score: Mapping[str, Any]) -> None:
        """Store the latest score; score_partition puts the customer in the by_score index."""
        values = {f":{name}": value for name, value in score.items()}
        values[":partition"] = SCORE_PARTITION
        assignments = ", ".join(f"{name} = :{name}" for name in score)
        call(
            "update_item",
            TableName=self.table,
            Key={"customer_id": {"S": customer_id}},
            UpdateExpression=f"SET {assignments}, score_partition = :partition",
            ConditionExpression="attribute_exists(customer_id)",
            ExpressionAttributeValues=serialize(values),
        )

    def highest_scores(self, min_score: float, limit: int, cursor: str | None) -> Page:
        """Scored customers at or above MIN_SCORE, highest first."""
        return self.query_page(
            "high-risk", limit, cursor, key_names=("customer_id", "score_partition", "risk_score"), IndexName=BY_SCORE_INDEX,
            KeyConditionExpression="score_partition = :partition AND risk_score >= :min",
            ExpressionAttributeValues=serialize({":partition": SCORE_PARTITION, ":min": float(min_score)}),
            ScanIndexForward=False,
        )

    def level_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        request = {
            "TableName": self.table,
            "IndexName": BY_SCORE_INDEX,
            "KeyConditionExpression": "score_partition = :partition",
            "ExpressionAttributeValues": {":partition": {"S": SCORE_PARTITION}},
            "ProjectionExpression": "risk_level",
        }
        for answer in pages("query", **request):
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
        start = decode_cursor("customers", cursor, ("customer_id",))
        if start:
            request["ExclusiveStartKey"] = start
        matches: list[dict[str, Any]] = []
        while True:
            answer = call("scan", **request)
            for item in answer.get("Items", []):
                matches.append(item)
                if len(matches) == limit:
                    last = {"customer_id": item["customer_id"]}
                    return Page([deserialize(match) for match in matches], encode_cursor("customers", last))
            if "LastEvaluatedKey" not in answer:
                return Page([deserialize(match) for match in matches], None)
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


class TransactionStore(Table):
    """Transactions per customer, sorted by "<ISO date>#<transaction id>"."""

    def __init__(self, table: str):
        super().__init__(table)
        self.table = table

    @staticmethod
    def key_of(transaction: Mapping[str, Any]) -> str:
        return f"{transaction['date']}#{transaction['txn_id']}"

    def put_many(self, transactions: Iterable[Mapping[str, Any]]) -> int:
        return super().put_many({**t, "txn_key": self.key_of(t)} for t in transactions)

    def all_for(self, customer_id: str) -> list[dict[str, Any]]:
        return self.query_all(KeyConditionExpression="customer_id = :customer",
                              ExpressionAttributeValues={":customer": {"S": customer_id}}, ConsistentRead=True)

    def page(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        """A customer's transactions, newest first."""
        return self.query_page(f"transactions:{customer_id}", limit, cursor, key_names=("customer_id", "txn_key"),
                               KeyConditionExpression="customer_id = :customer",
                               ExpressionAttributeValues={":customer": {"S": customer_id}}, ScanIndexForward=False)


class InterventionStore(Table):
    """Interventions with their status history; creation also stamps the customer's last contact."""

    def __init__(self, table: str, customers_table: str | None = None):
        super().__init__(table)
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
        call(
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

    def get(self, intervention_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        return super().get({"intervention_id": intervention_id})

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
        answer = call(
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
        start = decode_cursor(listing, cursor, ("intervention_id", "customer_id", "created_at") if customer_id
                              else ("intervention_id",))
        if start:
            request["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        # A filter can leave a page empty while more remain; keep reading until something to show.
        while True:
            answer = call("query" if customer_id else "scan", **request)
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
            answer = call("scan", **request)
            pairs += [(item["status"]["S"], item.get("channel", {}).get("S", "unknown")) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return pairs
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
