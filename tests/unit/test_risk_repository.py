"""Risk data access: opaque cursors, the by_score listing and value round-trips, under moto."""

from __future__ import annotations

import pytest

from finscore.errors import InvalidRequest
from finscore.dynamo import Contended, Table, decode_cursor, deserialize, encode_cursor, encode_partitions_cursor, serialize
from finscore.products.risk.repository import CounterStore, CustomerStore, shard_of


HIGH_RISK_KEY = ("customer_id", "risk_score", "score_partition")


def test_a_cursor_round_trips_and_is_bound_to_its_listing():
    key = {"customer_id": {"S": "C000042"}, "risk_score": {"N": "87.5"}, "score_partition": {"S": "scored"}}

    cursor = encode_cursor("high-risk", key)

    assert "C000042" not in cursor  # opaque, not a readable key
    assert decode_cursor("high-risk", cursor, HIGH_RISK_KEY) == key
    with pytest.raises(InvalidRequest) as error:
        decode_cursor("customers", cursor, ("customer_id",))
    assert error.value.details[0].field == "cursor"


def _forged(key) -> str:
    return encode_cursor("high-risk", key)


@pytest.mark.parametrize("cursor", [
    "not-a-cursor", "e30", "eyJsIjoiaGlnaC1yaXNrIiwiayI6eyJhIjoxfX0", "%%%",
    # Valid base64 JSON of this listing, but not a key it can start from: DynamoDB would fail on these.
    _forged({"foo": {"S": "x"}}),
    _forged({"customer_id": {"S": "C1"}}),
    _forged({"customer_id": {"S": "C1"}, "risk_score": {"N": "not a number"}, "score_partition": {"S": "scored"}}),
    _forged({"customer_id": {"B": "AA=="}, "risk_score": {"N": "1"}, "score_partition": {"S": "scored"}}),
    _forged({"customer_id": {"S": ""}, "risk_score": {"N": "1"}, "score_partition": {"S": "scored"}}),
    _forged({"customer_id": {"S": "C1"}, "risk_score": {"N": "NaN"}, "score_partition": {"S": "scored"}}),
])
def test_a_forged_cursor_is_a_400(cursor):
    with pytest.raises(InvalidRequest):
        decode_cursor("high-risk", cursor, HIGH_RISK_KEY)


def test_no_more_pages_means_no_cursor():
    assert encode_cursor("high-risk", None) is None
    assert decode_cursor("high-risk", None, HIGH_RISK_KEY) is None


def test_values_round_trip_through_dynamodb_types():
    item = {"customer_id": "C1", "count": 3, "score": 87.5, "features": {"a": 0.25, "b": 2}, "flag": True,
            "missing": None}

    back = deserialize(serialize(item))

    assert back == {k: v for k, v in item.items() if v is not None}
    assert isinstance(back["count"], int) and isinstance(back["score"], float)


def _customers(aws) -> CustomerStore:
    return CustomerStore(aws["RISK_CUSTOMERS_TABLE"], counters=CounterStore(aws["RISK_COUNTERS_TABLE"]),
                         search_table=aws["RISK_CUSTOMER_SEARCH_TABLE"])


def test_the_high_risk_listing_pages_highest_first(aws):
    store = _customers(aws)
    store.put_many([{"customer_id": f"C{i:03d}", "name": f"Customer {i}"} for i in range(12)])
    for i in range(12):
        store.save_score({"customer_id": f"C{i:03d}"}, {"risk_score": float(i * 9), "risk_level": "high", "probability": i * 0.09})
    unscored = {"customer_id": "C999", "name": "Never Scored"}
    store.put_many([unscored])

    seen, cursor = [], None
    while True:
        page = store.highest_scores(27.0, 4, cursor)
        seen += [item["risk_score"] for item in page.items]
        cursor = page.cursor
        if not cursor:
            break

    assert seen == [99.0, 90.0, 81.0, 72.0, 63.0, 54.0, 45.0, 36.0, 27.0]


def test_search_matches_id_prefix_and_name_words(aws):
    store = _customers(aws)
    store.put_many([{"customer_id": "C100", "name": "Priya Sharma"}, {"customer_id": "C200", "name": "Rahul Verma"},
                    {"customer_id": "X300", "name": "Anil Sharma"}])

    assert sorted(i["customer_id"] for i in store.search("C", 10, None).items) == ["C100", "C200"]
    assert sorted(i["customer_id"] for i in store.search("sharma", 10, None).items) == ["C100", "X300"]
    first = store.search("sharma", 1, None)
    rest = store.search("sharma", 10, first.cursor)
    assert len(first.items) == 1 and len(rest.items) == 1 and first.items[0] != rest.items[0]


def test_equal_scores_in_different_shards_page_without_loss_or_repeat(aws):
    # Given 20 customers with one score, spread over the shards
    store = _customers(aws)
    ids = [f"T{i:03d}" for i in range(20)]
    store.put_many([{"customer_id": customer_id, "name": "Same Score"} for customer_id in ids])
    for customer_id in ids:
        store.save_score({"customer_id": customer_id}, {"risk_score": 50.0, "risk_level": "medium"})
    assert len({shard_of(customer_id) for customer_id in ids}) > 1

    # When the listing is read three at a time
    seen, cursor = [], None
    while True:
        page = store.highest_scores(0.0, 3, cursor)
        seen += [item["customer_id"] for item in page.items]
        if not (cursor := page.cursor):
            break

    # Then every customer comes exactly once
    assert sorted(seen) == ids


def _partitions_cursor(positions, finished=()) -> str:
    return encode_partitions_cursor("high-risk", positions, finished)


def _score_key(customer_id, shard, score="50") -> dict:
    return {"customer_id": {"S": customer_id}, "score_shard": {"S": shard}, "risk_score": {"N": score}}


@pytest.mark.parametrize("cursor", [
    encode_cursor("high-risk", _score_key("C1", "0")),  # a single-query cursor, not a merged one
    _partitions_cursor({"99": _score_key("C1", "99")}),  # no such shard
    _partitions_cursor({"1": _score_key("C1", "2")}),  # a key outside the shard it claims
    _partitions_cursor({"1": {"customer_id": {"S": "C1"}}}),
    _partitions_cursor({}, ["0", "nine"]),
    _partitions_cursor({"1": _score_key("C1", "1", "NaN")}),
    encode_partitions_cursor("customers:c", {"1": _score_key("C1", "1")}, ()),
])
def test_a_forged_high_risk_cursor_is_a_400(aws, cursor):
    with pytest.raises(InvalidRequest) as error:
        _customers(aws).highest_scores(0.0, 5, cursor)
    assert error.value.details[0].field == "cursor"


def test_counters_follow_each_customer_once_whatever_the_retries(aws):
    # Given a customer scored low, then high
    store = _customers(aws)
    store.put_many([{"customer_id": "K1", "name": "Kiran Rao"}])
    store.save_score(store.get("K1"), {"risk_score": 12.0, "risk_level": "low"})
    read_before_the_second_score = store.get("K1")
    store.save_score(store.get("K1"), {"risk_score": 85.0, "risk_level": "critical"})

    # When a retry of the second write comes with the customer as read before it, and a third
    # write moves it again within its level
    store.save_score(read_before_the_second_score, {"risk_score": 85.0, "risk_level": "critical"})
    store.save_score(store.get("K1"), {"risk_score": 88.0, "risk_level": "critical"})

    # Then the customer is counted once, at its latest level and band
    totals = store.counters.totals()
    assert {name: count for name, count in totals.items() if count} == {"level_critical": 1, "band_8": 1}
    assert store.get("K1")["score_version"] == 4


def test_a_customer_scored_before_the_counters_is_counted_by_its_next_score(aws):
    # Given a customer stored with a score but no score_version (as before the counters)
    store = _customers(aws)
    Table(aws["RISK_CUSTOMERS_TABLE"]).put_many([{"customer_id": "L1", "name": "Old Score", "risk_score": 40.0,
                                                  "risk_level": "medium"}])

    # When it is scored again
    store.save_score(store.get("L1"), {"risk_score": 70.0, "risk_level": "high"})

    # Then it is in its shard of by_score and counted once
    assert [item["customer_id"] for item in store.highest_scores(60.0, 10, None).items] == ["L1"]
    assert {name: count for name, count in store.counters.totals().items() if count} == {"level_high": 1, "band_7": 1}


def test_search_takes_words_in_order_and_drops_terms_of_an_old_name(aws):
    store = _customers(aws)
    store.put_many([{"customer_id": "S1", "name": "Meera Devi Iyer"}, {"customer_id": "S2", "name": "Devika Nair"}])

    assert [i["customer_id"] for i in store.search("devi iyer", 10, None).items] == ["S1"]
    assert sorted(i["customer_id"] for i in store.search(" DEVI ", 10, None).items) == ["S1", "S2"]
    assert store.search("iyer devi", 10, None).items == []

    # When S1 is renamed, the terms of the old name find it no more
    Table(aws["RISK_CUSTOMERS_TABLE"]).put_many([{"customer_id": "S1", "name": "Meera Menon"}])
    assert [i["customer_id"] for i in store.search("devi", 10, None).items] == ["S2"]


def test_a_score_write_that_meets_a_transaction_is_read_again_and_retried(aws, monkeypatch):
    # Given a customer, and DynamoDB answering the first score write with a transaction conflict
    from finscore.products.risk import repository

    store = _customers(aws)
    store.put_many([{"customer_id": "R1", "name": "Ravi Das"}])
    real_call, conflicts = repository.call, []

    def conflicting(operation, **request):
        if operation == "transact_write_items" and not conflicts:
            conflicts.append(operation)
            raise Contended("DynamoDB transact_write_items failed: TransactionConflict")
        return real_call(operation, **request)

    monkeypatch.setattr(repository, "call", conflicting)

    # When it is scored
    store.save_score(store.get("R1"), {"risk_score": 65.0, "risk_level": "high"})

    # Then the retry stored and counted it once
    assert conflicts and store.get("R1")["risk_level"] == "high"
    assert {name: count for name, count in store.counters.totals().items() if count} == {"level_high": 1, "band_6": 1}
