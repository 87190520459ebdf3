"""Retraining under moto: the promotion gate with worse and better configurations, serving the new
champion within REGISTRY_TTL, rollback, lifecycle events, training files with row-level rejects, and
the admin route's asynchronous invocation."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from finscore.aws import client
from finscore.models.registry import ModelRegistry
from tests.handlers import invoke, load_event

# Small and fast: 800 synthetic rows; the depth-1 trees are the deliberately worse configuration.
MEDIOCRE = {"product": "recommend", "rows": 800, "seed": 3, "config": {"tree_depths": [3], "cluster_counts": [4]}}
WORSE = {"product": "recommend", "rows": 800, "seed": 3, "config": {"tree_depths": [1], "cluster_counts": [4]}}
BETTER = {"product": "recommend", "rows": 800, "seed": 3, "config": {"tree_depths": [6], "cluster_counts": [4]}}


@pytest.fixture
def lifecycle_events(aws):
    """An EventBridge rule on finscore.models events delivering to an SQS queue; returns a reader."""
    sqs, events = client("sqs"), client("events")
    queue_url = sqs.create_queue(QueueName="lifecycle-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="lifecycle", EventPattern=json.dumps({"source": ["finscore.models"]}))
    events.put_targets(Rule="lifecycle", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def received() -> list[dict]:
        messages = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            messages += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    return received


def run_retrain(payload: dict) -> dict:
    return invoke_raw("model_retrain", payload)


def invoke_raw(function: str, event: dict) -> dict:
    from tests.handlers import FakeContext, load_handler

    return load_handler(function).lambda_handler(event, FakeContext())


def served_version() -> str:
    status, body = invoke("recommend_api", load_event("recommend_api", "recommend"))
    assert status == 200, body
    return body["model_version"]


def test_worse_is_rejected_better_is_promoted_and_served_within_the_ttl_and_rollback_restores(
        aws, lifecycle_events, monkeypatch):
    from finscore.products.scoring import champion as product_champion
    from finscore.products.scoring import reset_champions

    def champion():
        return product_champion("recommend")

    monkeypatch.setenv("REGISTRY_TTL", "60")
    reset_champions()
    first = run_retrain(MEDIOCRE)
    assert first["promoted"] is True and "no champion yet" in first["reason"]
    now = [1000.0]
    champion()._clock = lambda: now[0]  # the cache's own clock, driven by the test
    assert served_version() == first["version"]

    # Given a champion, when a deliberately worse configuration is trained, then the gate rejects it.
    worse = run_retrain(WORSE)
    assert worse["registered"] is True and worse["promoted"] is False
    assert worse["reason"].startswith("rejected: worse than the champion")
    assert worse["candidate_value"] < worse["champion_value"]
    now[0] += 61
    assert served_version() == first["version"]

    # A better one is promoted; the serving cache swaps it in once REGISTRY_TTL has passed.
    better = run_retrain(BETTER)
    assert better["promoted"] is True and better["candidate_value"] > better["champion_value"]
    now[0] += 30
    assert served_version() == first["version"], "re-checked before the TTL passed"
    now[0] += 31
    assert served_version() == better["version"]

    # Rollback (the admin route) restores the previous champion.
    status, body = invoke("platform_api", load_event("platform_api", "rollback"))
    assert status == 200 and body["champion_version"] == first["version"]
    now[0] += 61
    assert served_version() == first["version"]

    registry = ModelRegistry(aws["REGISTRY_TABLE"])
    assert registry.get("recommend", worse["version"]).status == "rejected"

    events = lifecycle_events()
    kinds = [(e["detail-type"], e["detail"]["version"]) for e in events]
    assert kinds == [
        ("ModelRegistered", first["version"]), ("ModelPromoted", first["version"]),
        ("ModelRegistered", worse["version"]), ("ModelRejected", worse["version"]),
        ("ModelRegistered", better["version"]), ("ModelPromoted", better["version"]),
    ]
    rejected = events[3]
    assert rejected["source"] == "finscore.models"
    assert rejected["detail"]["product"] == "recommend"
    assert rejected["detail"]["metrics"]["mean_served_accuracy"] == pytest.approx(worse["candidate_value"], abs=1e-3)
    assert rejected["detail"]["reason"] == worse["reason"]
    # The comparison travels with the decision: the rows both were scored on and the interval.
    gate = rejected["detail"]["gate"]
    assert gate["rows"] == 120 and gate["interval"][1] < -0.01 and "neither fitted on" in gate["basis"]
    assert registry.get("recommend", worse["version"]).gate == gate


def test_the_admin_payload_event_file_trains_the_worse_configuration(aws, lifecycle_events):
    summary = run_retrain(load_event("model_retrain", "admin-worse-config"))

    assert summary["retrain_id"] == "00000000-0000-4000-8000-000000000001"
    assert summary["trigger"] == "admin" and summary["promoted"] is True  # no champion yet
    assert summary["data"].startswith("synthetic:recommend")


def test_without_training_files_nothing_is_trained_and_model_rejected_says_no_training_data(
        aws, lifecycle_events, monkeypatch):
    # Given a deployment's setting: no synthetic data
    monkeypatch.setenv("ALLOW_SYNTHETIC_TRAINING", "false")

    summary = run_retrain(load_event("model_retrain", "scheduled-recommend"))

    assert summary["registered"] is False and summary["promoted"] is False and summary["version"] is None
    assert summary["reason"].startswith("no training data: no files under training/recommend/")
    assert ModelRegistry(aws["REGISTRY_TABLE"]).list_versions("recommend") == []
    [(detail_type, detail)] = [(e["detail-type"], e["detail"]) for e in lifecycle_events()]
    assert detail_type == "ModelRejected" and detail["reason"] == summary["reason"]


def test_synthetic_data_is_off_unless_the_environment_allows_it(monkeypatch):
    from training.retrain import RetrainSettings

    monkeypatch.delenv("ALLOW_SYNTHETIC_TRAINING", raising=False)
    settings = RetrainSettings.model_validate({"DATA_BUCKET": "data", "MODELS_BUCKET": "models",
                                               "REGISTRY_TABLE": "registry"})
    assert settings.allow_synthetic is False


def test_drift_event_retrains_only_when_asked(aws):
    event = load_event("model_retrain", "drift-detected")
    event["detail"]["retrain"] = False

    assert run_retrain(event) == {"skipped": True, "product": "recommend"}


def test_a_scheduled_event_naming_no_product_retrains_each_trainable_product_on_its_own(
        aws, lifecycle_events, monkeypatch):
    from training.pipeline import trainable_products

    # Given training files for recommend only, and no synthetic data: every other product will fail
    monkeypatch.setenv("ALLOW_SYNTHETIC_TRAINING", "false")
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key="training/recommend/profiles.jsonl",
                            Body="\n".join(json.dumps(row) for row in recommend_rows(400, 5)).encode())

    # When EventBridge's plain scheduled event arrives
    result = run_retrain(load_event("model_retrain", "scheduled-all-products"))

    # Then each product has its own result: recommend trained and promoted, the others rejected for
    # want of data, each with its ModelRejected
    products = trainable_products()
    assert len(products) > 1 and "recommend" in products
    assert [summary["product"] for summary in result["results"]] == products
    by_product = {summary["product"]: summary for summary in result["results"]}
    assert by_product["recommend"]["promoted"] is True and by_product["recommend"]["trigger"] == "schedule"
    assert result["failed"] == []
    others = [product for product in products if product != "recommend"]
    for product in others:
        assert by_product[product]["reason"].startswith(f"no training data: no files under training/{product}/")
    assert sorted((e["detail-type"], e["detail"]["product"]) for e in lifecycle_events()) == sorted(
        [("ModelRegistered", "recommend"), ("ModelPromoted", "recommend")]
        + [("ModelRejected", product) for product in others])


def recommend_rows(count: int, seed: int) -> list[dict]:
    from training.recommend import trainer

    return trainer.generate(count, seed)


def test_training_files_are_used_and_every_bad_row_is_reported_with_file_and_row(aws, lifecycle_events):
    rows = recommend_rows(300, 5)
    rows[4]["age"] = "old"
    rows[9]["credit_score"] = 9999
    lines = [json.dumps(row) for row in rows[:150]]
    lines.insert(20, "{not json")
    s3 = client("s3")
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="training/recommend/part-1.jsonl", Body="\n".join(lines).encode())
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="training/recommend/part-2.jsonl", Body="\n".join(
        json.dumps(row) for row in rows[150:]).encode())

    summary = run_retrain({"product": "recommend", "config": {"tree_depths": [3], "cluster_counts": [4]}})

    assert summary["data"] == ("s3://finscore-local-data-bucket/training/recommend/part-1.jsonl,"
                               "s3://finscore-local-data-bucket/training/recommend/part-2.jsonl")
    assert summary["rows"] == 298 and summary["rejected_rows"] == 3
    report = json.loads(s3.get_object(Bucket=aws["DATA_BUCKET"], Key=summary["rejects_report"])["Body"].read())
    rejects = {(r["file"], r["row"]): r["reason"] for r in report["rejects"]}
    assert set(rejects) == {("training/recommend/part-1.jsonl", 5), ("training/recommend/part-1.jsonl", 10),
                            ("training/recommend/part-1.jsonl", 21)}
    assert "age" in rejects[("training/recommend/part-1.jsonl", 5)]
    assert "credit_score" in rejects[("training/recommend/part-1.jsonl", 10)]
    assert "not valid JSON" in rejects[("training/recommend/part-1.jsonl", 21)]
    # Accounted for exactly once: 301 lines = 298 trained on + 3 rejected.
    assert summary["rows"] + summary["rejected_rows"] == len(lines) + len(rows[150:])


def test_risk_tables_are_joined_and_rejects_point_at_their_rows(aws):
    from training.data import load_training_data, row_rejects
    from training.risk import trainer
    from training.risk.generator import generate_portfolio

    portfolio = generate_portfolio(customers=30, seed=4)
    customers = [dict(c) for c in portfolio.customers]
    customers[2]["age"] = 12
    transactions = list(portfolio.transactions) + [{**portfolio.transactions[0], "customer_id": "GHOST1",
                                                    "txn_id": "ghost-txn"}]

    def as_csv(rows: list[dict]) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()

    s3 = client("s3")
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="training/risk/customers.csv", Body=as_csv(customers))
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="training/risk/transactions.csv", Body=as_csv(transactions))
    observed = portfolio.as_of.isoformat()
    labels = [{"customer_id": k, "delinquent": v, "as_of": observed} for k, v in portfolio.labels.items()]
    labels[5]["as_of"] = ""  # no observation date: the customer cannot be trained on
    s3.put_object(Bucket=aws["DATA_BUCKET"], Key="training/risk/labels.csv", Body=as_csv(labels))

    data = load_training_data(aws["DATA_BUCKET"], "risk", trainer.assemble)
    valid, product_rejects = trainer.validate(data.records)
    rejects = row_rejects(data, product_rejects)

    assert len(valid) == 28
    assert [(r.source, r.row) for r in rejects] == [("training/risk/customers.csv", 3),
                                                  ("training/risk/customers.csv", 6),
                                                  ("training/risk/transactions.csv", len(transactions))]
    assert "age" in rejects[0].reason and "as_of: required" in rejects[1].reason and "GHOST1" in rejects[2].reason


def test_risk_training_uses_nothing_after_each_customers_as_of_and_counts_it():
    from training.risk import trainer
    from training.risk.generator import generate_portfolio

    portfolio = generate_portfolio(customers=40, seed=4)
    early = (portfolio.as_of - timedelta(days=60)).isoformat()
    observed = {customer["customer_id"]: early for customer in portfolio.customers}
    records = trainer.training_records(portfolio.customers, portfolio.transactions, portfolio.labels, observed)

    after = sum(1 for txn in portfolio.transactions if txn["date"] > early)
    assert trainer.excluded(records) == {"transactions_after_as_of": after} and after > 0
    # Features as of the earlier date: the same as when the later transactions never existed.
    kept = [txn for txn in portfolio.transactions if txn["date"] <= early]
    assert trainer.validate(records)[0] == trainer.validate(
        trainer.training_records(portfolio.customers, kept, portfolio.labels, observed))[0]


def test_retrain_route_answers_202_and_runs_the_function_asynchronously(aws, monkeypatch):
    from local.lambda_invoke import LocalLambdaInvoke

    endpoint = LocalLambdaInvoke({"finscore-local-model-retrain": lambda event: run_retrain(
        {**event, "rows": 800, "config": {"tree_depths": [3], "cluster_counts": [4]}})}).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
        monkeypatch.setenv("RETRAIN_FUNCTION_NAME", "finscore-local-model-retrain")
        client.cache_clear()

        status, body = invoke("platform_api", load_event("platform_api", "retrain"))
        assert status == 202 and body["product"] == "recommend" and body["status"] == "accepted"
        endpoint.wait(120)
    finally:
        endpoint.stop()

    (name, summary), = endpoint.results
    assert summary["retrain_id"] == body["retrain_id"] and summary["trigger"] == "admin"
    assert ModelRegistry(aws["REGISTRY_TABLE"]).champion_version("recommend") == summary["version"]


@pytest.mark.parametrize(("case", "status", "field"), [("retrain-no-trainer", 404, "product"),
                                                        ("retrain-bad-rows", 422, "rows")])
def test_retrain_route_rejects_products_without_trainer_and_bad_bodies(aws, monkeypatch, case, status, field):
    monkeypatch.setenv("RETRAIN_FUNCTION_NAME", "finscore-local-model-retrain")

    got, body = invoke("platform_api", load_event("platform_api", case))

    assert got == status
    assert any(field in detail["field"] for detail in body["error"]["details"])


def test_retrain_route_is_503_when_retraining_is_not_configured(aws):
    status, body = invoke("platform_api", load_event("platform_api", "retrain"))
    assert status == 503 and "RETRAIN_FUNCTION_NAME" in body["error"]["message"]


def test_recommend_trains_from_a_csv_whose_held_products_are_text(aws):
    from training.data import load_training_data, row_rejects
    from training.recommend import trainer

    customers = trainer.generate(60, seed=5)
    rows = [{**customer, "existing_products": ";".join(customer["existing_products"])} for customer in customers]
    rows[4]["existing_products"] = "basic_checking;not_a_product"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key="training/recommend/customers.csv",
                            Body=out.getvalue().encode())

    data = load_training_data(aws["DATA_BUCKET"], "recommend")
    valid, product_rejects = trainer.validate(data.records)
    rejects = row_rejects(data, product_rejects)

    assert len(valid) == 59
    assert [valid[0]["existing_products"], valid[1]["existing_products"]] == [customers[0]["existing_products"],
                                                                             customers[1]["existing_products"]]
    assert [(r.source, r.row) for r in rejects] == [("training/recommend/customers.csv", 5)]  # data row 5
    assert "existing_products" in rejects[0].reason
