"""Opportunity on the running local stack: a location's businesses ranked with its sentiment and the
economy, comparisons, reviews that move a location's sentiment and scores, indicators that move scores,
bad input named, a reviews file and a batch file dropped in S3, and the model's held-out metrics."""

from __future__ import annotations

import csv
import io
import json
import time

import boto3

from finscore import resources

GLOWING = ("Absolutely wonderful neighbourhood, the shops are excellent and the people are lovely! #{n}",
           "Fantastic service, amazing value and friendly staff everywhere. Highly recommend! #{n}")


def _s3(stack):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local")


def _wait_for_object(s3, bucket: str, key: str, seconds: float = 90) -> bytes | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    return None


def _locations(stack) -> list[dict]:
    status, body = stack.request("GET", "/v1/opportunities/locations")
    assert status == 200, body
    return body["locations"]


def _scores(stack, location: str) -> dict:
    status, body = stack.request("POST", "/v1/opportunities/score", {"location": location, "limit": 500})
    assert status == 200, body
    return body


def _mean(answer: dict) -> float:
    return sum(result["opportunity_score"] for result in answer["results"]) / len(answer["results"])


def test_a_location_is_ranked_0_to_100_highest_first_with_sentiment_and_economy(stack):
    location = max(_locations(stack), key=lambda item: item["business_count"])["location"]

    body = _scores(stack, location)

    assert body["total_businesses"] == len(body["results"]) > 10
    scores = [result["opportunity_score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True) and 0 <= scores[-1] <= scores[0] <= 100
    assert {result["category"] for result in body["results"]} <= {"high", "medium", "low"}
    assert body["sentiment"]["review_count"] > 0 and body["economic_context"]["inflation_rate"] > 0


def test_compare_answers_for_each_location(stack):
    asked = [item["location"] for item in _locations(stack)[:4]]

    status, body = stack.request("POST", "/v1/opportunities/compare", {"locations": asked})

    assert status == 200, body
    assert [entry["location"] for entry in body["locations"]] == asked
    assert all(entry["total_businesses"] > 0 and entry["best_business_type"] for entry in body["locations"])


def test_twenty_glowing_reviews_raise_the_locations_sentiment_and_scores(stack):
    # The gloomiest location with businesses: twenty glowing texts move it most visibly.
    location = min((item for item in _locations(stack) if item["business_count"] >= 5),
                   key=lambda item: item["sentiment"]["sentiment_score"])["location"]
    before = _scores(stack, location)

    status, body = stack.request("POST", "/v1/opportunities/reviews",
                                 {"location": location, "texts": [GLOWING[n % 2].format(n=n) for n in range(20)]})

    assert status == 200, body
    assert body["inserted_count"] + body["duplicate_count"] == 20
    after = _scores(stack, location)
    assert after["sentiment"]["sentiment_score"] > before["sentiment"]["sentiment_score"]
    assert _mean(after) > _mean(before)


def test_new_indicators_change_scores(stack):
    location = _locations(stack)[0]["location"]
    before = _scores(stack, location)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    harsh = {"effective_date": today, "inflation_rate": before["economic_context"]["inflation_rate"] + 5,
             "interest_rate": before["economic_context"]["interest_rate"] + 4, "market_index": 20000}

    status, body = stack.request("POST", "/v1/opportunities/economic-indicators", harsh)
    assert status == 200, body
    after = _scores(stack, location)
    assert after["economic_context"]["effective_date"] == today
    assert _mean(after) < _mean(before)

    # Back to the indicators before, under the same date (the same date replaces them).
    calm = {**{name: before["economic_context"][name] for name in ("inflation_rate", "interest_rate", "market_index")},
            "effective_date": today}
    assert stack.request("POST", "/v1/opportunities/economic-indicators", calm)[0] == 200
    assert _mean(_scores(stack, location)) == _mean(before)


def test_bad_input_is_a_4xx_naming_the_fields(stack):
    status, body = stack.request("POST", "/v1/opportunities/score", {"location": "", "limit": 0, "business_type": "x"})
    assert status == 422
    assert {"location", "limit", "business_type"} <= {detail["field"] for detail in body["error"]["details"]}

    status, body = stack.request("POST", "/v1/opportunities/score", {"location": "Atlantis, Nowhere"})
    assert status == 404 and body["error"]["details"][0]["field"] == "location"

    status, body = stack.request("POST", "/v1/opportunities/economic-indicators", {"inflation_rate": "high"})
    assert status == 422
    assert {"effective_date", "inflation_rate", "interest_rate", "market_index"} <= \
        {detail["field"] for detail in body["error"]["details"]}


def test_a_reviews_file_put_in_s3_is_ingested_with_its_report(stack):
    s3 = _s3(stack)
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    location = _locations(stack)[1]["location"]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["location", "text"], [location, "Lovely market, great tea stalls!"],
                                                     ["Atlantis, Nowhere", "Nice"]])
    s3.put_object(Bucket=bucket, Key="ingest/opportunity/reviews/e2e reviews.csv", Body=text.getvalue().encode())

    report = _wait_for_object(s3, bucket, "ingest/opportunity/reports/e2e reviews.csv.json")

    assert report is not None, "the file was not ingested"
    report = json.loads(report)
    assert report["inserted_count"] + report["duplicate_count"] == 1
    assert [(reject["row"], reject["fields"]) for reject in report["invalid_records"]] == [(2, ["location"])]


def test_a_batch_file_is_scored_in_its_locations(stack):
    s3 = _s3(stack)
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    location = _locations(stack)[2]["location"]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([
        ["ref", "location", "business_type", "revenue", "age", "rating"],
        ["A", location, "cafe", 2500000, 4, 4.3], ["B", "Atlantis, Nowhere", "cafe", 2500000, 4, 4.3]])
    s3.put_object(Bucket=bucket, Key="incoming/opportunity/e2e shortlist.csv", Body=text.getvalue().encode())

    manifest = _wait_for_object(s3, bucket, "scored/opportunity/e2e shortlist.csv/_manifest.json")

    assert manifest is not None, "the file was not scored"
    manifest = json.loads(manifest)
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (2, 1, 1)


def test_the_model_reports_held_out_metrics_and_importances(stack):
    status, body = stack.request("GET", "/v1/opportunities/model")

    assert status == 200, body
    assert body["metrics"]["r2"] > 0.7 and body["metrics"]["mse"] > 0
    assert body["feature_importance"]["permutation"]["sentiment_score"] > 0
