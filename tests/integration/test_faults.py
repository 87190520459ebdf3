"""Faults of the stores under the handlers: each answers 503 with a reason, and the same warm handlers
recover once the store is back, without a restart.

Every test calls the same handler modules throughout (tests.handlers caches them, as a warm execution
environment keeps its module); REGISTRY_TTL is 0, so caches are asked to re-check on every request.
A "cold" risk API instance is one whose champion cache is empty (service.reset()), as after a new
execution environment starts during the fault.
"""

from __future__ import annotations

import json
import logging

import pytest

from finscore.aws import client, reset_clients
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products import products
from finscore.products.risk import explanation, service
from local.embedded_aws import free_port
from local.resources import create_resources
from tests.fakes import publish_fake_version
from tests.handlers import invoke, load_event, seed_product

PLATFORM, RISK = "platform_api", "risk_api"


@pytest.fixture(autouse=True)
def _fresh_risk_environment():
    service.reset()
    explanation.reset()
    yield
    service.reset()
    explanation.reset()


@pytest.fixture
def healthy(aws, risk_champion):
    """Every product with an intact champion (risk: the trained one), 60 risk customers seeded; health 200."""
    store, registry = ModelStore(aws["MODELS_BUCKET"]), ModelRegistry(aws["REGISTRY_TABLE"])
    for name in products():
        if name != "risk":
            publish_fake_version(store, registry, name, "v01")
            registry.promote(name, "v01")
    seed_product(aws, "risk", customers=60, seed=3, transactions_for=12)
    status, checks = health()
    assert status == 200, checks
    return aws


def health() -> tuple[int, dict[str, dict]]:
    status, body = invoke(PLATFORM, load_event(PLATFORM, "health"))
    assert body["status"] == ("ok" if status == 200 else "degraded")
    return status, {check["name"]: check for check in body["checks"]}


def failing(checks: dict[str, dict]) -> dict[str, str]:
    return {name: check["reason"] for name, check in checks.items() if not check["ok"]}


def call(function: str, case: str, **changes) -> tuple[int, dict]:
    return invoke(function, {**load_event(function, case), **changes})


def risk_detail() -> tuple[int, dict]:
    return call(PLATFORM, "model-detail", path="/v1/models/risk", pathParameters={"product": "risk"})


def detail_version(answer: tuple[int, dict]) -> str:
    status, body = answer
    assert status == 200, body
    return body["champion_version"]


def assert_unavailable(answer: tuple[int, dict], *reasons: str) -> dict:
    """A 503 in the error shape whose message holds every one of REASONS."""
    status, body = answer
    assert status == 503, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] in ("service_unavailable", "model_unavailable")
    for reason in reasons:
        assert reason in body["error"]["message"], body
    return body


def assert_bad_input_is_4xx_meanwhile() -> None:
    """Bad input keeps its 4xx while a store is down: it is refused before any store is asked."""
    assert call(PLATFORM, "promote-missing-version")[0] == 422
    assert call(PLATFORM, "model-unknown-product")[0] == 404
    assert call(RISK, "score-missing-feature")[0] == 422
    assert call(RISK, "intervention-missing-key")[0] == 422


def table_items(name: str) -> list[dict]:
    return client("dynamodb").scan(TableName=name)["Items"]


def test_registry_table_deleted_then_restored(healthy):
    registry_table = healthy["REGISTRY_TABLE"]
    backup = table_items(registry_table)
    assert call(RISK, "score-features")[0] == 200  # a warm risk instance holds the champion

    client("dynamodb").delete_table(TableName=registry_table)

    status, checks = health()
    assert status == 503
    assert failing(checks)["table:ModelRegistryTable"] == f"Table {registry_table} does not exist"
    assert failing(checks)["model:risk"].startswith("not checked: the registry table fails")
    for answer in (call(PLATFORM, "models"), risk_detail(), call(PLATFORM, "promote"), call(PLATFORM, "rollback")):
        assert_unavailable(answer, registry_table, "does not exist")
    # The warm risk instance keeps serving its champion; a cold one cannot load any.
    assert call(RISK, "score-features")[0] == 200
    service.reset()
    assert_unavailable(call(RISK, "score-features"), registry_table)
    assert_bad_input_is_4xx_meanwhile()

    # Restored: the table recreated, its items put back from the backup.
    create_resources()
    for item in backup:
        client("dynamodb").put_item(TableName=registry_table, Item=item)

    assert health()[0] == 200
    assert call(PLATFORM, "models")[0] == 200
    status, detail = risk_detail()
    assert status == 200 and detail["champion_version"]
    status, scored = call(RISK, "score-features")
    assert status == 200 and scored["model_version"] == detail["champion_version"]


def test_registry_table_recreated_empty_says_so(healthy):
    client("dynamodb").delete_table(TableName=healthy["REGISTRY_TABLE"])
    create_resources()

    status, checks = health()

    assert status == 503
    assert checks["table:ModelRegistryTable"]["ok"]
    assert "no model versions" in failing(checks)["registry"]
    assert failing(checks)["model:risk"] == "No champion is registered for risk"


def test_champion_model_object_corrupted_then_restored(healthy, risk_champion):
    s3, bucket = client("s3"), healthy["MODELS_BUCKET"]
    key = risk_champion.prefix() + "model.onnx"
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert call(RISK, "score-features")[0] == 200

    s3.put_object(Bucket=bucket, Key=key, Body=b"not an onnx model")

    status, checks = health()
    assert status == 503
    assert set(failing(checks)) == {"model:risk"}
    assert "'model.onnx' fails its sha256 check" in failing(checks)["model:risk"]
    assert risk_champion.artifacts["model.onnx"].sha256 in failing(checks)["model:risk"]
    body = assert_unavailable(risk_detail(), "'model.onnx' fails its sha256 check")
    assert [detail["field"] for detail in body["error"]["details"]] == ["artifacts.model.onnx"]
    # The warm instance verified its model when it loaded it and keeps serving; a cold one refuses.
    assert call(RISK, "score-features")[0] == 200
    service.reset()
    assert_unavailable(call(RISK, "score-features"), "cannot be loaded", "'model.onnx' fails its sha256 check")
    assert_bad_input_is_4xx_meanwhile()

    s3.put_object(Bucket=bucket, Key=key, Body=original)

    assert health()[0] == 200
    assert risk_detail()[0] == 200
    status, scored = call(RISK, "score-features")
    assert status == 200 and scored["model_version"] == risk_champion.version


def test_champion_model_objects_deleted_then_restored(healthy, risk_champion):
    s3, bucket = client("s3"), healthy["MODELS_BUCKET"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=risk_champion.prefix())["Contents"]]
    saved = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}

    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)

    assert failing(health()[1]) == {"model:risk": f"risk {risk_champion.version}: manifest.json is missing"}
    body = assert_unavailable(risk_detail(), "manifest.json is missing")
    assert body["error"]["code"] == "model_unavailable"
    service.reset()
    assert_unavailable(call(RISK, "score-features"), "cannot be loaded")

    for key, data in saved.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)

    assert health()[0] == 200
    assert risk_detail()[0] == 200
    assert call(RISK, "score-features")[0] == 200


def test_interventions_table_deleted_then_recreated(healthy):
    table = healthy["INTERVENTIONS_TABLE"]
    client("dynamodb").delete_table(TableName=table)

    status, checks = health()
    assert status == 503
    assert failing(checks) == {"table:InterventionsTable": f"Table {table} does not exist"}
    assert_unavailable(call(RISK, "intervention-create"), table, "does not exist")
    assert_unavailable(call(RISK, "interventions-list"), table, "does not exist")
    assert_bad_input_is_4xx_meanwhile()

    create_resources()

    assert health()[0] == 200
    # The same Idempotency-Key as the failed attempt: a failure is not remembered as the answer.
    status, created = call(RISK, "intervention-create")
    assert status == 201, created
    status, listing = call(RISK, "interventions-list")
    assert status == 200
    assert [item["intervention_id"] for item in listing["interventions"]] == [created["intervention_id"]]
    assert call(RISK, "intervention-create") == (200, created)


@pytest.fixture
def s3_server(healthy, monkeypatch):
    """S3 behind moto's server on its own port (the rest stays in-process): stop() makes it unreachable,
    start() brings it back on the same port, with the same objects."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()

    class Server:
        running = None

        def start(self):
            self.running = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self.running.start()

        def stop(self):
            self.running.stop()
            self.running = None

    server = Server()
    server.start()
    # Configured before the first request, as a function's environment is.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    reset_clients()
    yield server
    if server.running:
        server.stop()


def test_s3_unreachable_then_back(healthy, s3_server):
    assert health()[0] == 200
    assert call(RISK, "score-features")[0] == 200

    s3_server.stop()

    status, checks = health()
    assert status == 503
    reasons = failing(checks)
    assert reasons["bucket:ModelsBucket"].startswith(f"Bucket {healthy['MODELS_BUCKET']} is unreachable")
    assert reasons["bucket:DataBucket"].startswith(f"Bucket {healthy['DATA_BUCKET']} is unreachable")
    assert reasons["model:risk"].startswith("not checked: the model store fails")
    assert not any(name.startswith("table:") for name in reasons)
    assert_unavailable(risk_detail(), healthy["MODELS_BUCKET"])
    promote_v01 = json.dumps({"version": "v01", "reason": "the files of a registered version cannot be read"})
    assert_unavailable(call(PLATFORM, "promote", body=promote_v01), healthy["MODELS_BUCKET"])
    # The warm instance's champion is in memory; a cold one cannot read it.
    assert call(RISK, "score-features")[0] == 200
    service.reset()
    assert_unavailable(call(RISK, "score-features"), "cannot be loaded", healthy["MODELS_BUCKET"])
    assert_bad_input_is_4xx_meanwhile()

    s3_server.start()

    assert health()[0] == 200
    assert risk_detail()[0] == 200
    status, scored = call(RISK, "score-features")
    assert status == 200 and scored["model_version"] == detail_version(risk_detail())
