"""The daily drift check: each champion's captured inputs against its training baseline.

Per feature: PSI on the baseline's bins (warn 0.1, alert 0.25); KS for continuous features (the
baseline keeps decile edges, so the sample is compared with their piecewise-linear CDF) and
chi-squared for discrete ones (category, flag, or at most ten distinct training values). A product's
status is that of its worst PSI; too small a sample reports insufficient_data and never alerts.
Only records scored by the champion version are compared, since the baseline belongs to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Callable, Iterable, Mapping

import numpy as np
from pydantic import Field

from finscore import resources
from finscore.drift import statistics
from finscore.models.manifest import Manifest
from finscore.settings import ModelServingSettings, load_settings

MIN_SAMPLE = 50
BASELINE_ROLE = "baseline"


@dataclass(frozen=True)
class Sample:
    records: list[dict[str, Any]]
    objects: int
    last_key: str | None
    other_versions: int


def baseline_of(manifest: Manifest, read_artifact: Callable[[Manifest, str], bytes]) -> dict[str, Any] | None:
    names = [name for name, entry in manifest.artifacts.items() if entry.role == BASELINE_ROLE]
    return json.loads(read_artifact(manifest, names[0])) if names else None


def compare_feature(entry: Mapping[str, Any], column: np.ndarray) -> dict[str, Any]:
    """PSI and the fitting test of one feature's sample against its baseline entry."""
    result: dict[str, Any] = {
        "name": entry["name"],
        "baseline_mean": entry.get("mean"),
        "sample_mean": float(column.mean()) if len(column) else None,
    }
    if "values" in entry:
        shares, unseen = statistics.value_shares(column, entry["values"])
        value = statistics.psi(entry["shares"], shares)
        observed = shares * len(column)
        chi, p_value, dof = statistics.chi_squared(observed, entry["shares"])
        result.update(kind="categorical", psi=value, test="chi_squared", statistic=chi, p_value=p_value, dof=dof,
                      unseen_values=unseen)
    else:
        shares = statistics.binned_shares(column, entry["edges"])
        value = statistics.psi(entry["shares"], shares)
        cdf_x, cdf_y = statistics.baseline_cdf(entry["edges"], entry["shares"])
        ks, p_value = statistics.ks_against_cdf(column, cdf_x, cdf_y)
        result.update(kind="numeric", psi=value, test="ks", statistic=ks, p_value=p_value)
    result["level"] = statistics.psi_level(result["psi"])
    return result


def drift_report(product: str, manifest: Manifest, baseline: Mapping[str, Any], sample: Sample,
                 now: datetime | None = None) -> dict[str, Any]:
    """The report of PRODUCT's champion over SAMPLE (records with a `features` mapping each)."""
    moment = now or datetime.now(timezone.utc)
    report: dict[str, Any] = {
        "product": product,
        "model_version": manifest.version,
        "generated_at": moment.isoformat(timespec="seconds"),
        "thresholds": {"psi_warn": statistics.PSI_WARN, "psi_alert": statistics.PSI_ALERT, "min_sample": MIN_SAMPLE},
        "sample": {"records": len(sample.records), "objects": sample.objects,
                   "other_versions": sample.other_versions, "last_capture_key": sample.last_key},
        "features": [],
        "max_psi": None,
        "status": "insufficient_data",
    }
    if len(sample.records) < MIN_SAMPLE:
        return report
    features = []
    for entry in baseline["features"]:
        column = np.array([float(r["features"][entry["name"]]) for r in sample.records
                           if entry["name"] in r.get("features", {})], dtype=np.float64)
        if len(column):
            features.append(compare_feature(entry, column))
    max_psi = max((f["psi"] for f in features), default=0.0)
    report.update(features=features, max_psi=max_psi, status=statistics.psi_level(max_psi))
    report["drifted_features"] = [f["name"] for f in features if f["level"] == "alert"]
    return report


def collect_sample(version: str, keys: Iterable[str], read: Callable[[str], list[dict[str, Any]]]) -> Sample:
    records, objects, last_key, others = [], 0, None, 0
    for key in keys:
        objects += 1
        last_key = key
        for record in read(key):
            if record.get("model_version") == version:
                records.append(record)
            else:
                others += 1
    return Sample(records, objects, last_key, others)


class DriftSettings(ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    # Whether a DriftDetected event asks for retraining (the retrain function checks it too).
    retrain_on_drift: Annotated[bool, Field(alias="RETRAIN_ON_DRIFT")] = False
    # Custom models are watched as products are; without the table, only the registry's products.
    custom_models_table: Annotated[str | None, Field(alias=resources.CUSTOM_MODELS_TABLE.env_var)] = None


def run_monitor(products: Iterable[str] | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Check every product (of the registry, or PRODUCTS) that has a champion; write reports, the metric
    and DriftDetected events."""
    from finscore.drift import store
    from finscore.events import DRIFT_DETECTED, publish_event
    from finscore.models.registry import ModelRegistry
    from finscore.models.store import ModelStore
    from finscore.products import product as product_spec
    from finscore.products import products as registered
    from finscore.products.custom.spec import is_custom

    settings = load_settings(DriftSettings)
    data_bucket = settings.data_bucket
    models, registry = ModelStore(settings.models_bucket), ModelRegistry(settings.registry_table)
    retrain = settings.retrain_on_drift
    moment = now or datetime.now(timezone.utc)
    summaries = []
    if products is None:
        products = [*registered(), *_custom_models(settings.custom_models_table)]
    for product in products:
        # A custom model's every feature is watched: nothing declares which of a user's columns move.
        watched = set() if is_custom(product) else set(product_spec(product).drift_features)
        version = registry.champion_version(product)
        if version is None:
            continue
        manifest = models.read_manifest(product, version)
        baseline = baseline_of(manifest, models.read_artifact)
        if baseline is None:
            continue
        previous = store.latest_report(data_bucket, product)
        after = (previous or {}).get("sample", {}).get("last_capture_key")
        sample = collect_sample(version, store.capture_keys(data_bucket, product, after),
                                lambda key: store.read_records(data_bucket, key))
        if previous and not sample.objects:
            # Nothing captured since the last report: keep where it left off.
            sample = Sample([], 0, after, 0)
        if watched:
            baseline = {**baseline, "features": [entry for entry in baseline["features"] if entry["name"] in watched]}
        report = drift_report(product, manifest, baseline, sample, moment)
        key = store.write_report(data_bucket, product, f"{moment:%Y-%m-%d}", report)
        if report["max_psi"] is not None:
            store.put_max_psi(product, report["max_psi"])
        if report["status"] == "alert":
            publish_event(DRIFT_DETECTED, {
                "product": product, "version": version, "max_psi": report["max_psi"],
                "drifted_features": report["drifted_features"], "report_key": key, "retrain": retrain,
            })
        summaries.append({"product": product, "version": version, "status": report["status"],
                          "max_psi": report["max_psi"], "report_key": key, "records": len(sample.records)})
    return summaries


def _custom_models(table: str | None) -> list[str]:
    """The model keys of the custom models that serve (not retired)."""
    if not table:
        return []
    from finscore.products.custom.definition import model_key
    from finscore.products.custom.store import CustomModels

    return [model_key(item["name"]) for item in CustomModels(table).all() if item.get("status") != "retired"]
