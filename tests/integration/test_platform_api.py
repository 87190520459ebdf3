"""The platform function fed events/platform_api/*.json under moto."""

from __future__ import annotations

import pytest

from finscore.aws import client
from finscore.products import all_tables, products
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore, sha256_of
from tests.fakes import publish_fake_version
from tests.handlers import invoke, load_event

PROMOTE_VERSION = "20261121T000000Z-000000"


@pytest.fixture
def platform(aws):
    return ModelStore(aws["MODELS_BUCKET"]), ModelRegistry(aws["REGISTRY_TABLE"])


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)


def checks_of(body: dict) -> dict[str, dict]:
    assert set(body) == {"status", "checks"}
    assert all(set(check) == {"name", "ok", "reason"} and check["reason"] for check in body["checks"])
    return {check["name"]: check for check in body["checks"]}


def health() -> tuple[int, dict]:
    return invoke("platform_api", load_event("platform_api", "health"))


def test_health_is_ok_when_every_store_answers_and_every_champion_is_intact(platform):
    store, registry = platform
    for name in products():
        publish_fake_version(store, registry, name, "v01")
        registry.promote(name, "v01")

    status, body = health()

    assert status == 200 and body["status"] == "ok", body
    checks = checks_of(body)
    assert {f"table:{table.logical_id}" for table in all_tables()} <= set(checks)
    assert {"bucket:ModelsBucket", "bucket:DataBucket", "registry"} <= set(checks)
    assert {f"model:{name}" for name in products()} <= set(checks)
    assert checks["model:recommend"]["reason"] == "champion v01: manifest and 1 artifact(s) verified"


def test_health_is_503_while_a_product_has_no_champion_or_the_registry_is_empty(platform):
    store, registry = platform
    status, body = health()
    assert status == 503 and body["status"] == "degraded"
    assert not checks_of(body)["registry"]["ok"]
    assert "no model versions" in checks_of(body)["registry"]["reason"]

    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    status, body = health()

    checks = checks_of(body)
    assert status == 503
    assert checks["registry"]["ok"] and checks["model:recommend"]["ok"]
    assert checks["model:risk"] == {"name": "model:risk", "ok": False, "reason": "No champion is registered for risk"}


def test_health_degrades_with_503_when_dynamodb_is_gone(platform, aws):
    client("dynamodb").delete_table(TableName=aws["REGISTRY_TABLE"])

    status, body = health()

    checks = checks_of(body)
    assert status == 503 and body["status"] == "degraded"
    assert checks["table:ModelRegistryTable"] == {
        "name": "table:ModelRegistryTable", "ok": False, "reason": f"Table {aws['REGISTRY_TABLE']} does not exist"}
    assert checks["bucket:ModelsBucket"]["ok"]
    assert checks["model:recommend"]["reason"].startswith("not checked: the registry table fails")


def test_version(platform):
    status, body = invoke("platform_api", load_event("platform_api", "version"))
    assert status == 200 and body["api"] == "v1" and body["version"]


def test_models_lists_every_product_with_its_champion(platform):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01", primary_value=0.87)
    registry.promote("recommend", "v01")

    status, body = invoke("platform_api", load_event("platform_api", "models"))

    assert status == 200
    by_product = {m["product"]: m for m in body["models"]}
    assert set(by_product) == set(products())
    assert by_product["recommend"]["champion_version"] == "v01"
    assert by_product["recommend"]["primary_value"] == pytest.approx(0.87)
    assert by_product["risk"]["champion_version"] is None


def test_model_detail_holds_the_manifest_metrics_and_versions(platform):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01", primary_value=0.81)
    publish_fake_version(store, registry, "recommend", "v02", primary_value=0.83)
    registry.promote("recommend", "v02")

    status, body = invoke("platform_api", load_event("platform_api", "model-detail"))

    assert status == 200
    assert body["champion_version"] == "v02"
    assert body["metrics"] == {"accuracy": pytest.approx(0.83)}
    assert body["parity"]["passed"] is True
    assert [v["version"] for v in body["versions"]] == ["v02", "v01"]


def test_an_unknown_product_is_404_in_the_error_shape(platform):
    status, body = invoke("platform_api", load_event("platform_api", "model-unknown-product"))
    assert status == 404
    assert_error_shape(body, "not_found")


def test_admin_promote_then_rollback(platform):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    publish_fake_version(store, registry, "recommend", PROMOTE_VERSION)

    status, body = invoke("platform_api", load_event("platform_api", "promote"))
    assert status == 200
    assert body == {"product": "recommend", "champion_version": PROMOTE_VERSION, "previous_version": "v01"}
    assert registry.get("recommend", PROMOTE_VERSION).status_reason == "manual promotion"

    status, body = invoke("platform_api", load_event("platform_api", "rollback"))
    assert status == 200 and body["champion_version"] == "v01"
    assert registry.champion_version("recommend") == "v01"


def test_a_version_whose_artifact_fails_its_check_is_not_promoted(platform, aws):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    manifest = publish_fake_version(store, registry, "recommend", PROMOTE_VERSION)
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key=f"recommend/{PROMOTE_VERSION}/model.bin", Body=b"tampered")

    status, body = invoke("platform_api", load_event("platform_api", "promote"))

    assert status == 409
    assert_error_shape(body, "conflict")
    assert body["error"]["details"] == [{
        "field": "artifacts.model.bin",
        "issue": f"sha256 {sha256_of(b'tampered')}, expected {manifest.artifacts['model.bin'].sha256}"}]
    assert "'model.bin' fails its sha256 check" in body["error"]["message"]
    assert registry.champion_version("recommend") == "v01"
    _, models = invoke("platform_api", load_event("platform_api", "models"))
    assert {m["product"]: m["champion_version"] for m in models["models"]}["recommend"] == "v01"


def test_a_version_whose_files_are_missing_is_not_promoted(platform, aws):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", PROMOTE_VERSION)
    client("s3").delete_object(Bucket=aws["MODELS_BUCKET"], Key=f"recommend/{PROMOTE_VERSION}/model.bin")

    status, body = invoke("platform_api", load_event("platform_api", "promote"))

    assert status == 409
    assert body["error"]["details"] == [{"field": "artifacts.model.bin", "issue": "missing"}]
    assert registry.champion_version("recommend") is None


def test_rollback_to_a_champion_whose_files_fail_is_refused(platform, aws):
    store, registry = platform
    for version in ("v01", "v02"):
        publish_fake_version(store, registry, "recommend", version)
        registry.promote("recommend", version)
    client("s3").delete_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/manifest.json")

    status, body = invoke("platform_api", load_event("platform_api", "rollback"))

    assert status == 409
    assert body["error"]["details"] == [{"field": "manifest.json", "issue": "missing"}]
    assert "roll back to recommend v01" in body["error"]["message"]
    assert registry.champion_version("recommend") == "v02"


def test_a_champion_whose_files_are_gone_is_503_not_404(platform, aws):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01")
    registry.promote("recommend", "v01")
    client("s3").delete_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.bin")

    status, body = invoke("platform_api", load_event("platform_api", "model-detail"))

    assert status == 503
    assert_error_shape(body, "model_unavailable")
    assert body["error"]["details"] == [{"field": "artifacts.model.bin", "issue": "missing"}]


def test_a_product_without_a_champion_is_described_with_its_versions(platform):
    store, registry = platform
    publish_fake_version(store, registry, "recommend", "v01")

    status, body = invoke("platform_api", load_event("platform_api", "model-detail"))

    assert status == 200
    assert body["champion_version"] is None and [v["version"] for v in body["versions"]] == ["v01"]


def test_promoting_an_unknown_version_is_404(platform):
    status, body = invoke("platform_api", load_event("platform_api", "promote"))
    assert status == 404
    assert_error_shape(body, "not_found")


def test_rollback_without_a_previous_champion_is_409(platform):
    status, body = invoke("platform_api", load_event("platform_api", "rollback"))
    assert status == 409
    assert_error_shape(body, "conflict")


def test_a_promote_without_version_names_the_field(platform):
    status, body = invoke("platform_api", load_event("platform_api", "promote-missing-version"))
    assert status == 422
    assert_error_shape(body, "validation_failed")
    assert [d["field"] for d in body["error"]["details"]] == ["version"]


def test_malformed_json_is_400(platform):
    status, body = invoke("platform_api", load_event("platform_api", "promote-malformed-json"))
    assert status == 400
    assert_error_shape(body, "malformed_json")


def test_openapi_document_and_docs_page(platform):
    status, document = invoke("platform_api", load_event("platform_api", "openapi"))
    assert status == 200 and document["openapi"].startswith("3.")
    status, page = invoke("platform_api", load_event("platform_api", "docs"))
    assert status == 200 and "swagger-ui" in page and "openapi.json" in page


def test_a_json_body_labelled_as_a_form_is_read_as_json(platform):
    # Given what `curl -d` sends without -H 'Content-Type: application/json'
    event = load_event("platform_api", "promote-missing-version")
    event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
    event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded"]

    status, body = invoke("platform_api", event)

    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["version"]


def test_an_invalid_environment_fails_naming_the_variable(platform, monkeypatch):
    monkeypatch.delenv("MODELS_BUCKET")

    status, body = invoke("platform_api", load_event("platform_api", "version"))

    assert status == 500
    assert body["error"]["code"] == "configuration_error"
    assert "MODELS_BUCKET" in body["error"]["message"]
