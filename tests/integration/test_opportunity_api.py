"""The opportunity API fed events/opportunity_api/*.json under moto, review files through the ingest
function, and opportunity files in batch scoring."""

from __future__ import annotations

import copy
import csv
import io
import json

import pytest

from finscore.aws import client
from finscore.batch import pipeline, scoring
from finscore.products import scoring as product_scoring
from finscore.products.opportunity import ingest, stores
from tests.conftest import promote_candidate
from tests.handlers import FakeContext, invoke, load_event, load_handler, s3_notification_event, seed_product

FUNCTION = "opportunity_api"
# The quick model's world (its spec's quick_training: 1,500 rows, seed 11) seeds the stores.
BUSINESSES, SEED = 150, 11
GLOWING = ["Absolutely wonderful place, the owners are kind and everything is excellent! #{n}",
           "Fantastic service, amazing value and lovely friendly staff. Highly recommend! #{n}"]


def _reset() -> None:
    product_scoring.reset_champions()
    stores.reset_stores()
    ingest.ingest_bucket.cache_clear()


@pytest.fixture
def opportunity(aws, candidates):
    _reset()
    manifest = promote_candidate(aws, candidates("opportunity"))
    seed_product(aws, "opportunity", businesses=BUSINESSES, seed=SEED)
    yield manifest
    _reset()


def call(case: str, body: object | None = None, **event_updates) -> tuple[int, dict]:
    event = copy.deepcopy(load_event(FUNCTION, case))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    event.update(event_updates)
    return invoke(FUNCTION, event)


def populated_location() -> str:
    """A location with several businesses: the one with the most."""
    listing = call("locations")[1]["locations"]
    return max(listing, key=lambda item: (item["business_count"], item["location"]))["location"]


def test_a_location_is_scored_highest_first_with_sentiment_and_economy(opportunity):
    location = populated_location()

    status, body = call("score", {"location": location, "limit": 50})

    assert status == 200, body
    assert body["model_version"] == opportunity.version and body["location"] == location
    assert body["total_businesses"] == len(body["results"]) > 1
    scores = [result["opportunity_score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= score <= 100 for score in scores)
    assert [result["rank"] for result in body["results"]] == list(range(1, len(scores) + 1))
    for result in body["results"]:
        expected = "high" if result["opportunity_score"] >= 65 else "medium" if result["opportunity_score"] >= 50 else "low"
        assert result["category"] == expected
    assert -1 <= body["sentiment"]["sentiment_score"] <= 1 and 0 < body["sentiment"]["engagement_score"] <= 1
    assert body["economic_context"]["effective_date"] == "2026-11-01"
    assert {"inflation_rate", "interest_rate", "market_index"} <= set(body["economic_context"])


def test_a_warm_function_reads_a_locations_businesses_once_until_they_age(opportunity, monkeypatch):
    reads = []
    in_location = stores.BusinessStore.in_location
    monkeypatch.setattr(stores.BusinessStore, "in_location",
                        lambda self, location: reads.append(location) or in_location(self, location))

    first, second = call("score"), call("score")
    assert first == second and first[0] == 200 and len(reads) == 1

    monkeypatch.setattr(stores, "BUSINESSES_TTL_S", 0.0)
    assert call("score") == first
    assert len(reads) == 2


def test_a_business_type_and_limit_narrow_the_answer(opportunity):
    location = populated_location()
    every = call("score", {"location": location, "limit": 500})[1]["results"]
    kind = every[0]["business_type"]

    status, body = call("score", {"location": location, "business_type": kind, "limit": 1})

    assert status == 200, body
    assert len(body["results"]) == 1 and body["results"][0]["business_type"] == kind
    assert body["total_businesses"] == sum(result["business_type"] == kind for result in every)


def test_an_unknown_location_is_404_and_bad_fields_are_422_naming_them(opportunity):
    status, body = call("score-unknown-location")
    assert status == 404
    assert body["error"]["details"] == [{"field": "location", "issue": "not a known location"}]

    status, body = call("score-bad-fields")
    assert status == 422
    assert {"location", "business_type", "limit"} <= {detail["field"] for detail in body["error"]["details"]}


def test_compare_answers_for_each_location_and_names_unknown_ones(opportunity):
    listing = [item["location"] for item in call("locations")[1]["locations"]]
    asked = listing[:3]

    status, body = call("compare", {"locations": asked})

    assert status == 200, body
    assert [entry["location"] for entry in body["locations"]] == asked
    for entry in body["locations"]:
        alone = call("score", {"location": entry["location"], "limit": 500})[1]
        assert entry["total_businesses"] == alone["total_businesses"]
        if alone["results"]:
            assert entry["top_score"] == alone["results"][0]["opportunity_score"]
            assert entry["best_business_type"] in {result["business_type"] for result in alone["results"]}
            assert sum(entry["category_counts"].values()) == entry["total_businesses"]

    status, body = call("compare-unknown-location")
    assert status == 404
    assert [detail["field"] for detail in body["error"]["details"]] == ["locations.1"]


def test_locations_list_every_generated_neighbourhood(opportunity):
    from training.opportunity.generator import LOCATIONS

    status, body = call("locations")

    assert status == 200, body
    assert {item["location"] for item in body["locations"]} == set(LOCATIONS)
    assert sum(item["business_count"] for item in body["locations"]) == BUSINESSES
    assert all(item["city"] and item["neighbourhood"] for item in body["locations"])


def test_reviews_are_scored_stored_once_and_move_the_aggregates(opportunity):
    status, body = call("reviews")

    assert status == 200, body
    compounds = [result["compound"] for result in body["results"]]
    assert compounds[0] > 0.5 and compounds[1] < 0
    assert (body["received"], body["inserted_count"], body["duplicate_count"]) == (3, 3, 0)
    again = call("reviews")[1]
    assert (again["inserted_count"], again["duplicate_count"]) == (0, 3)
    assert again["aggregates"] == body["aggregates"]
    assert call("reviews-empty-texts")[0] == 422


def test_twenty_glowing_reviews_raise_sentiment_and_scores(opportunity):
    location = populated_location()
    before = call("score", {"location": location, "limit": 500})[1]
    texts = [GLOWING[n % 2].format(n=n) for n in range(20)]

    status, body = call("reviews", {"location": location, "texts": texts})

    assert status == 200, body
    assert body["inserted_count"] == 20 and min(result["compound"] for result in body["results"]) > 0.8
    after = call("score", {"location": location, "limit": 500})[1]
    assert after["sentiment"]["sentiment_score"] > before["sentiment"]["sentiment_score"]
    assert after["sentiment"]["review_count"] == before["sentiment"]["review_count"] + 20
    mean = lambda answer: sum(r["opportunity_score"] for r in answer["results"]) / len(answer["results"])  # noqa: E731
    assert mean(after) > mean(before)


def test_new_indicators_apply_and_change_scores_history_kept(opportunity):
    location = populated_location()
    before = call("score", {"location": location, "limit": 500})[1]

    status, body = call("economic-indicators", {"effective_date": "2026-12-01", "inflation_rate": 11.5,
                                                "interest_rate": 10.5, "market_index": 21000})
    assert status == 200, body
    assert body["in_effect"]["effective_date"] == "2026-12-01"
    after = call("score", {"location": location, "limit": 500})[1]
    assert after["economic_context"]["inflation_rate"] == 11.5
    assert sum(r["opportunity_score"] for r in after["results"]) < sum(r["opportunity_score"] for r in before["results"])

    # An older date goes into the history and does not displace the latest.
    older = call("economic-indicators", {"effective_date": "2020-01-01", "inflation_rate": 3, "interest_rate": 4,
                                         "market_index": 12000})[1]
    assert older["in_effect"]["effective_date"] == "2026-12-01"

    status, body = call("economic-indicators-bad")
    assert status == 422
    assert {"effective_date", "inflation_rate", "interest_rate", "market_index"} <= \
        {detail["field"] for detail in body["error"]["details"]}


def test_the_model_route_gives_metrics_and_both_importances(opportunity):
    status, body = call("model")

    assert status == 200, body
    assert body["model_version"] == opportunity.version
    assert {"mse", "rmse", "mae", "r2"} == set(body["metrics"])
    assert set(body["feature_importance"]) == {"impurity", "permutation"}
    assert set(body["feature_importance"]["impurity"]) == set(body["inputs"])
    assert set(body["candidates"]) == {"factors", "factors+business_type"}
    assert "noise" in body["label"]


def test_an_explanation_sums_to_the_score(opportunity):
    location = populated_location()
    best = call("score", {"location": location, "limit": 1})[1]["results"][0]
    event = copy.deepcopy(load_event(FUNCTION, "explanation"))
    path = f"/v1/opportunities/businesses/{best['business_id']}/explanation"
    event.update(path=path, pathParameters={"business_id": best["business_id"]})

    status, body = invoke(FUNCTION, event)

    assert status == 200, body
    total = body["baseline"] + sum(item["contribution"] for item in body["contributions"])
    assert abs(total - body["prediction"]) < 1e-2
    assert abs(min(max(body["prediction"], 0), 100) - best["opportunity_score"]) < 1e-2
    assert body["opportunity_score"] == best["opportunity_score"] and body["category"] == best["category"]
    assert body["top_contributions"] == body["contributions"][:3]
    magnitudes = [abs(item["contribution"]) for item in body["contributions"]]
    assert magnitudes == sorted(magnitudes, reverse=True)

    status, body = call("explanation-unknown-business")
    assert status == 404 and body["error"]["details"][0]["field"] == "business_id"


def test_a_dropped_reviews_file_is_ingested_with_a_report_once(aws, opportunity):
    location = populated_location()
    rows = [["location", "text"], [location, "Lovely friendly shops, great prices!"],
            ["Atlantis, Nowhere", "Nice"], [location, ""]]
    key = "ingest/opportunity/reviews/week 49.csv"
    body = "\n".join(",".join(f'"{cell}"' if cell else "" for cell in row) for row in rows) + "\n"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=body.encode())
    event = s3_notification_event("opportunity_ingest", "s3-reviews-file", aws["DATA_BUCKET"], key)

    assert load_handler("opportunity_ingest").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    report = json.loads(client("s3").get_object(Bucket=aws["DATA_BUCKET"],
                                                Key="ingest/opportunity/reports/week 49.csv.json")["Body"].read())
    assert (report["rows"], report["inserted_count"]) == (3, 1)
    assert [(reject["row"], reject["fields"]) for reject in report["invalid_records"]] == [(2, ["location"]),
                                                                                           (3, ["text"])]
    assert report["locations"][location]["review_count"] > 0
    assert load_handler("opportunity_ingest").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    again = call("reviews", {"location": location, "texts": ["Lovely friendly shops, great prices!"]})[1]
    assert again["duplicate_count"] == 1


def test_a_dropped_opportunity_file_is_scored_in_its_location_and_economy(aws, opportunity, monkeypatch):
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    location = populated_location()
    best = call("score", {"location": location, "limit": 1})[1]["results"][0]
    fields = ["ref", "location", "business_type", "revenue", "age", "rating"]
    rows = [["R1", location, best["business_type"], best["revenue"], best["age"], best["rating"]],
            ["R2", "Atlantis, Nowhere", "cafe", 1000000, 3, 4.0],
            ["R3", location, "spaceport", 1000000, 3, 4.0]]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows([fields, *rows])
    key = "incoming/opportunity/shortlist.csv"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=text.getvalue().encode())

    event = s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key)
    assert load_handler("batch_score").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    prefix = "scored/opportunity/shortlist.csv/"

    def read(name: str) -> str:
        return client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=prefix + name)["Body"].read().decode()

    manifest = json.loads(read("_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (3, 1, 2)
    (scored,) = list(csv.DictReader(io.StringIO(read("scored.csv"))))
    assert scored["ref"] == "R1" and float(scored["opportunity_score"]) == best["opportunity_score"]
    assert scored["category"] == best["category"]


def test_businesses_in_the_body_are_scored_and_a_bad_one_fails_alone(opportunity):
    status, body = call("score-businesses")
    assert status == 200, body
    (result,) = body["results"]
    assert result["business_id"] == "NEW-CAFE-1" and 0 <= result["opportunity_score"] <= 100
    assert (result["sentiment_score"], result["inflation_rate"]) == (0.42, 5.1)

    in_effect = call("score", {"location": "Andheri, Mumbai"})[1]["economic_context"]
    status, body = call("score-businesses-mixed")
    assert status == 200, body
    (scored,) = body["results"]
    assert scored["index"] == 0 and scored["inflation_rate"] == in_effect["inflation_rate"]
    assert [error["index"] for error in body["errors"]] == [1, 2]
    assert {detail["field"] for detail in body["errors"][0]["details"]} == {"revenue", "rating"}
    assert body["errors"][1]["details"][0]["field"] == "sentiment_score"


def test_the_same_business_scores_the_same_in_the_body_and_in_its_location(opportunity):
    location = populated_location()
    ranked = call("score", {"location": location, "limit": 1})[1]
    best = ranked["results"][0]
    record = {name: best[name] for name in ("business_type", "revenue", "age", "rating")}

    status, body = call("score-businesses", {"businesses": [{**record, "location": location}]})

    assert status == 200, body
    assert body["results"][0]["opportunity_score"] == best["opportunity_score"]
    assert body["results"][0]["sentiment_score"] == ranked["sentiment"]["sentiment_score"]

    status, body = call("score-businesses", {"businesses": [{"business_type": "cafe"}]})
    assert status == 422
    assert {"businesses.0.revenue", "businesses.0.age", "businesses.0.rating"} <= \
        {detail["field"] for detail in body["error"]["details"]}
