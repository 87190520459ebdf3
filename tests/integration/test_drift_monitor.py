"""Drift under moto: captured scoring inputs against the champion's baseline, the report, the metric,
the DriftDetected event, and GET /v1/models/{product}/drift."""

from __future__ import annotations

import json

import pytest

from finscore.aws import client
from finscore.drift.capture import capture_buffer, reset_capture
from tests.handlers import FakeContext, invoke, load_event, load_handler


@pytest.fixture
def capture_everything(monkeypatch):
    monkeypatch.setenv("DRIFT_CAPTURE_RATE", "1.0")
    reset_capture()
    yield capture_buffer()
    reset_capture()


def recommend_request(profile: dict) -> dict:
    event = load_event("recommend_api", "recommend")
    event["body"] = json.dumps(profile)
    return event


def serve_profiles(profiles: list[dict]) -> None:
    for profile in profiles:
        status, body = invoke("recommend_api", recommend_request(profile))
        assert status == 200, body


def profiles(count: int, seed: int, income_factor: float = 1.0) -> list[dict]:
    from finscore.products.recommend.api_models import CustomerProfile
    from training.recommend import trainer

    fields = set(CustomerProfile.model_fields)
    rows = [{k: v for k, v in row.items() if k in fields} for row in trainer.generate(count, seed)]
    for row in rows:
        row["income"] = round(row["income"] * income_factor, 2)
    return rows


def run_monitor() -> dict:
    return load_handler("drift_monitor").lambda_handler(load_event("drift_monitor", "scheduled"), FakeContext())


def drift_events_queue() -> str:
    sqs, events = client("sqs"), client("events")
    url = sqs.create_queue(QueueName="drift-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="drift", EventPattern=json.dumps({"source": ["finscore.models"], "detail-type": ["DriftDetected"]}))
    events.put_targets(Rule="drift", Targets=[{"Id": "q", "Arn": arn}])
    return url


def test_serving_captures_its_sample_to_s3_off_the_request(aws, recommend_champion, capture_everything):
    serve_profiles(profiles(5, 1))
    assert capture_everything.pending() == 5

    assert capture_everything.flush() == 5

    keys = [o["Key"] for o in client("s3").list_objects_v2(Bucket=aws["DATA_BUCKET"], Prefix="capture/recommend/")["Contents"]]
    (key,) = keys
    records = [json.loads(line) for line in client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=key)["Body"].read().splitlines()]
    assert len(records) == 5 and records[0]["model_version"] == recommend_champion.version
    assert set(records[0]["features"]) == set(recommend_champion.feature_names)
    assert "account_product" in records[0]["outputs"]


def test_training_distribution_does_not_alert_and_shifted_inputs_do(aws, recommend_champion, capture_everything):
    queue = drift_events_queue()
    status, body = invoke("platform_api", load_event("platform_api", "drift"))
    assert status == 404 and body["error"]["code"] == "not_found"

    # Given inputs drawn like the training data, when the monitor runs, then nothing alerts.
    serve_profiles(profiles(300, 21))
    capture_everything.flush()
    (summary,) = run_monitor()["products"]
    assert summary["product"] == "recommend" and summary["records"] == 300
    assert summary["status"] in ("ok", "warn") and summary["max_psi"] < 0.25
    assert client("sqs").receive_message(QueueUrl=queue).get("Messages", []) == []

    status, body = invoke("platform_api", load_event("platform_api", "drift"))
    assert status == 200 and body["model_version"] == recommend_champion.version
    by_name = {f["name"]: f for f in body["features"]}
    assert by_name["log_income"]["test"] == "ks" and by_name["income_tier"]["test"] == "chi_squared"

    # Given incomes tripled on purpose, the next run (only the new samples) raises an alert.
    serve_profiles(profiles(300, 22, income_factor=3.0))
    capture_everything.flush()
    (summary,) = run_monitor()["products"]
    assert summary["status"] == "alert" and summary["records"] == 300

    report = json.loads(client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=summary["report_key"])["Body"].read())
    drifted = {f["name"]: f for f in report["features"] if f["level"] == "alert"}
    assert "log_income" in drifted and drifted["log_income"]["p_value"] < 0.01
    assert "age" not in drifted
    (message,) = client("sqs").receive_message(QueueUrl=queue).get("Messages", [])
    event = json.loads(message["Body"])
    assert event["detail"]["product"] == "recommend" and "log_income" in event["detail"]["drifted_features"]
    assert event["detail"]["retrain"] is False

    status, body = invoke("platform_api", load_event("platform_api", "drift"))
    assert status == 200 and body["status"] == "alert"


def test_too_small_a_sample_never_alerts(aws, recommend_champion, capture_everything):
    serve_profiles(profiles(10, 3, income_factor=5.0))
    capture_everything.flush()

    (summary,) = run_monitor()["products"]

    assert summary["status"] == "insufficient_data" and summary["max_psi"] is None


def test_max_psi_metric_goes_to_cloudwatch(aws, recommend_champion, capture_everything):
    serve_profiles(profiles(60, 8))
    capture_everything.flush()

    (summary,) = run_monitor()["products"]

    metrics = client("cloudwatch").list_metrics(Namespace="FinScore", MetricName="MaxPSI")["Metrics"]
    assert metrics and metrics[0]["Dimensions"] == [{"Name": "product", "Value": "recommend"}]
    assert summary["max_psi"] is not None


def test_drift_of_an_unknown_product_is_404(aws):
    status, body = invoke("platform_api", load_event("platform_api", "drift-unknown-product"))
    assert status == 404 and body["error"]["code"] == "not_found"
