"""Health checks and the model catalogue, over the model store and the registry."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Callable

from finscore import resources
from finscore.dynamo import Table
from finscore.errors import (
    ArtifactIntegrityError,
    Conflict,
    FieldIssue,
    FinScoreError,
    ModelUnavailable,
    NotFound,
    ServiceUnavailable,
)
from finscore.models.manifest import MANIFEST_NAME, Manifest
from finscore.models.registry import ModelRegistry, RegistryEntry
from finscore.models.store import ModelStore
from finscore.products import function
from finscore.products import product as product_spec
from finscore.products import products
from finscore.platform.schemas import (
    ActivityPeriod,
    ActivityResponse,
    BatchFilesResponse,
    ChampionChange,
    DriftReport,
    HealthCheck,
    HealthResponse,
    ModelDetailResponse,
    ModelReport,
    ModelsResponse,
    ProductActivity,
    ProductModel,
    RetrainAccepted,
    RetrainRequest,
    VersionHistory,
    VersionRecord,
    VersionSummary,
)
from finscore.s3 import Bucket
from finscore.settings import PlatformSettings, load_settings, resource_name

# Health probes run side by side: with a dependency that does not answer, each probe waits out the
# SDK's timeouts and retries, and one after another they would outlast the function's timeout.
HEALTH_PROBE_THREADS = 8


@lru_cache(maxsize=1)
def _store() -> ModelStore:
    return ModelStore(load_settings(PlatformSettings).models_bucket)


@lru_cache(maxsize=1)
def _registry() -> ModelRegistry:
    return ModelRegistry(load_settings(PlatformSettings).registry_table)


def known_product(name: str) -> str:
    return product_spec(name).name


def intact_manifest(product: str, version: str) -> Manifest:
    """The manifest of PRODUCT VERSION once it and every artifact it lists are in the store with their
    sha256; ArtifactIntegrityError naming what is missing or altered otherwise."""
    try:
        manifest = _store().read_manifest(product, version)
    except NotFound as exc:
        raise ArtifactIntegrityError(f"{product} {version}: {MANIFEST_NAME} is missing",
                                     [FieldIssue(MANIFEST_NAME, "missing")]) from exc
    _store().verify(manifest)
    return manifest


def _probe(name: str, probe: Callable[[], str]) -> HealthCheck:
    try:
        return HealthCheck(name=name, ok=True, reason=probe())
    except FinScoreError as exc:
        return HealthCheck(name=name, ok=False, reason=exc.message)


def _named(spec: resources.BucketSpec | resources.TableSpec) -> str:
    name = resource_name(spec.env_var)
    if name is None:
        raise ServiceUnavailable(f"{spec.env_var} is not set: this function was deployed without its name")
    return name


def _bucket_probe(spec: resources.BucketSpec) -> Callable[[], str]:
    def probe() -> str:
        name = _named(spec)
        Bucket(name).check()
        return f"{name} answers"

    return probe


def _table_probe(spec: resources.TableSpec) -> Callable[[], str]:
    def probe() -> str:
        name = _named(spec)
        return f"{name} is {Table(name).check()}"

    return probe


def _registry_probe() -> str:
    registered = [name for name in products() if _registry().has_versions(name)]
    if not registered:
        raise ServiceUnavailable("The registry holds no model versions: train the products or restore the registry")
    return f"versions registered for {', '.join(registered)}"


def _champion_probe(product: str) -> Callable[[], str]:
    def probe() -> str:
        version = _registry().champion_version(product)
        if version is None:
            raise ModelUnavailable(f"No champion is registered for {product}")
        manifest = intact_manifest(product, version)
        return f"champion {version}: manifest and {len(manifest.artifacts)} artifact(s) verified"

    return probe


def _unchecked(name: str, reason: str) -> HealthCheck:
    return HealthCheck(name=name, ok=False, reason=f"not checked: {reason}")


def check_health() -> HealthResponse:
    """Every bucket and table the platform uses, the registry holding versions, and each product's champion
    loadable (manifest present, every artifact there with its sha256); degraded (503) when any fails.

    Artifacts are hashed again only when their ETag changes (ModelStore.verify), so frequent probes
    cost a listing per champion, not a download.
    """
    spec = function(resources.PLATFORM_API.name)
    stores = [(f"bucket:{bucket.logical_id}", _bucket_probe(bucket)) for bucket in spec.buckets]
    stores += [(f"table:{table.logical_id}", _table_probe(table)) for table in spec.tables]
    with ThreadPoolExecutor(max_workers=HEALTH_PROBE_THREADS) as pool:
        checks = list(pool.map(lambda named: _probe(*named), stores))
        failed = {check.name: check.reason for check in checks if not check.ok}
        registry_check = f"table:{resources.REGISTRY_TABLE.logical_id}"
        models_check = f"bucket:{resources.MODELS_BUCKET.logical_id}"
        models = [(f"model:{name}", _champion_probe(name)) for name in products()]
        if registry_check in failed:
            reason = f"the registry table fails ({failed[registry_check]})"
            checks += [_unchecked("registry", reason)] + [_unchecked(name, reason) for name, _ in models]
        elif models_check in failed:
            reason = f"the model store fails ({failed[models_check]})"
            checks += [_probe("registry", _registry_probe)] + [_unchecked(name, reason) for name, _ in models]
        else:
            checks += list(pool.map(lambda named: _probe(*named), [("registry", _registry_probe), *models]))
    status = "ok" if all(check.ok for check in checks) else "degraded"
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
    registry = _registry()
    known_product(product)
    versions = [_summary(entry) for entry in registry.list_versions(product)]
    version = registry.champion_version(product)
    if version is None:
        return ModelDetailResponse(product=product, champion_version=None, metrics={}, versions=versions)
    try:
        manifest = intact_manifest(product, version)
    except ArtifactIntegrityError as exc:
        # The registry names a champion whose files are not (all) there: the product cannot serve, and
        # this answer cannot describe it, until the files are restored or another version is promoted.
        raise ModelUnavailable(f"The registry names a {product} champion whose model files fail their checks: "
                               f"{exc.message}", exc.details) from exc
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
    return history_of(known_product(product))


def history_of(product: str) -> VersionHistory:
    """version_history of any name the registry holds versions under (a product, a custom model)."""
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


def _servable(product: str, version: str, action: str) -> None:
    """Conflict (409) naming each missing or altered file unless VERSION could serve: a champion whose
    artifacts fail their checks would be named everywhere while the old model kept serving."""
    try:
        intact_manifest(product, version)
    except ArtifactIntegrityError as exc:
        raise Conflict(f"Cannot {action} {exc.message}", exc.details) from exc


def promote_model(product: str, version: str, reason: str, actor: str) -> ChampionChange:
    return promote_version(known_product(product), version, reason, actor)


def promote_version(product: str, version: str, reason: str, actor: str) -> ChampionChange:
    """promote_model of any name the registry holds versions under."""
    registry = _registry()
    registry.get(product, version)  # an unregistered version is a 404 before its files are looked at
    previous = registry.champion_version(product)
    _servable(product, version, "promote")
    entry = registry.promote(product, version, reason, actor=actor)
    return ChampionChange(product=product, champion_version=entry.version, previous_version=previous)


def rollback_model(product: str, reason: str, actor: str) -> ChampionChange:
    return roll_back(known_product(product), reason, actor)


def roll_back(product: str, reason: str, actor: str) -> ChampionChange:
    """rollback_model of any name the registry holds versions under."""
    registry = _registry()
    previous = registry.champion_version(product)
    history = registry.champion_history(product)
    if history:
        _servable(product, history[0], "roll back to")
    entry = registry.rollback(product, reason, actor=actor, expected=history[0] if history else None)
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


def champion_report(product: str) -> ModelReport:
    """The evaluation report (the JSON report artifact) training wrote beside PRODUCT's champion."""
    known_product(product)
    version = _registry().champion_version(product)
    if version is None:
        raise NotFound(f"{product} has no champion yet", [FieldIssue("product", "no champion")])
    manifest = intact_manifest(product, version)
    names = [name for name, entry in manifest.artifacts.items() if entry.role == "report" and entry.format == "json"]
    if not names:
        raise NotFound(f"The {product} champion {version} has no evaluation report",
                       [FieldIssue("product", "no report artifact")])
    report = json.loads(_store().read_artifact(manifest, names[0]))
    return ModelReport(product=product, version=version, report=report)


def scored_files(product: str | None, limit: int) -> BatchFilesResponse:
    """Batch files scored for PRODUCT (every product when None), newest first."""
    from finscore.platform.batch_files import list_scored_files

    names = [known_product(product)] if product else list(products())
    return list_scored_files(load_settings(PlatformSettings).data_bucket, names, limit)


def latest_drift(product: str) -> DriftReport:
    from finscore.drift.store import latest_report

    known_product(product)
    report = latest_report(load_settings(PlatformSettings).data_bucket, product)
    if report is None:
        raise NotFound(f"No drift report for {product} yet; the drift monitor writes one daily",
                       [FieldIssue("product", "no drift report yet")])
    return DriftReport.model_validate(report)


def product_activity(product: str | None, by: str, days: int) -> ActivityResponse:
    """What PRODUCT (every product when None) served over the last DAYS, by hour or day."""
    from finscore.activity.store import hours
    from finscore.activity.summary import summarise, window

    names = [known_product(product)] if product else list(products())
    first, last, periods = window(by, days)
    table = load_settings(PlatformSettings).activity_table
    answers = []
    for name in names:
        totals, series = summarise(hours(table, name, first, last), by, periods)
        answers.append(ProductActivity(product=name, totals=ActivityPeriod(**totals),
                                       series=[ActivityPeriod(**entry) for entry in series]))
    return ActivityResponse(by=by, first=periods[0], last=periods[-1], products=answers)
