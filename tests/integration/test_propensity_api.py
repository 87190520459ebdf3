"""The propensity API fed events/propensity_api/*.json under moto, and propensity files in batch scoring."""

from __future__ import annotations

import copy
import csv
import io
import json

import pytest

from finscore.aws import client
from finscore.batch import pipeline, scoring
from finscore.products import scoring as product_scoring
from finscore.products.propensity import stores
from tests.conftest import promote_candidate
from tests.handlers import FakeContext, invoke, load_event, load_handler, s3_notification_event, seed_product

FUNCTION = "propensity_api"
STOCKS = 30


@pytest.fixture
def propensity(aws, candidates):
    product_scoring.reset_champions()
    stores.stores.cache_clear()
    manifest = promote_candidate(aws, candidates("propensity"))
    seed_product(aws, "propensity", investors=60, stocks=STOCKS)
    yield manifest
    product_scoring.reset_champions()
    stores.stores.cache_clear()


def call(case: str, body: object | None = None, **event_updates) -> tuple[int, dict]:
    event = copy.deepcopy(load_event(FUNCTION, case))
    if body is not None:
        event["body"] = json.dumps(body)
    event.update(event_updates)
    return invoke(FUNCTION, event)


def seed_body() -> dict:
    return json.loads(load_event(FUNCTION, "score")["body"])


def test_the_seed_body_scores_as_it_is(propensity):
    status, body = call("score")

    assert status == 200, body
    assert 0.0 <= body["propensity"] <= 1.0
    assert body["purchase"] == (body["propensity"] >= body["threshold"])
    assert body["threshold"] == propensity.thresholds["decision_threshold"]
    assert body["model_version"] == propensity.version
    # What the seed body does not carry comes from the stock's and the investor's stored history.
    assert {"momentum_5d", "volatility_20d", "sector_affinity"} <= set(body["filled_from_store"])


def test_a_bad_body_is_422_naming_every_bad_field(propensity):
    status, body = call("score-bad-fields")

    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"close_price", "volume", "sector", "day_of_week"}


def test_ids_alone_score_from_the_stores_and_unknown_ones_name_what_is_missing(propensity):
    status, body = call("score-ids-only")
    assert status == 200 and "close_price" in body["filled_from_store"] and "risk_tolerance" in body["filled_from_store"]

    status, body = call("score-ids-only", {"user_id": "NOBODY", "stock_id": "NOSUCH"})
    assert status == 422
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"close_price", "sector", "risk_tolerance"} <= fields
    assert "no stored market data" in body["error"]["message"]


def test_the_same_record_scores_the_same_alone_and_in_a_batch(propensity):
    single = call("score")[1]
    status, batch = call("score-batch")

    assert status == 200
    assert (batch["scored"], batch["failed"]) == (2, 1)
    assert batch["results"][0]["propensity"] == single["propensity"]
    assert batch["errors"][0]["index"] == 1 and batch["errors"][0]["details"][0]["field"] == "user_id"


def test_top_stocks_rank_the_universe_highest_first(propensity):
    status, body = call("top-stocks")

    assert status == 200, body
    propensities = [stock["propensity"] for stock in body["stocks"]]
    assert len(propensities) == 5 and propensities == sorted(propensities, reverse=True)
    assert [stock["rank"] for stock in body["stocks"]] == [1, 2, 3, 4, 5]
    assert body["universe"] == STOCKS

    status, body = call("top-stocks", pathParameters={"user_id": "NOBODY"}, path="/v1/propensity/users/NOBODY/top-stocks")
    assert status == 404 and body["error"]["details"][0]["field"] == "user_id"


def test_market_data_updates_the_stock_and_the_investors_later_ranking(propensity):
    before = call("top-stocks", queryStringParameters={"limit": "100"})[1]
    rank_before = {stock["stock_id"]: stock["rank"] for stock in before["stocks"]}
    last = max(rank_before, key=rank_before.get)
    # Given the lowest-ranked stock surging on heavy volume over five days
    price = 100.0
    bars = [{"stock_id": last, "date": day, "open": price * 1.08 ** n, "high": price * 1.08 ** (n + 1) * 1.01,
             "low": price * 1.08 ** n * 0.99, "close": price * 1.08 ** (n + 1), "volume": 50_000_000}
            for n, day in enumerate(["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"])]

    status, body = call("market-data", {"bars": bars})

    assert status == 200, body
    assert (body["received"], body["stored"], body["rejected"]) == (5, 5, 0)
    (updated,) = body["stocks_updated"]
    assert updated["stock_id"] == last and updated["as_of"] == "2026-12-04"
    after = call("top-stocks", queryStringParameters={"limit": "100"})[1]
    rank_after = {stock["stock_id"]: stock["rank"] for stock in after["stocks"]}
    assert rank_after[last] != rank_before[last]
    # The same bars again change nothing: a bar for a stock and day replaces itself.
    again = call("market-data", {"bars": bars})[1]
    assert again["stocks_updated"][0]["as_of"] == "2026-12-04"
    assert call("top-stocks", queryStringParameters={"limit": "100"})[1]["stocks"] == after["stocks"]


def test_market_data_rejects_bars_one_by_one_and_all_bad_is_422(propensity):
    status, body = call("market-data")
    assert status == 200
    assert [reject["index"] for reject in body["rejects"]] == [1, 2]

    status, body = call("market-data", {"bars": [{"stock_id": "X", "date": "2026-11-30"}]})
    assert status == 422 and body["error"]["details"][0]["field"] == "bars[0]"


def test_the_drift_route_is_404_before_the_first_report(propensity):
    status, body = invoke(FUNCTION, {**load_event(FUNCTION, "top-stocks"), "resource": "/v1/propensity/drift",
                                     "path": "/v1/propensity/drift", "pathParameters": None,
                                     "queryStringParameters": None, "multiValueQueryStringParameters": None})
    assert status == 404


def test_a_dropped_propensity_file_is_scored_with_its_manifest_and_rejects(aws, propensity, monkeypatch):
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    good = seed_body()
    rows = [good, {**good, "user_id": "U00001", "stock_id": "STK0003"}, {**good, "close_price": "abc"},
            {"user_id": "U00002", "stock_id": "STK0009"}, {"user_id": "NOBODY", "stock_id": "NOSUCH"}]
    fields = list(good)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["account", *fields], lineterminator="\n")
    writer.writeheader()
    writer.writerows({"account": f"A{index}", **row} for index, row in enumerate(rows))
    key = "incoming/propensity/daily watchlist.csv"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=text.getvalue().encode())

    event = s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key)
    assert load_handler("batch_score").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    prefix = "scored/propensity/daily watchlist.csv/"
    def read(name: str) -> str:
        return client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=prefix + name)["Body"].read().decode()

    manifest = json.loads(read("_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (5, 3, 2)
    rejects = {int(row["row"]): row["reason"] for row in csv.DictReader(io.StringIO(read("rejects.csv")))}
    assert sorted(rejects) == [3, 5] and rejects[3].startswith("close_price:") and "no stored market data" in rejects[5]
    scored = list(csv.DictReader(io.StringIO(read("scored.csv"))))
    assert [row["account"] for row in scored] == ["A0", "A1", "A3"]
    assert float(scored[0]["propensity"]) == call("score")[1]["propensity"]
    assert {row["model_version"] for row in scored} == {propensity.version}
