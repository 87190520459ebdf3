"""Risk data access: the customer feature store, transactions and interventions.

The only module of the risk product that talks to DynamoDB, through finscore.dynamo (its codec,
error mapping, cursors and batched I/O); dropped files and reports go through finscore.s3.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterable, Mapping, Sequence

from finscore.dynamo import (
    ConditionFailed,
    Contended,
    Page,
    Table,
    call,
    decode_cursor,
    deserialize,
    encode_cursor,
    pages,
    serialize,
)

# Scored customers are spread over this many partitions of the by_score index (score_shard, by a
# stable hash of the customer id), interventions over as many of by_created, and the counters over
# as many items: no one partition or counter item takes every write. Listings merge the shards; the
# metrics read each counter's shards.
SHARDS = 8
SHARD_NAMES = tuple(str(shard) for shard in range(SHARDS))
BY_SCORE_INDEX = "by_score"
BY_CUSTOMER_INDEX = "by_customer"
BY_STATUS_INDEX = "by_status"
BY_CREATED_INDEX = "by_created"
# Score counters count customers per risk level and per band of this many points of the 0-100 score.
SCORE_BAND_WIDTH = 10
# A score write that met a concurrent one (another score of the customer, or a transaction on its
# counter item) is read again and retried this many times before the 503.
MAX_SCORE_ATTEMPTS = 4


def shard_of(key: str) -> str:
    """The shard of a customer (or intervention) id: stable across processes, unlike hash()."""
    return SHARD_NAMES[zlib.crc32(key.encode()) % SHARDS]


def score_band(risk_score: float) -> int:
    """The band of a 0-100 score: 0 for [0, 10), ..., 9 for [90, 100]."""
    return min(int(float(risk_score) // SCORE_BAND_WIDTH), 100 // SCORE_BAND_WIDTH - 1)


def search_terms(customer: Mapping[str, Any]) -> set[str]:
    """What a search may begin with: the lower-cased customer id, and the normalised name from each
    of its words on ("Priya K Sharma": "priya k sharma", "k sharma", "sharma")."""
    words = str(customer.get("name", "")).casefold().split()
    return {str(customer["customer_id"]).casefold()} | {" ".join(words[start:]) for start in range(len(words))}


def normalised_query(text: str) -> str:
    return " ".join(text.casefold().split())


class CounterStore(Table):
    """Aggregates kept in the same transaction as the writes they count, read by the risk metrics:
    per score shard, customers by risk level (level_<level>) and score band (band_<n>); per
    customer shard, interventions by channel (channel_<channel>)."""

    def __init__(self, table: str):
        super().__init__(table)
        self.table = table

    @staticmethod
    def score_key(shard: str) -> dict[str, Any]:
        return {"counter": {"S": f"customers#{shard}"}}

    @staticmethod
    def interventions_key(shard: str) -> dict[str, Any]:
        return {"counter": {"S": f"interventions#{shard}"}}

    def adding(self, key: Mapping[str, Any], deltas: Mapping[str, int]) -> dict[str, Any]:
        """The transaction item that adds DELTAS (attribute -> change) to the counters of KEY."""
        names = {f"#c{i}": name for i, name in enumerate(deltas)}
        return {
            "TableName": self.table,
            "Key": dict(key),
            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(deltas))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {f":c{i}": {"N": str(delta)} for i, delta in enumerate(deltas.values())},
        }

    def totals(self) -> dict[str, int]:
        """Every counter summed over its shards (one batched read of 2 x SHARDS items)."""
        keys = [self.score_key(shard) for shard in SHARD_NAMES] + \
            [self.interventions_key(shard) for shard in SHARD_NAMES]
        totals: dict[str, int] = {}
        for item in self.get_many("counter", [deserialize(key)["counter"] for key in keys]).values():
            for name, value in item.items():
                if name != "counter":
                    totals[name] = totals.get(name, 0) + int(value)
        return totals

    def set_score_counts(self, customers: Iterable[Mapping[str, Any]]) -> None:
        """Set the score counters to the levels and bands of CUSTOMERS, taken to be every scored
        customer (what a seed that writes the whole portfolio knows); counts of other writers are
        replaced, so this is for loading, not for serving."""
        counts: dict[str, dict[str, int]] = {shard: {} for shard in SHARD_NAMES}
        for customer in customers:
            if customer.get("risk_level") is None:
                continue
            shard = counts[shard_of(customer["customer_id"])]
            for name in (f"level_{customer['risk_level']}", f"band_{score_band(customer['risk_score'])}"):
                shard[name] = shard.get(name, 0) + 1
        self.put_many({"counter": f"customers#{shard}", **values} for shard, values in counts.items())


class CustomerStore(Table):
    """One item per customer: profile, behavioural features and the latest score.

    With a COUNTERS store, every score write also moves the customer between the score counters, in
    one transaction; with a SEARCH table, writing customers also writes their search terms.
    """

    def __init__(self, table: str, *, counters: CounterStore | None = None, search_table: str | None = None):
        super().__init__(table)
        self.table = table
        self.counters = counters
        self.terms = SearchTerms(search_table) if search_table else None

    def get(self, customer_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        return super().get({"customer_id": customer_id})

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return super().get_many("customer_id", customer_ids)

    def put_many(self, customers: Iterable[Mapping[str, Any]]) -> int:
        """Write whole customer items, and their search terms. A customer that carries a score goes
        in the by_score index and is counted as scored (score_version 1): who writes scored
        customers this way sets the counters after (CounterStore.set_score_counts)."""
        items = []
        for customer in customers:
            item = dict(customer)
            if item.get("risk_score") is not None:
                item.update(score_shard=shard_of(item["customer_id"]), score_version=1)
            items.append(item)
        written = super().put_many(items)
        if self.terms is not None:
            self.terms.put_terms(items)
        return written

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

    def save_score(self, customer: Mapping[str, Any], score: Mapping[str, Any]) -> None:
        """Store SCORE (risk_score, risk_level and what goes with them) as CUSTOMER's latest, in its
        by_score shard, and move the customer between the score counters in the same transaction.

        The write is conditional on the customer's score_version being the one CUSTOMER was read
        with: a retried or concurrent write re-reads the customer and counts from what it then
        holds, so no score is counted twice or lost. A customer without score_version (never
        scored, or scored before the counters) is counted as newly scored: its next score write
        migrates it into the shards and counters. ConditionFailed when there is no such customer.
        """
        if self.counters is None:
            raise ValueError("storing a score needs the counters table")
        current: Mapping[str, Any] | None = customer
        for attempt in range(MAX_SCORE_ATTEMPTS):
            if current is None:
                raise ConditionFailed(f"no customer {customer['customer_id']}")
            try:
                self._save_score_once(current, score)
                return
            except (ConditionFailed, Contended):
                if attempt == MAX_SCORE_ATTEMPTS - 1:
                    raise
                current = self.get(customer["customer_id"])

    def _save_score_once(self, customer: Mapping[str, Any], score: Mapping[str, Any]) -> None:
        customer_id = customer["customer_id"]
        version = customer.get("score_version")
        values = {f":{name}": value for name, value in score.items()}
        values.update({":shard": shard_of(customer_id), ":next": int(version or 0) + 1})
        condition = "attribute_exists(customer_id) AND "
        if version is None:
            condition += "attribute_not_exists(score_version)"
        else:
            condition += "score_version = :version"
            values[":version"] = int(version)
        assignments = ", ".join(f"{name} = :{name}" for name in score)
        update = {
            "TableName": self.table,
            "Key": {"customer_id": {"S": customer_id}},
            "UpdateExpression": f"SET {assignments}, score_shard = :shard, score_version = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": serialize(values),
        }
        deltas: dict[str, int] = {}
        if version is not None and customer.get("risk_level") is not None:
            for name in (f"level_{customer['risk_level']}", f"band_{score_band(customer['risk_score'])}"):
                deltas[name] = deltas.get(name, 0) - 1
        for name in (f"level_{score['risk_level']}", f"band_{score_band(score['risk_score'])}"):
            deltas[name] = deltas.get(name, 0) + 1
        deltas = {name: delta for name, delta in deltas.items() if delta}
        if not deltas:
            # Same level and band: the counters stand as they are.
            call("update_item", **update)
            return
        counter = self.counters.adding(CounterStore.score_key(shard_of(customer_id)), deltas)
        call("transact_write_items", TransactItems=[{"Update": update}, {"Update": counter}])

    def highest_scores(self, min_score: float, limit: int, cursor: str | None) -> Page:
        """Scored customers at or above MIN_SCORE, highest first, merged from every score shard."""
        return self.merged_page(
            "high-risk", limit, cursor, index=BY_SCORE_INDEX, partition_key="score_shard",
            partitions=SHARD_NAMES, sort_key="risk_score",
            key_names=("customer_id", "score_shard", "risk_score"),
            key_condition="score_shard = :partition AND risk_score >= :min", values={":min": float(min_score)},
        )

    def search(self, text: str, limit: int, cursor: str | None) -> Page:
        """Customers whose id, or a word of whose name (with the words after it), begins with TEXT,
        case-insensitively, in the order of the matching terms.

        A prefix query on the search terms, then the customers by key: each page reads about LIMIT
        terms and LIMIT customers. A customer whose name changed since its terms were written, so
        that a stale term matched, is left out; one that matches by two terms (id and name) shows
        once a page.
        """
        if self.terms is None:
            raise ValueError("searching customers needs the search table")
        needle = normalised_query(text)
        page = self.terms.page(needle, limit, cursor)
        found = self.get_many([term["customer_id"] for term in page.items])
        shown: dict[str, dict[str, Any]] = {}
        for term in page.items:
            customer = found.get(term["customer_id"])
            if customer is not None and any(t.startswith(needle) for t in search_terms(customer)):
                shown.setdefault(customer["customer_id"], customer)
        return Page(list(shown.values()), page.cursor)


class SearchTerms(Table):
    """Prefix search over customers: one item per search term (see search_terms), partitioned by
    its first character and sorted by "<term>#<customer_id>", so a search is one begins_with query."""

    def __init__(self, table: str):
        super().__init__(table)
        self.table = table

    def put_terms(self, customers: Iterable[Mapping[str, Any]]) -> int:
        return self.put_many({"term_initial": term[0], "term_key": f"{term}#{customer['customer_id']}",
                              "customer_id": customer["customer_id"]}
                             for customer in customers for term in sorted(search_terms(customer)) if term)

    def page(self, needle: str, limit: int, cursor: str | None) -> Page:
        return self.query_page(
            f"customers:{needle}", limit, cursor, key_names=("term_initial", "term_key"),
            KeyConditionExpression="term_initial = :initial AND begins_with(term_key, :needle)",
            ExpressionAttributeValues=serialize({":initial": needle[0], ":needle": needle}),
        )


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

    def __init__(self, table: str, customers_table: str | None = None, counters: CounterStore | None = None):
        super().__init__(table)
        self.table = table
        self.customers_table = customers_table
        self.counters = counters

    @staticmethod
    def _with_shard(intervention: Mapping[str, Any]) -> dict[str, Any]:
        """INTERVENTION with created_shard, which spreads the by_created index over SHARDS partitions."""
        return {**intervention, "created_shard": shard_of(intervention["intervention_id"])}

    def create(self, intervention: Mapping[str, Any], *, contacted_before: str | None = None) -> None:
        """Put INTERVENTION and stamp the customer, in one transaction.

        With CONTACTED_BEFORE (an ISO time), the transaction also requires that the customer's last
        intervention is older than it: two scorers racing to auto-trigger for one customer cannot
        both pass, and the loser gets ConditionFailed.
        """
        if self.customers_table is None or self.counters is None:
            raise ValueError("creating an intervention needs the customers and counters tables")
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
                        "Item": serialize(self._with_shard(intervention)),
                        "ConditionExpression": "attribute_not_exists(intervention_id)",
                    }
                },
                {"Update": self.counters.adding(CounterStore.interventions_key(shard_of(intervention["customer_id"])),
                                                {f"channel_{intervention['channel']}": 1})},
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
        """Interventions newest first: a customer's (by_customer), of one status (by_status), both (a
        customer's, filtered: one customer has few), or all of them (by_created, merged over its shards)."""
        listing = f"interventions:{customer_id or '*'}:{status or '*'}"
        if customer_id is None and status is None:
            return self.merged_page(
                listing, limit, cursor, index=BY_CREATED_INDEX, partition_key="created_shard",
                partitions=SHARD_NAMES, sort_key="created_at",
                key_names=("intervention_id", "created_shard", "created_at"),
                key_condition="created_shard = :partition", values={},
            )
        if customer_id is None:
            return self.query_page(
                listing, limit, cursor, key_names=("intervention_id", "status", "created_at"), IndexName=BY_STATUS_INDEX,
                KeyConditionExpression="#status = :status", ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=serialize({":status": status}), ScanIndexForward=False,
            )
        request: dict[str, Any] = {
            "TableName": self.table, "Limit": limit, "IndexName": BY_CUSTOMER_INDEX,
            "KeyConditionExpression": "customer_id = :customer", "ScanIndexForward": False,
            "ExpressionAttributeValues": serialize({":customer": customer_id, **({":status": status} if status else {})}),
        }
        if status:
            request.update(FilterExpression="#status = :status", ExpressionAttributeNames={"#status": "status"})
        start = decode_cursor(listing, cursor, ("intervention_id", "customer_id", "created_at"))
        if start:
            request["ExclusiveStartKey"] = start
        items: list[dict[str, Any]] = []
        # A filter can leave a page empty while more remain; keep reading until something to show.
        while True:
            answer = call("query", **request)
            items.extend(deserialize(item) for item in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if items or not last:
                return Page(items, encode_cursor(listing, last))
            request["ExclusiveStartKey"] = last

    def count_by_status(self, statuses: Iterable[str]) -> dict[str, int]:
        """How many interventions are in each of STATUSES: a counting query per status on by_status
        (DynamoDB reads the index entries to count them, and returns only the count)."""
        counts = {}
        for status in statuses:
            request: dict[str, Any] = {
                "TableName": self.table, "IndexName": BY_STATUS_INDEX, "Select": "COUNT",
                "KeyConditionExpression": "#status = :status", "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": serialize({":status": status}),
            }
            counts[status] = sum(answer.get("Count", 0) for answer in pages("query", **request))
        return counts
