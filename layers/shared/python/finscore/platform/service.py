"""Health checks and the model catalogue, over the model store and the registry."""

from __future__ import annotations

import uuid
from functools import lru_cache

from finscore.errors import FieldIssue, FinScoreError, NotFound, ServiceUnavailable
from finscore.models.registry import ModelRegistry, RegistryEntry
from finscore.models.store import ModelStore
from finscore.products import product as product_spec
from finscore.products import products
from finscore.platform.schemas import (
    ChampionChange,
    DependencyCheck,
    DriftReport,
    HealthResponse,
    ModelDetailResponse,
    ModelsResponse,
    ProductModel,
    RetrainAccepted,
    RetrainRequest,
    VersionHistory,
    VersionRecord,
    VersionSummary,
)
from finscore.settings import PlatformSettings, load_settings


@lru_cache(maxsize=1)
def _store() -> ModelStore:
    return ModelStore(load_settings(PlatformSettings).models_bucket)


@lru_cache(maxsize=1)
def _registry() -> ModelRegistry:
    return ModelRegistry(load_settings(PlatformSettings).registry_table)


def known_product(name: str) -> str:
    return product_spec(name).name


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
        for name in products():
            try:
                version = registry.champion_version(name)
                if version is None:
                    continue
                store.read_manifest(name, version)
                checks[f"model:{name}"] = DependencyCheck(status="ok", detail=f"champion {version}")
            except FinScoreError as exc:
                checks[f"model:{name}"] = DependencyCheck(status="failed", detail=exc.message)
    status = "ok" if all(check.status == "ok" for check in checks.values()) else "degraded"
    return HealthResponse(status=status, checks=checks)


def list_models() -> ModelsResponse:
    registry = _registry()
    models = []
    for name in products():
        version = registry.champion_version(name)
        entry = registry.get(name, version) if version else None
        models.append(
            ProductModel(
                product=name,
                champion_version=version,
                primary_metric=entry.primary_metric if entry else None,
                primary_value=entry.primary_value if entry else None,
            )
        )
    return ModelsResponse(models=models)


def _summary(entry: RegistryEntry) -> VersionSummary:
    return VersionSummary(
        version=entry.version,
        status=entry.status,
        created_at=entry.created_at,
        primary_metric=entry.primary_metric,
        primary_value=entry.primary_value,
        status_reason=entry.status_reason,
    )


def describe_model(product: str) -> ModelDetailResponse:
    registry, store = _registry(), _store()
    known_product(product)
    versions = [_summary(entry) for entry in registry.list_versions(product)]
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
        hyperparameters=manifest.hyperparameters,
        parity=manifest.parity.model_dump(),
        training_data=manifest.training_data.model_dump(),
        library_versions=manifest.library_versions,
        versions=versions,
    )


def version_history(product: str) -> VersionHistory:
    """Every registered version, newest first, with what it was trained on and how it got its status."""
    known_product(product)
    registry = _registry()
    champion = registry.champion_version(product)
    return VersionHistory(
        product=product,
        champion_version=champion,
        versions=[
            VersionRecord(
                **_summary(entry).model_dump(),
                metrics=entry.metrics,
                hyperparameters=entry.hyperparameters,
                training_data=entry.training_data,
                promoted_by=entry.promoted_by or None,
                promoted_at=entry.promoted_at or None,
                gate=entry.gate,
            )
            for entry in registry.list_versions(product)
        ],
    )


def promote_model(product: str, version: str, reason: str, actor: str) -> ChampionChange:
    registry = _registry()
    known_product(product)
    previous = registry.champion_version(product)
    # The store must hold a loadable manifest before a version may serve.
    _store().read_manifest(product, version)
    entry = registry.promote(product, version, reason, actor=actor)
    return ChampionChange(product=product, champion_version=entry.version, previous_version=previous)


def rollback_model(product: str, reason: str, actor: str) -> ChampionChange:
    registry = _registry()
    known_product(product)
    previous = registry.champion_version(product)
    entry = registry.rollback(product, reason, actor=actor)
    return ChampionChange(product=product, champion_version=entry.version, previous_version=previous)


def start_retrain(product: str, request: RetrainRequest) -> RetrainAccepted:
    """Queue a retraining run of PRODUCT; the gate decides later whether its model serves."""
    from finscore.platform.retraining import invoke_retrain

    if product_spec(product).trainer is None:
        retrainable = [name for name, spec in products().items() if spec.trainer]
        raise NotFound(f"{product} has no trainer yet; retrainable: {', '.join(retrainable)}",
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
