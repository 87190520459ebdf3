"""The risk API and explanation handlers fed events/risk_api/*.json and events/risk_explain/*.json under moto."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest

from finscore.products.risk import explanation, service
from finscore.products.risk.features import FEATURE_NAMES, as_date, today
from finscore.products.risk.reasons import REASONS
from finscore.products.risk.repository import CustomerStore, InterventionStore, TransactionStore
from tests.handlers import seed_product
from tests.handlers import FakeContext, invoke, load_event, load_handler

API = "risk_api"
EXPLAIN = "risk_explain"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


@pytest.fixture(autouse=True)
def _fresh_caches():
    service.reset()
    explanation.reset()
    yield
    service.reset()
    explanation.reset()


@pytest.fixture
def seeded(aws, risk_champion):
    """60 customers with features and champion scores; the transactions of 12 of them."""
    report = seed_product(aws, "risk", customers=60, seed=3, transactions_for=12)
    assert report["customers"] == 60
    return report


def call(case: str, function: str = API, **changes) -> tuple[int, dict]:
    event = load_event(function, case)
    for key, value in changes.items():
        event[key] = value
    return invoke(function, event)


def with_query(case: str, **query) -> dict:
    event = load_event(API, case)
    merged = {**(event.get("queryStringParameters") or {}), **query}
    event["queryStringParameters"] = merged
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in merged.items()}
    return event


def error_fields(body: dict, code: str | None = None) -> set[str]:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code
    return {detail["field"] for detail in body["error"]["details"]}


def test_high_risk_lists_highest_first_across_cursor_pages(seeded):
    pages, customers = 0, []
    event = load_event(API, "high-risk")
    while True:
        status, body = invoke(API, event)
        assert status == 200, body
        assert len(body["customers"]) <= 5
        customers += body["customers"]
        pages += 1
        if not body["next_cursor"]:
            break
        event = with_query("high-risk", cursor=body["next_cursor"])

    scores = [customer["risk_score"] for customer in customers]
    expected = sum(count for level, count in seeded["levels"].items() if level != "low")
    assert scores == sorted(scores, reverse=True)
    assert len({customer["customer_id"] for customer in customers}) == len(customers) == expected
    assert pages >= 2 or expected <= 5
    assert all(customer["risk_level"] != "low" and customer["risk_score"] >= body["min_score"] for customer in customers)


def test_scoring_by_id_stores_the_score_on_the_customer(seeded, risk_champion):
    status, body = call("score-by-id")

    assert status == 200, body
    assert body["customer_id"] == "C000001"
    assert body["model_version"] == risk_champion.version
    assert 0 <= body["risk_score"] <= 100 and body["risk_score"] == round(100 * body["probability"], 1)
    low, high, critical = body["cutoffs"]
    expected = ("critical" if body["risk_score"] >= critical else "high" if body["risk_score"] >= high
                else "medium" if body["risk_score"] >= low else "low")
    assert body["risk_level"] == expected
    status, detail = call("customer-detail")
    assert status == 200
    latest = detail["latest_score"]
    assert (latest["probability"], latest["risk_score"], latest["risk_level"], latest["model_version"]) == (
        body["probability"], body["risk_score"], body["risk_level"], body["model_version"])
    # The seed stored this very score: it is not written again, and keeps the time it was set.
    assert latest["scored_at"] <= body["scored_at"]
    assert set(detail["features"]) == set(FEATURE_NAMES)


def test_a_customer_scored_as_of_a_later_date_counts_the_silence_since(aws, seeded):
    # A customer whose transactions are stored; nothing new arrives.
    transactions = TransactionStore(aws["RISK_TRANSACTIONS_TABLE"])
    customer_id = next(f"C{n:06d}" for n in range(1, 61) if transactions.all_for(f"C{n:06d}"))
    first = min(str(t["date"]) for t in transactions.all_for(customer_id))

    def score(**body) -> tuple[int, dict]:
        event = load_event(API, "score-as-of")
        return invoke(API, {**event, "body": json.dumps({"customer_id": customer_id, **body})})

    status, now = score()
    later = (today() + timedelta(days=120)).isoformat()
    status_later, then = score(as_of=later)

    assert status == status_later == 200
    assert now["as_of"] == today().isoformat() and then["as_of"] == later
    assert then["risk_score"] != now["risk_score"]
    # An answer about another date: the customer's stored score is today's.
    assert CustomerStore(aws["RISK_CUSTOMERS_TABLE"]).get(customer_id)["risk_score"] == now["risk_score"]
    status, body = score(as_of=(as_date(first) - timedelta(days=1)).isoformat())
    assert status == 422 and error_fields(body, "validation_failed") == {"as_of"}


def test_raw_features_are_scored_and_not_stored(seeded):
    status, body = call("score-features")

    assert status == 200, body
    assert body["customer_id"] is None and body["intervention_id"] is None


def test_a_score_at_the_threshold_creates_one_intervention_per_cooldown(seeded, monkeypatch):
    monkeypatch.setenv("AUTO_TRIGGER_THRESHOLD", "0")
    service.reset()

    first = call("score-by-id")[1]
    second = call("score-by-id")[1]

    assert first["intervention_id"] and second["intervention_id"] is None
    status, listing = call("interventions-list", queryStringParameters={"customer_id": "C000001"},
                           multiValueQueryStringParameters={"customer_id": ["C000001"]})
    assert status == 200
    assert [item["intervention_id"] for item in listing["interventions"]] == [first["intervention_id"]]
    assert listing["interventions"][0]["trigger"] == "auto"


def test_batch_scoring_fails_bad_records_alone(seeded):
    status, body = call("score-batch")

    assert status == 200, body
    assert [result["index"] for result in body["results"]] == [0, 1, 5]
    assert {error["index"]: error["code"] for error in body["errors"]} == {
        2: "not_found", 3: "validation_failed", 4: "validation_failed"}
    assert body["scored"] == 3 and body["failed"] == 3
    fields = {detail["field"] for detail in body["errors"][2]["details"]}
    assert "features.tenure_months" in fields


def test_customer_search_pages_through_id_prefix_matches(seeded):
    status, body = call("customers-search")

    assert status == 200, body
    ids = [customer["customer_id"] for customer in body["customers"]]
    assert ids and all(customer_id.startswith("C00001") for customer_id in ids)
    assert len(ids) == 5 and body["next_cursor"]
    rest = invoke(API, with_query("customers-search", cursor=body["next_cursor"]))[1]
    more = [customer["customer_id"] for customer in rest["customers"]]
    assert more and not set(more) & set(ids) and len(ids + more) == 10  # C000010..C000019


def test_customer_search_finds_names_case_insensitively(seeded):
    detail = call("customer-detail")[1]
    surname = detail["name"].split()[-1]

    status, body = invoke(API, with_query("customers-search", q=surname.upper(), limit="50"))

    assert status == 200
    assert "C000001" in [customer["customer_id"] for customer in body["customers"]]
    assert all(surname.lower() in customer["name"].lower() for customer in body["customers"])


def test_transactions_are_listed_newest_first(seeded):
    status, body = call("customer-transactions")

    assert status == 200, body
    dates = [transaction["date"] for transaction in body["transactions"]]
    assert len(dates) == 10 and dates == sorted(dates, reverse=True)
    assert body["next_cursor"]


def test_posted_transactions_are_stored_and_the_customer_rescored(seeded):
    status, body = call("transactions-add")

    assert status == 200, body
    assert (body["received"], body["stored"], body["rejected"]) == (3, 1, 2)
    assert [reject["index"] for reject in body["rejects"]] == [1, 2]
    assert "direction" in body["rejects"][0]["reason"] and "amount" in body["rejects"][0]["reason"]
    assert "unknown customer" in body["rejects"][1]["reason"]
    assert [score["customer_id"] for score in body["scores"]] == ["C000001"]
    listing = invoke(API, with_query("customer-transactions", limit="100"))[1]
    assert "EV-0001" in {transaction["txn_id"] for transaction in listing["transactions"]}
    detail = call("customer-detail")[1]
    assert detail["latest_score"]["risk_score"] == body["scores"][0]["risk_score"]
    assert detail["features_as_of"] >= "2025-07-02"
    # Replaying the same request stores nothing twice.
    call("transactions-add")
    again = invoke(API, with_query("customer-transactions", limit="100"))[1]
    assert len(again["transactions"]) == len(listing["transactions"])


def test_the_explanation_gives_up_to_four_true_adverse_reasons_by_impact(seeded, risk_champion):
    status, body = call("explanation", EXPLAIN)

    assert status == 200, body
    assert body["model_version"] == risk_champion.version
    assert set(body["contributions"]) == set(FEATURE_NAMES)
    reasons = body["reasons"]
    assert len(reasons) <= 4
    impacts = [reason["impact"] for reason in reasons]
    assert impacts == sorted(impacts, reverse=True) and all(impact > 0 for impact in impacts)
    for reason in reasons:
        spec = REASONS[reason["feature"]]
        assert reason["code"] == spec.code and reason["direction"] == spec.direction
        # A true statement about the customer: on the adverse side of its reference, rendered from both.
        assert spec.adverse(reason["value"], reason["reference"])
        assert reason["text"] == spec.render(reason["value"], reason["reference"])
        assert reason["impact"] == pytest.approx(body["contributions"][reason["feature"]], abs=1e-5)


def test_an_unknown_customer_has_no_explanation(seeded):
    status, body = call("explanation-unknown-customer", EXPLAIN)

    assert status == 404
    assert error_fields(body, "not_found") == {"customer_id"}


def test_the_same_idempotency_key_creates_one_intervention(seeded):
    first_status, first = call("intervention-create")
    second_status, second = call("intervention-create")

    assert (first_status, second_status) == (201, 200), (first, second)
    assert first == second
    assert first["status"] == "queued" and first["channel"] == "sms" and first["language"] == "hi"
    assert DEVANAGARI.search(first["message"])
    status, listing = call("interventions-list")
    assert status == 200
    assert [item["intervention_id"] for item in listing["interventions"]] == [first["intervention_id"]]


def test_outcomes_follow_the_status_history(seeded):
    created = call("intervention-create")[1]

    status, body = call("intervention-outcome-delivered")  # still queued: nothing was sent yet
    assert status == 409
    assert error_fields(body, "conflict") == {"status"}

    store = InterventionStore(os.environ["INTERVENTIONS_TABLE"])
    store.transition(created["intervention_id"], "queued", "sending", {"status": "sending", "at": "2026-11-21T06:00:00Z"})
    store.transition(created["intervention_id"], "sending", "sent", {"status": "sent", "at": "2026-11-21T06:00:01Z"})
    assert call("intervention-outcome-delivered")[0] == 200
    status, body = call("intervention-outcome-responded")
    assert status == 200, body
    assert [entry["status"] for entry in body["history"]] == ["queued", "sending", "sent", "delivered", "responded"]
    assert body["response"] == "promised_to_pay"


def test_interventions_can_be_switched_off(seeded, monkeypatch):
    monkeypatch.setenv("ENABLE_INTERVENTIONS", "false")
    service.reset()

    status, body = call("intervention-create")

    assert status == 403
    assert body["error"]["code"] == "interventions_disabled"


def test_a_hindi_sms_comes_in_devanagari_with_its_segment_count(seeded):
    status, body = call("messages-hindi-sms")

    assert status == 200, body
    assert body["language"] == "hi" and body["encoding"] == "UCS-2"
    assert DEVANAGARI.search(body["text"]) and body["text"].startswith("नमस्ते Priya जी,")
    assert body["segments"] == -(-body["characters"] // 67) and body["segments"] >= 2


def test_hindi_text_travels_as_utf8_not_as_escapes(seeded):
    response = load_handler(API).lambda_handler(load_event(API, "messages-hindi-sms"), FakeContext())

    assert "नमस्ते" in response["body"] and "\\u0928" not in response["body"]


def test_messages_for_a_customer_use_their_level_and_language(seeded):
    detail = call("customer-detail")[1]

    status, body = call("messages-for-customer")

    assert status == 200, body
    assert body["risk_level"] == detail["latest_score"]["risk_level"]
    assert (body["language"], body["channel"]) == (detail["preferred_language"], detail["preferred_channel"])


def test_metrics_count_levels_and_interventions(seeded, risk_champion):
    call("intervention-create")
    call("intervention-create-email")

    status, body = call("metrics")

    assert status == 200, body
    assert body["customers_by_level"] == {level: seeded["levels"].get(level, 0)
                                          for level in ("low", "medium", "high", "critical")}
    assert body["scored_customers"] == 60
    assert body["interventions_by_status"]["queued"] == 2
    assert body["interventions_by_channel"] == {"sms": 1, "email": 1, "app": 0}
    assert body["model"]["version"] == risk_champion.version
    assert {"roc_auc", "pr_auc", "brier"} <= set(body["model"]["metrics"])


def test_metrics_follow_a_customer_rescored_into_another_level(seeded, aws):
    # Given a seeded customer, counted at its seeded level
    customer = CustomerStore(aws["RISK_CUSTOMERS_TABLE"]).get("C000001")
    before = call("metrics")[1]["customers_by_level"]

    # When a new score moves it into another level
    level = next(name for name in ("low", "critical") if name != customer["risk_level"])
    service.context().customers.save_score(customer, {"risk_score": 5.0 if level == "low" else 95.0,
                                                      "risk_level": level})

    # Then the metrics move it, and still count every customer once
    after = call("metrics")[1]
    assert after["customers_by_level"][level] == before[level] + 1
    assert after["customers_by_level"][customer["risk_level"]] == before[customer["risk_level"]] - 1
    assert after["scored_customers"] == 60


def test_metrics_read_the_counters_not_the_customers(seeded, aws, dynamodb_calls):
    status, body = call("metrics")

    assert status == 200 and body["scored_customers"] == 60
    tables = {table for function, table, _ in dynamodb_calls.calls if function == API}
    assert aws["RISK_COUNTERS_TABLE"] in tables and aws["RISK_CUSTOMERS_TABLE"] not in tables


def test_a_blank_search_is_a_422_naming_q(seeded):
    status, body = invoke(API, with_query("customers-search", q="   "))

    assert status == 422 and error_fields(body) == {"query.q"}


def test_listings_and_metrics_read_indexes_and_counters_never_a_scan(seeded, aws, dynamodb_calls):
    call("intervention-create")

    for event in ("customers-search", "high-risk", "interventions-list", "metrics"):
        status, body = call(event)
        assert status == 200, (event, body)
    status, body = invoke(API, with_query("interventions-list", status="queued"))
    assert status == 200 and [item["status"] for item in body["interventions"]] == ["queued"]

    # The autouse recorder (tests/conftest.py) fails any test whose handlers scan; here, what they did instead.
    reads = {(table, action) for function, table, action in dynamodb_calls.calls if function == API}
    assert {(aws["RISK_CUSTOMER_SEARCH_TABLE"], "Query"), (aws["RISK_CUSTOMERS_TABLE"], "Query"),
            (aws["INTERVENTIONS_TABLE"], "Query"), (aws["RISK_COUNTERS_TABLE"], "BatchGetItem")} <= reads
    assert not [call for call in dynamodb_calls.calls if call[2] == "Scan"]


BAD_INPUT = [  # (function, event, status, fields the error must name; None: any)
    (API, "score-unknown-customer", 404, {"customer_id"}),
    (API, "score-both-sources", 422, {"body"}),
    (API, "score-missing-feature", 422, {"features.failed_auto_debits_90d", "features.shoe_size"}),
    (API, "score-bad-customer-id", 422, {"customer_id"}),
    (API, "score-malformed-json", 400, {"body"}),
    (API, "score-batch-empty", 422, {"records"}),
    (API, "customers-search-missing-q", 422, {"query.q"}),
    (API, "customers-search-bad-limit", 422, {"query.limit"}),
    (API, "customer-unknown", 404, {"customer_id"}),
    (API, "customer-transactions-unknown", 404, {"customer_id"}),
    (API, "transactions-all-rejected", 422, {"transactions[0]"}),
    (API, "transactions-not-a-list", 422, None),
    (API, "high-risk-bad-level", 422, {"query.min_level"}),
    (API, "high-risk-bad-cursor", 400, {"cursor"}),
    (API, "intervention-missing-key", 422, {"header.idempotency-key"}),
    (API, "intervention-bad-channel", 422, {"channel"}),
    (API, "intervention-unknown-customer", 404, {"customer_id"}),
    (API, "interventions-list-bad-status", 422, {"query.status"}),
    (API, "intervention-outcome-bad-status", 422, {"status"}),
    (API, "intervention-outcome-unknown", 404, {"intervention_id"}),
    (API, "messages-missing-level", 422, {"body"}),
    (API, "messages-bad-language", 422, {"language"}),
    (EXPLAIN, "explanation-bad-id", 422, {"path.customer_id"}),
]


def test_bad_input_is_a_4xx_naming_the_fields(seeded):
    # One seeded stack for every case: each case is a read or a refused write, independent of the others.
    for function, case, status, fields in BAD_INPUT:
        got, body = call(case, function)

        assert got == status, (case, body)
        named = error_fields(body)
        assert named, case
        if fields is not None:
            assert fields <= named, (case, named)



def test_a_batch_over_1000_records_is_refused(seeded):
    event = load_event(API, "score-batch")
    event["body"] = json.dumps({"records": [{"customer_id": "C000001"}] * 1001})

    status, body = invoke(API, event)

    assert status == 422
    assert error_fields(body) == {"records"}
