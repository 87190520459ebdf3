"""Propensity on the running local stack: the seed's body, top stocks that move with market data, a dropped
file scored with its manifest and rejects, held-out metrics from the time split."""

from __future__ import annotations

import csv
import io
import json
import time

import boto3

from finscore import resources
from tests.handlers import load_event

SEED_BODY = json.loads(load_event("propensity_api", "score")["body"])


def test_the_seed_body_scores(stack):
    status, body = stack.request("POST", "/v1/propensity/score", SEED_BODY)

    assert status == 200, body
    assert 0 <= body["propensity"] <= 1 and isinstance(body["purchase"], bool) and body["model_version"]


def test_a_bad_body_is_a_4xx_naming_every_bad_field(stack):
    bad = {**SEED_BODY, "close_price": "cheap", "risk_tolerance": "reckless", "day_of_week": -1}
    del bad["stock_id"]

    status, body = stack.request("POST", "/v1/propensity/score", bad)

    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"close_price", "risk_tolerance", "day_of_week",
                                                              "stock_id"}


def _ranking(stack, user_id: str) -> list[dict]:
    status, body = stack.request("GET", f"/v1/propensity/users/{user_id}/top-stocks?limit=100")
    assert status == 200, body
    return body["stocks"]


def test_top_stocks_rank_highest_first_and_market_data_changes_the_ranking(stack):
    before = _ranking(stack, "U00007")
    assert [s["propensity"] for s in before] == sorted((s["propensity"] for s in before), reverse=True)
    last = before[-1]["stock_id"]
    # Given the investor's least likely stock breaking out on heavy volume for a week
    bars = [{"stock_id": last, "date": f"2026-12-{day:02d}", "open": 50 * 1.07 ** n, "high": 50 * 1.07 ** (n + 1) * 1.01,
             "low": 50 * 1.07 ** n * 0.99, "close": 50 * 1.07 ** (n + 1), "volume": 40_000_000}
            for n, day in enumerate((1, 2, 3, 4, 7))]

    status, body = stack.request("POST", "/v1/propensity/market-data", {"bars": bars})

    assert status == 200, body
    assert body["stored"] == 5 and body["stocks_updated"][0]["as_of"] == "2026-12-07"
    after = {s["stock_id"]: s for s in _ranking(stack, "U00007")}
    assert after[last]["propensity"] != before[-1]["propensity"]
    assert after[last]["rank"] < before[-1]["rank"]


def test_a_dropped_file_is_scored_with_its_manifest_and_rejects(stack):
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(SEED_BODY), lineterminator="\n")
    writer.writeheader()
    writer.writerows([SEED_BODY, {**SEED_BODY, "user_id": "U00003"}, {**SEED_BODY, "volume": "lots"}])
    s3.put_object(Bucket=bucket, Key="incoming/propensity/e2e watchlist.csv", Body=out.getvalue().encode())

    prefix = "scored/propensity/e2e watchlist.csv/"
    deadline, manifest = time.monotonic() + 90, None
    while manifest is None and time.monotonic() < deadline:
        try:
            manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + "_manifest.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    assert manifest is not None, "the file was not scored"
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (3, 2, 1)
    rejects = s3.get_object(Bucket=bucket, Key=prefix + "rejects.csv")["Body"].read().decode()
    assert "3,volume:" in rejects


def test_the_model_shows_held_out_metrics_from_the_time_split(stack):
    status, body = stack.request("GET", "/v1/models/propensity")

    assert status == 200 and body["champion_version"]
    assert {"roc_auc", "pr_auc", "f1", "precision", "recall", "test_days"} <= set(body["metrics"])
    first, last = body["metrics"]["test_days"].split("..")
    assert first <= last
    status, history = stack.request("GET", "/v1/models/propensity/versions")
    assert status == 200 and history["versions"][0]["hyperparameters"]["chosen_by"]
    assert history["versions"][0]["promoted_by"]
