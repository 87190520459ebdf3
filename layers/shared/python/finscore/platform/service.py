"""Health checks and the model catalogue, over the model store and the registry."""

from __future__ import annotations

import uuid
from functools import lru_cache

from finscore import resources
from finscore.errors import FieldIssue, FinScoreError, NotFound, ServiceUnavailable
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.platform.schemas import (
    ChampionChange,
    DependencyCheck,
    DriftReport,
    RetrainAccepted,
    RetrainRequest,
    HealthResponse,
    ModelDetailResponse,
    ModelsResponse,
    ProductModel,
    VersionSummary,
)
from finscore.settings import PlatformSettings, load_settings


@lru_cache(maxsize=1)
def _store() -> ModelStore:
    return ModelStore(load_settings(PlatformSettings).models_bucket)


@lru_cache(maxsize=1)
def _registry() -> ModelRegistry:
    return ModelRegistry(load_settings(PlatformSettings).registry_table)


def known_product(product: str) -> str:
    if product not in resources.PRODUCTS:
        raise NotFound(f"Unknown product {product!r}; known: {', '.join(resources.PRODUCTS)}")
    return product


def check_health() -> HealthResponse:
    """S3, DynamoDB and every champion's manifest; degraded (503) when any fails."""
    checks: dict[str, DependencyCheck] = {}
    store, registry = _store(), _registry()
    for name, check in (("s3", store.check), ("dynamodb", registry.check)):
        try:
            check()
            checks[name] = DependencyCheck(status="ok", detail="reachable")
        except FinScoreError as exc:
            checks[name] = DependencyCheck(status="failed", detail=exc.message)
    if checks["dynamodb"].status == "ok":
        for product in resources.PRODUCTS:
            try:
                version = registry.champion_version(product)
                if version is None:
                    continue
                store.read_manifest(product, version)
                checks[f"model:{product}"] = DependencyCheck(status="ok", detail=f"champion {version}")
            except FinScoreError as exc:
                checks[f"model:{product}"] = DependencyCheck(status="failed", detail=exc.message)
    status = "ok" if all(check.status == "ok" for check in checks.values()) else "degraded"
    return HealthResponse(status=status, checks=checks)


def list_models() -> ModelsResponse:
    registry = _registry()
    models = []
    for product in resources.PRODUCTS:
        version = registry.champion_version(product)
        entry = registry.get(product, version) if version else None
        models.append(
            ProductModel(
                product=product,
                champion_version=version,
                primary_metric=entry.primary_metric if entry else None,
                primary_value=entry.primary_value if entry else None,
            )
        )
    return ModelsResponse(models=models)


def describe_model(product: str) -> ModelDetailResponse:
    registry, store = _registry(), _store()
    known_product(product)
    versions = [
        VersionSummary(
            version=e.version,
            status=e.status,
            created_at=e.created_at,
            primary_metric=e.primary_metric,
            primary_value=e.primary_value,
            status_reason=e.status_reason,
        )
        for e in registry.list_versions(product)
    ]
    version = registry.champion_version(product)
    if version is None:
        return ModelDetailResponse(product=product, champion_version=None, metrics={}, versions=versions)
    manifest = store.read_manifest(product, version)
    return ModelDetailResponse(
        product=product,
        champion_version=version,
        metrics=manifest.metrics,
        primary_metric=manifest.primary_metric,
        features=[f.model_dump(exclude_none=True) for f in manifest.features],
        outputs=[o.model_dump() for o in manifest.outputs],
        thresholds=manifest.thresholds,
        parity=manifest.parity.model_dump(),
        training_data=manifest.training_data.model_dump(),
        library_versions=manifest.library_versions,
        versions=versions,
    )


def promote_model(product: str, version: str, reason: str) -> ChampionChange:
    registry = _registry()
    known_product(product)
    previous = registry.champion_version(product)
    # The store must hold a loadable manifest before a version may serve.
    _store().read_manifest(product, version)
    entry = registry.promote(product, version, reason)
    return ChampionChange(product=product, champion_version=entry.version, previous_version=previous)


def rollback_model(product: str, reason: str) -> ChampionChange:
    registry = _registry()
    known_product(product)
    previous = registry.champion_version(product)
    entry = registry.rollback(product, reason)
    return ChampionChange(product=product, champion_version=entry.version, previous_version=previous)


def start_retrain(product: str, request: RetrainRequest) -> RetrainAccepted:
    """Queue a retraining run of PRODUCT; the gate decides later whether its model serves."""
    from finscore.platform.retraining import RETRAINABLE_PRODUCTS, invoke_retrain

    known_product(product)
    if product not in RETRAINABLE_PRODUCTS:
        raise NotFound(f"{product} has no trainer yet; retrainable: {', '.join(RETRAINABLE_PRODUCTS)}",
                       [FieldIssue("product", "no trainer")])
    function_name = load_settings(PlatformSettings).retrain_function_name
    if not function_name:
        raise ServiceUnavailable("Retraining is not configured (RETRAIN_FUNCTION_NAME is unset)")
    retrain_id = str(uuid.uuid4())
    invoke_retrain(function_name, {"product": product, "retrain_id": retrain_id, "trigger": "admin",
                                   **request.model_dump(exclude_none=True)})
    return RetrainAccepted(retrain_id=retrain_id, product=product)


def latest_drift(product: str) -> DriftReport:
    from finscore.drift.store import latest_report

    known_product(product)
    report = latest_report(load_settings(PlatformSettings).data_bucket, product)
    if report is None:
        raise NotFound(f"No drift report for {product} yet; the drift monitor writes one daily",
                       [FieldIssue("product", "no drift report yet")])
    return DriftReport.model_validate(report)
