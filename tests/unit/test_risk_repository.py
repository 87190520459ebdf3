"""Risk data access: opaque cursors, the by_score listing and value round-trips, under moto."""

from __future__ import annotations

import pytest

from finscore.errors import InvalidRequest
from finscore.dynamo import decode_cursor, deserialize, encode_cursor, serialize
from finscore.products.risk.repository import CounterStore, CustomerStore


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
