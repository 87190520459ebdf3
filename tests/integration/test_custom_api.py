"""Custom models through their API under moto: a user's CSV registered with PUT, trained by the retrain
function (invoked asynchronously, as in AWS), followed with GET, scored record by record with reasons,
governed (versions, retrain, card) and retired."""

from __future__ import annotations

import json

import pytest

from finscore.models.registry import ModelRegistry
from finscore.products.custom.store import CustomModels
from finscore.s3 import Bucket
from tests.custom_tables import credit_table
from tests.handlers import invoke, load_event, run_retrain
from tests.integration.test_custom_files import csv_bytes

WAIT_S = 300  # bounds a wait for the background run; it times nothing


def put_table(aws, records, key: str = "training/custom/credit/applications.csv") -> None:
    Bucket(aws["DATA_BUCKET"]).write(key, csv_bytes(records))


def call(case: str, body=None, **path: str) -> tuple[int, dict]:
    event = load_event("custom_api", case)
    if body is not None:
        event["body"] = json.dumps(body) if not isinstance(body, str) else body
    if path:
        event["pathParameters"] = {**event["pathParameters"], **path}
        event["path"] = event["resource"].replace("{name}", event["pathParameters"]["name"]).replace(
            "{file}", event["pathParameters"].get("file", ""))
    return invoke("custom_api", event)


def test_a_table_put_in_s3_becomes_a_ready_model_with_its_reports(aws, credit_model, trainer):
    (_, summary), = trainer.results
    assert summary["training_id"] == credit_model["training_id"] and summary["status"] == "ready", summary

    status, body = call("describe")

    assert status == 200 and body["status"] == "ready" and body["champion_version"] == summary["version"]
    model = body["model"]
    assert model["model"]["chosen"] in ("baseline", "boosting")
    refused = {column["name"]: column["reason"] for column in model["columns"] if not column.get("used")}
    assert "leakage" in refused["account_status_after"] and "leakage" in refused["recovered_amount"]
    assert "free text" in refused["notes"] and "constant" in refused["product_code"]
    # The chosen model's held-out metrics and the baseline's, on the same rows: never worse.
    assert model["comparison"]["rows"] == model["training_data"]["split"]["test"]
    assert model["metrics"]["roc_auc"] >= model["baseline"]["roc_auc"] or model["comparison"]["note"]
    assert 0 < model["thresholds"]["decision"] < 1
    listed = call("list")[1]["models"]
    assert [(m["name"], m["status"]) for m in listed] == [("credit", "ready")]
    status, card = call("card")
    assert status == 200 and card.startswith("# Model card: custom-credit")


def test_records_are_scored_with_reasons_and_a_bad_record_fails_alone(credit_model):
    status, body = call("score")

    assert status == 200, body
    assert body["scored"] == 2 and body["failed"] == 1
    first, second = body["results"]
    assert first["id"] == "C-1001" and 0 <= first["probability"] <= 1 and isinstance(first["decision"], bool)
    assert first["probability"] > second["probability"]  # high utilisation, a low score, against the opposite
    assert 1 <= len(first["reasons"]) <= 4 and {"feature", "value", "reference", "text"} <= set(first["reasons"][0])
    (error,) = body["errors"]
    fields = {detail["field"] for detail in error["details"]}
    assert error["index"] == 2 and {"age", "favourite_colour"} <= fields


def test_retrain_adds_a_version_and_the_history_lists_both(aws, credit_model, trainer):
    status, _ = call("retrain")
    assert status == 202
    trainer.wait(WAIT_S)

    status, history = call("versions")

    assert status == 200 and len(history["versions"]) == 2
    champion = ModelRegistry(aws["REGISTRY_TABLE"]).champion_version("custom-credit")
    assert champion in {version["version"] for version in history["versions"]}


def test_a_run_delivered_twice_trains_once(aws, credit_model, trainer):
    again = run_retrain({"custom_model": "credit", "training_id": credit_model["training_id"], "trigger": "admin"})
    assert again["skipped"] is True
    assert len(ModelRegistry(aws["REGISTRY_TABLE"]).list_versions("custom-credit")) == 1


def test_a_retired_model_stops_scoring_and_a_put_registers_it_again(aws, credit_model, trainer):
    status, body = call("retire")
    assert status == 200 and body["status"] == "retired"
    status, body = call("score")
    assert status == 409 and body["error"]["details"][0]["issue"] == "retired"

    status, _ = call("register")
    assert status == 202
    trainer.wait(WAIT_S)
    assert call("describe")[1]["status"] == "ready"
    assert call("score")[0] == 200


def test_no_files_is_409_a_bad_definition_422_and_an_unknown_model_404(aws, trainer):
    status, body = call("register")
    assert status == 409 and body["error"]["details"][0]["field"] == "data"
    status, body = call("register-bad-definition")
    assert status == 422 and "task" in {detail["field"] for detail in body["error"]["details"]}
    assert call("describe")[0] == 404
    assert call("score")[0] == 404


def test_a_file_uploaded_through_the_api_trains(aws, trainer):
    text = csv_bytes(credit_table(1_500, seed=4)).decode()
    status, stored = call("upload", text)
    assert status == 201 and stored["key"] == "training/custom/credit/applications.csv"
    status, body = call("upload", text, file="table.exe")
    assert status == 422

    assert call("register")[0] == 202
    trainer.wait(WAIT_S)
    assert call("describe")[1]["status"] == "ready"


def test_a_table_that_cannot_train_fails_with_its_reasons(aws, trainer):
    records = credit_table(400, seed=2)
    for record in records:
        record["default"] = "no"  # one class only
    put_table(aws, records)
    assert call("register")[0] == 202
    trainer.wait(WAIT_S)

    body = call("describe")[1]
    assert body["status"] == "failed" and body["reasons"], body
    # No version serves it: scoring is refused for the model's state (409), not as an outage.
    status, refused = call("score")
    assert status == 409 and "failed" in refused["error"]["message"], refused
    assert any("default" in reason["issue"] for reason in body["reasons"])
    assert CustomModels(aws["CUSTOM_MODELS_TABLE"]).get("credit")["last_run"]["registered"] is False


def test_drift_watches_a_custom_model_and_its_drift_retrains_it(aws, credit_model, monkeypatch):
    from finscore.drift.capture import capture_buffer, reset_capture
    from finscore.drift.monitor import run_monitor

    monkeypatch.setenv("DRIFT_CAPTURE_RATE", "1")
    reset_capture()
    assert call("score")[0] == 200
    assert capture_buffer().flush() == 2  # the two records scored, sampled for the monitor

    (summary,) = [entry for entry in run_monitor() if entry["product"] == "custom-credit"]
    assert summary["records"] == 2 and summary["version"] == call("describe")[1]["champion_version"]

    result = run_retrain({"detail-type": "DriftDetected",
                          "detail": {"product": "custom-credit", "retrain": True}})
    assert result["status"] == "ready" and result["trigger"] == "drift"
    assert len(ModelRegistry(aws["REGISTRY_TABLE"]).list_versions("custom-credit")) == 2


def test_the_schedule_retrains_every_custom_model_that_serves(aws, credit_model):
    result = run_retrain({"custom_models": "all", "trigger": "schedule"})

    assert [(entry["custom_model"], entry["status"]) for entry in result["results"]] == [("credit", "ready")]
    assert call("describe")[1]["last_run"]["trigger"] == "schedule"


def test_a_run_training_now_holds_the_model_until_it_has_died(aws):
    from finscore.dynamo import ConditionFailed, Table

    models = CustomModels(aws["CUSTOM_MODELS_TABLE"])
    models.register("credit", {"target": "default", "task": "binary"}, "run-1", "admin:test")
    assert models.record("credit", "run-1", "training")
    with pytest.raises(ConditionFailed):
        models.register("credit", {"target": "default", "task": "binary"}, "run-2", "admin:test")
    # Silent for longer than the retrain function may run: it died (a timeout), and a new run may start.
    Table(aws["CUSTOM_MODELS_TABLE"]).put_many([{**models.get("credit"), "updated_at": "2026-01-01T00:00:00+00:00"}])
    models.register("credit", {"target": "default", "task": "binary"}, "run-2", "admin:test")
    assert not models.record("credit", "run-1", "ready")  # the dead run can no longer record anything
    assert models.get("credit")["training_id"] == "run-2"
