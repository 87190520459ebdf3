"""The recommend API handler fed events/recommend_api/*.json under moto."""

from __future__ import annotations

import json

import pytest

from finscore.aws import client
from finscore.models.registry import ModelRegistry
from finscore.models.store import Artifact, ModelStore
from finscore.products import scoring as product_scoring
from finscore.products.recommend.catalog import CATEGORIES, PRODUCTS_BY_CATEGORY, PRODUCTS_BY_ID
from local.apigw import http_event
from tests.handlers import invoke, load_event

FUNCTION = "recommend_api"


@pytest.fixture(autouse=True)
def _fresh_champion_cache():
    product_scoring.reset_champions()
    yield
    product_scoring.reset_champions()


def call(case: str) -> tuple[int, dict]:
    return invoke(FUNCTION, load_event(FUNCTION, case))


def assert_error_shape(body: dict, code: str) -> list[dict]:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]["details"]


def publish_new_version(aws, manifest, version: str):
    """Republish MANIFEST's artifacts under VERSION and return the new manifest (not yet registered)."""
    store = ModelStore(aws["MODELS_BUCKET"])
    artifacts = {
        name: Artifact(store.read_artifact(manifest, name), entry.format, entry.role)
        for name, entry in manifest.artifacts.items()
    }
    return store.publish(manifest.model_copy(update={"version": version, "artifacts": {}}), artifacts)


def test_recommends_one_product_per_category_never_below_its_floor(recommend_champion):
    status, body = call("recommend")

    assert status == 200
    assert set(body) == {"cluster", "segment", "financial_health_score", "income_tier", "recommendations",
                         "products", "confidence_scores", "withheld", "model_version"}
    assert body["model_version"] == recommend_champion.version
    assert body["income_tier"] == "high"  # 75,000 > 70,000
    assert 0 <= body["financial_health_score"] <= 100
    segments = {s["cluster"]: s["name"] for s in recommend_champion.extra["segments"]}
    assert body["segment"] == segments[body["cluster"]]
    assert set(body["recommendations"]) == set(body["products"]) == set(body["confidence_scores"]) == set(CATEGORIES)
    floors = recommend_champion.thresholds["confidence_floor"]
    for category in CATEGORIES:
        product, confidence = body["products"][category], body["confidence_scores"][category]
        assert 0 < confidence <= 1  # the SmartBank body holds one product: every category has candidates
        if product is None:
            assert confidence < floors[category]
            assert body["withheld"][category] == (f"confidence {confidence:.4f} is below the {category} floor "
                                                  f"{floors[category]:.4f}")
            assert body["recommendations"][category] is None
        else:
            assert confidence >= floors[category] and category not in body["withheld"]
            assert product in PRODUCTS_BY_CATEGORY[category]
            assert body["recommendations"][category] == PRODUCTS_BY_ID[product].name
    assert body["products"]["account"] != "basic_checking"  # held in the SmartBank body


def test_held_products_are_never_recommended(recommend_champion):
    event = load_event(FUNCTION, "recommend-holds-products")
    held = set(json.loads(event["body"])["existing_products"])

    status, body = invoke(FUNCTION, event)

    assert status == 200
    assert not held & set(body["products"].values())
    # Two of four products per category are held, so no category is empty for want of products: each
    # has a recommendation or one withheld for its confidence.
    for category in CATEGORIES:
        assert body["products"][category] or "is below the" in body["withheld"][category]


@pytest.mark.parametrize(
    ("case", "fields"),
    [
        ("missing-field", {"income", "credit_score"}),
        ("wrong-type", {"age", "income", "existing_products", "saving_frequency"}),
        ("unknown-product", {"existing_products.1", "existing_products.2"}),
    ],
)
def test_bad_input_is_422_naming_every_bad_field(recommend_champion, case, fields):
    status, body = call(case)

    assert status == 422
    details = assert_error_shape(body, "validation_failed")
    assert {detail["field"] for detail in details} == fields
    assert all(detail["issue"] for detail in details)


def test_malformed_json_is_400(recommend_champion):
    status, body = call("malformed-json")

    assert status == 400
    assert assert_error_shape(body, "malformed_json") == [{"field": "body", "issue": "not valid JSON"}]


def test_a_body_that_is_not_utf8_is_400(recommend_champion):
    event = http_event("POST", "/v1/recommendations", body=b"\xff\xfe", headers={"Content-Type": "application/json"})

    status, body = invoke(FUNCTION, event)

    assert status == 400
    assert assert_error_shape(body, "malformed_json") == [{"field": "body", "issue": "not UTF-8 text"}]


def test_no_champion_is_503_in_the_error_shape(aws):
    status, body = call("recommend")

    assert status == 503
    assert_error_shape(body, "model_unavailable")
    assert "recommend" in body["error"]["message"]


def test_segments_lists_every_cluster_in_original_units(recommend_champion):
    status, body = call("segments")

    assert status == 200
    assert body["model_version"] == recommend_champion.version
    segments = body["segments"]
    assert [s["cluster"] for s in segments] == list(range(recommend_champion.extra["segmenter"]["clusters"]))
    assert len({s["name"] for s in segments}) == len(segments)
    assert sum(s["share"] for s in segments) == pytest.approx(1.0, abs=1e-3)
    for segment in segments:
        profile = segment["profile"]
        assert 18 <= profile["age"] <= 100
        assert profile["income"] > 1_000  # currency units, not a log or a z-score
        assert 300 <= profile["credit_score"] <= 850


def test_a_newly_promoted_champion_is_served_after_the_ttl(aws, recommend_champion):
    _, first = call("recommend")
    assert first["model_version"] == recommend_champion.version

    newer = publish_new_version(aws, recommend_champion, "29991231T000000Z-000001")
    registry = ModelRegistry(aws["REGISTRY_TABLE"])
    registry.register(newer)
    registry.promote("recommend", newer.version)

    status, second = call("recommend")
    assert status == 200
    assert second["model_version"] == newer.version


def test_a_version_failing_its_sha256_check_never_replaces_the_champion(aws, recommend_champion):
    _, first = call("recommend")
    assert first["model_version"] == recommend_champion.version

    # Given a newer version whose tree artifact was altered after publishing
    corrupt = publish_new_version(aws, recommend_champion, "29991231T000000Z-00000c")
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key=corrupt.prefix() + "loan.onnx", Body=b"tampered")
    registry = ModelRegistry(aws["REGISTRY_TABLE"])
    registry.register(corrupt)
    registry.promote("recommend", corrupt.version)

    # When a request arrives after the TTL, Then the previous champion keeps answering
    status, second = call("recommend")
    assert status == 200
    assert second["model_version"] == recommend_champion.version
    assert second["products"] == first["products"]


def test_the_model_detail_publishes_the_floors_and_the_metrics_as_served(recommend_champion):
    status, body = invoke("platform_api", load_event("platform_api", "model-detail"))

    assert status == 200 and body["champion_version"] == recommend_champion.version
    assert body["thresholds"]["confidence_floor"] == recommend_champion.thresholds["confidence_floor"]
    assert set(body["thresholds"]["confidence_floor"]) == set(CATEGORIES)
    assert body["primary_metric"] == "mean_served_accuracy"
    for category in CATEGORIES:
        assert {f"{category}_served_accuracy", f"{category}_served_precision", f"{category}_coverage",
                f"{category}_raw_accuracy"} <= set(body["metrics"])
