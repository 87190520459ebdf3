"""Activity: what a product's API and batch files served, added to the table and read by GET /v1/activity."""

from __future__ import annotations


from datetime import datetime, timezone

from finscore import resources
from finscore.activity.store import add_counts, hours
from finscore.activity.tally import activity_tally, hour_of
from finscore.aws import client
from finscore.batch import pipeline
from finscore.batch import scoring as batch_scoring
from finscore.products import function
from tests.handlers import FakeContext, invoke, load_event, load_handler, s3_notification_event
from tests.integration.test_batch_score import COLUMNS, csv_text, risk_rows


def activity(query: dict) -> tuple[int, dict]:
    event = load_event("platform_api", "activity")
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {name: [value] for name, value in query.items()}
    return invoke("platform_api", event)


def test_counters_add_up_atomically_in_one_item_per_product_and_hour(aws):
    table = aws["ACTIVITY_TABLE"]
    add_counts(table, "risk", "2026-12-03T10", {"requests": 2, "sum.risk_score": 12.5, "value.risk_level=low": 1})
    add_counts(table, "risk", "2026-12-03T10", {"requests": 1, "sum.risk_score": 0.25, "value.risk_level=low": 1})
    add_counts(table, "risk", "2026-12-03T12", {"requests": 7})

    items = hours(table, "risk", "2026-12-03T09", "2026-12-03T11")

    (item,) = items
    assert item["requests"] == 3 and item["sum.risk_score"] == 12.75 and item["value.risk_level=low"] == 2
    assert item["expires_at"] > datetime.now(timezone.utc).timestamp()


def test_an_api_request_and_its_scores_show_in_the_activity_route(aws, recommend_champion):
    status, _ = invoke("recommend_api", load_event("recommend_api", "recommend"))
    assert status == 200
    invoke("recommend_api", load_event("recommend_api", "wrong-type"))
    assert activity_tally().flush() == 1

    status, body = activity({"product": "recommend", "by": "hour", "days": "2"})

    assert status == 200, body
    assert body["by"] == "hour" and len(body["products"]) == 1
    (recommend,) = body["products"]
    assert len(recommend["series"]) == 48 and recommend["series"][-1]["period"] == hour_of(datetime.now(timezone.utc))
    totals = recommend["totals"]
    assert totals["requests"] == 2 and totals["ok"] == 1 and totals["client_errors"] == 1
    assert totals["records"] == 1 and totals["online_records"] == 1
    outputs = {output.name: output.type for output in recommend_champion.outputs}
    numeric = {name for name, kind in outputs.items() if kind in ("float", "int")}
    assert set(totals["means"]) == numeric
    assert set(totals["counts"]) == {name for name, kind in outputs.items() if kind in ("category", "bool")}


def test_a_scored_batch_file_counts_its_rows_as_batch_records(aws, risk_champion, monkeypatch):
    batch_scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    key = "incoming/risk/activity.csv"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=csv_text(risk_rows(40), COLUMNS).encode())
    load_handler("batch_score").lambda_handler(
        s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key), FakeContext())
    activity_tally().flush()

    status, body = activity({"product": "risk", "by": "day", "days": "1"})

    assert status == 200, body
    totals = body["products"][0]["totals"]
    assert totals["batch_records"] == 40 and totals["online_records"] == 0 and totals["requests"] == 0
    assert sum(totals["counts"]["risk_level"].values()) == 40
    assert 0 <= totals["means"]["risk_score"] <= 100


def test_every_product_is_listed_with_a_full_series_even_without_activity(aws):
    status, body = activity({"by": "day", "days": "7"})

    assert status == 200
    assert len(body["products"]) == len(set(p["product"] for p in body["products"])) >= 5
    assert all(len(p["series"]) in (7, 8) and p["totals"]["requests"] == 0 for p in body["products"])


def test_bad_parameters_are_422_and_an_unknown_product_404(aws):
    status, body = activity({"by": "week"})
    assert status == 422 and body["error"]["details"][0]["field"] == "query.by"
    status, body = activity({"days": "0"})
    assert status == 422
    status, body = activity({"product": "nope"})
    assert status == 404 and body["error"]["code"] == "not_found"


def test_functions_that_score_may_add_to_the_activity_table_and_nothing_more():
    for name in ("batch_score", "risk_api", "recommend_api", "opportunity_api", "risk_ingest"):
        assert function(name).dynamodb_actions()[resources.ACTIVITY_TABLE] == ("UpdateItem",)
    assert set(function("platform_api").dynamodb_actions()[resources.ACTIVITY_TABLE]) >= {"Query"}
    assert resources.ACTIVITY_TABLE not in function("intervention_delivery").tables
    assert resources.ACTIVITY_TABLE not in function("risk_explain").tables  # explains, never scores
