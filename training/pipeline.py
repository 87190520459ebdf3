"""The training pipeline every product shares.

    data -> validate -> split 70/15/15 -> fit -> evaluate (held-out test) -> export ONNX
    -> parity gate -> publish + register candidate -> promotion gate -> promote | reject

A product's spec (finscore.products) names its trainer: a module of module-level names and functions
satisfying `Trainer`, with optional hooks: `split(records, seed)` replaces the plain seeded 70/15/15
split (risk stratifies by its label, propensity splits by time), `report(fitted, test, metrics)`
returns extra artifacts stored beside the model (risk's evaluation report and plots),
`assemble(files)` joins users' files into records (training.data), and `excluded(records)` counts
what the data holds that training does not use (recorded in the manifest). A version whose ONNX export
fails parity is never published or registered. The promotion gate (training.gate) scores the
candidate and the champion with the product's one serving path (finscore.products.scoring.Scorer) on
the candidate's held-out rows that the champion did not fit on either (`record_key(record)`, when a
trainer has it, says which rows are the same), with a bootstrap interval on the difference. A
product with `schema_per_version` true builds each version's inputs from the rows with that
version's own schema (custom models), so a champion with another feature schema is still scored.
"""

from __future__ import annotations

import importlib
import json
import platform
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from finscore.errors import FinScoreError
from finscore.models.champion import LoadedModel
from finscore.models.manifest import FeatureSpec, Manifest, OutputSpec, ParityResult, TrainingDataRef
from finscore.models.native import PARITY_SAMPLE_ARTIFACT, parity_sample_document
from finscore.models.registry import ModelRegistry
from finscore.products import product as product_spec
from finscore.products import products
from finscore.products.columns import columns_of
from finscore.products.scoring import Scorer
from finscore.products.spec import ProductSpec, load
from finscore.records import RowReject
from finscore.models.store import Artifact, ModelStore
from training.gate import (
    FITTED_ROWS,
    MIN_GATE_ROWS,
    GateDecision,
    compare_on_rows,
    decide,
    fitted_rows_document,
    recorded_comparison,
    row_keys,
    unseen,
)

SPLIT = (0.70, 0.15, 0.15)
DEFAULT_TOLERANCE = 0.01
MIN_ROWS = 100
BASELINE_ARTIFACT = "baseline.json"
BASELINE_BINS = 10


@dataclass(frozen=True)
class ModelDescription:
    """What a product says about a fitted model in its manifest."""

    features: Sequence[FeatureSpec]
    outputs: Sequence[OutputSpec]
    thresholds: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # What the chosen model was fitted with, and how those values were chosen.
    hyperparameters: dict[str, Any] = field(default_factory=dict)


class Trainer(Protocol):
    """What a product's trainer module provides."""

    primary_metric: str
    higher_is_better: bool
    default_rows: int
    libraries: Sequence[str]  # distributions whose versions go into the manifest

    def generate(self, rows: int, seed: int) -> list[dict[str, Any]]: ...

    def validate(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[RowReject]]: ...

    def fit(self, train: Sequence[Mapping[str, Any]], validation: Sequence[Mapping[str, Any]], *,
            seed: int, config: Mapping[str, Any]) -> Any: ...

    def evaluate(self, fitted: Any, test: Sequence[Mapping[str, Any]]) -> dict[str, float]: ...

    def export_onnx(self, fitted: Any) -> dict[str, Artifact]: ...

    def parity(self, fitted: Any, artifacts: Mapping[str, Artifact], test: Sequence[Mapping[str, Any]]) -> ParityResult: ...

    def describe(self, fitted: Any) -> ModelDescription: ...

    def gate_metrics(self, outputs: Mapping[str, np.ndarray], test: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        """The primary metric (and others) of served OUTPUTS against the labels of TEST."""
        ...


class Product(Protocol):
    """A trainer with what the pipeline needs of its product: its name, the feature set the drift
    baseline is taken with, and the serving path the promotion gate judges with."""

    name: str
    primary_metric: str
    higher_is_better: bool
    default_rows: int
    libraries: Sequence[str]

    def feature_matrix(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray: ...

    def serving_outputs(self, manifest: Manifest, read: Callable[[str], bytes],
                        test: Sequence[Mapping[str, Any]]) -> Mapping[str, np.ndarray]: ...


class RegisteredProduct:
    """A product of the registry for the pipeline: its spec, and its trainer module for the rest."""

    def __init__(self, spec: ProductSpec):
        self.spec = spec
        self.name = spec.name
        self.trainer = importlib.import_module(spec.trainer) if spec.trainer else None
        if self.trainer is None:
            raise KeyError(f"{spec.name} has no trainer")

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.trainer, attribute)

    def feature_matrix(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return load(self.spec.features).matrix(columns_of(records))

    def serving_outputs(self, manifest: Manifest, read: Callable[[str], bytes],
                        test: Sequence[Mapping[str, Any]]) -> Mapping[str, np.ndarray]:
        """What the version MANIFEST describes answers for TEST, loaded and scored as serving does."""
        model = load(self.spec.model).load(manifest, read)
        return Scorer(self.spec, LoadedModel(manifest.version, manifest, model)).predict(columns_of(test))


@dataclass(frozen=True)
class Candidate:
    """A trained, exported and parity-checked model that is not in the store yet."""

    manifest: Manifest
    artifacts: dict[str, Artifact]
    test: list[dict[str, Any]]
    rejects: list[RowReject]
    timings: dict[str, float]


@dataclass(frozen=True)
class TrainingResult:
    manifest: Manifest
    registered: bool
    promoted: bool
    decision: str
    rejects: list[RowReject]
    timings: dict[str, float]
    gate: GateDecision | None = None  # the promotion gate's values, when it ran


class TrainingDataError(ValueError):
    """Too little valid data to train on."""


def load_product(product: Product | ProductSpec | str) -> Product:
    """PRODUCT itself, or the registered product of that name or spec with its trainer."""
    if isinstance(product, str):
        spec = product_spec(product)
        if spec.trainer is None:
            raise KeyError(f"No trainer for {product!r}; products with one: {', '.join(trainable_products())}")
        return RegisteredProduct(spec)
    if isinstance(product, ProductSpec):
        return RegisteredProduct(product)
    return product


def trainable_products() -> list[str]:
    """The products of the registry that have a trainer."""
    return [name for name, spec in products().items() if spec.trainer]


def new_version(now: datetime | None = None) -> str:
    """A version id that sorts by creation time: 20261121T052301Z-3f9a1c."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def split_records(records: Sequence[dict[str, Any]], seed: int) -> tuple[list, list, list]:
    """Train, validation and test splits (70/15/15) of a seeded shuffle."""
    order = np.random.default_rng(seed).permutation(len(records))
    train_end = int(round(len(records) * SPLIT[0]))
    validation_end = train_end + int(round(len(records) * SPLIT[1]))
    parts = np.split(order, [train_end, validation_end])
    return tuple([records[int(i)] for i in part] for part in parts)  # type: ignore[return-value]


def library_versions(libraries: Sequence[str]) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for library in libraries:
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:
            versions[library] = "not installed"
    return versions


def drift_baseline(matrix: np.ndarray, features: Sequence[FeatureSpec]) -> dict[str, Any]:
    """Per-feature distribution of the training split: the reference the drift monitor compares with.

    Features with few distinct values keep their value shares; the others keep decile edges and the
    share of rows between consecutive edges, so PSI can be computed without the training data.
    """
    described = []
    for index, feature in enumerate(features):
        column = matrix[:, index].astype(np.float64)
        entry: dict[str, Any] = {"name": feature.name, "mean": float(column.mean()), "std": float(column.std())}
        values, counts = np.unique(column, return_counts=True)
        if len(values) <= BASELINE_BINS:
            entry["values"] = values.tolist()
            entry["shares"] = (counts / len(column)).tolist()
        else:
            edges = np.unique(np.quantile(column, np.linspace(0, 1, BASELINE_BINS + 1)))
            counts, _ = np.histogram(column, bins=edges)
            entry["edges"] = edges.tolist()
            entry["shares"] = (counts / len(column)).tolist()
        described.append(entry)
    return {"rows": int(matrix.shape[0]), "features": described}


class _Steps:
    """Times each step; with progress on, shows a rich step list and progress bar on stderr."""

    def __init__(self, title: str, total: int, enabled: bool):
        self.timings: dict[str, float] = {}
        self._title = title
        self._total = total
        self._progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True),
            )

    def __enter__(self) -> "_Steps":
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self._title, total=self._total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self._title}: {name}")
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.timings[name] = elapsed
        if self._progress is not None:
            self._progress.console.print(f"  [green]✓[/green] {name} [dim]{elapsed:.2f}s[/dim]")
            self._progress.advance(self._task)


_BUILD_STEPS = 7
_PUBLISH_STEPS = 2


def build_candidate(
    product: Product | str,
    *,
    rows: int | None = None,
    data: Sequence[Mapping[str, Any]] | None = None,
    seed: int = 7,
    config: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Candidate:
    """Everything before the model store: data, fit, held-out evaluation, ONNX export and parity."""
    product = load_product(product)
    with _Steps(f"train {product.name}", _BUILD_STEPS, progress) as steps:
        return _build(product, steps, rows=rows, data=data, seed=seed, config=config or {})


def train_product(
    product: Product | str,
    *,
    store: ModelStore,
    registry: ModelRegistry,
    rows: int | None = None,
    data: Sequence[Mapping[str, Any]] | None = None,
    seed: int = 7,
    tolerance: float = DEFAULT_TOLERANCE,
    progress: bool = True,
    config: Mapping[str, Any] | None = None,
    reference: str | None = None,
    actor: str = "promotion gate",
) -> TrainingResult:
    """Train PRODUCT (its name, its spec, or a Product) end to end, from data to promote or reject.

    DATA (records) replaces generated data when given, REFERENCE naming where it came from; ROWS
    sizes the generated data otherwise. CONFIG goes to the product's fit (hyperparameters).
    """
    product = load_product(product)
    with _Steps(f"train {product.name}", _BUILD_STEPS + _PUBLISH_STEPS, progress) as steps:
        candidate = _build(product, steps, rows=rows, data=data, seed=seed, config=config or {}, reference=reference)
        parity = candidate.manifest.parity
        if not parity.passed:
            return TrainingResult(
                manifest=candidate.manifest, registered=False, promoted=False,
                decision=f"not registered: ONNX parity failed ({parity.rule}; max abs diff {parity.max_abs_diff:.2e}, "
                         f"label agreement {parity.label_agreement:.4f})",
                rejects=candidate.rejects, timings=steps.timings,
            )
        with steps.step("publish + register"):
            manifest = store.publish(candidate.manifest, candidate.artifacts)
            registry.register(manifest)
        with steps.step("promotion gate"):
            decision = promotion_gate(product, candidate, store=store, registry=registry, tolerance=tolerance)
            if decision.promote:
                registry.promote(product.name, manifest.version, reason=decision.reason, actor=actor,
                                 gate=decision.record())
            else:
                registry.reject(product.name, manifest.version, decision.reason, gate=decision.record())
        return TrainingResult(
            manifest=manifest, registered=True, promoted=decision.promote, decision=decision.reason,
            rejects=candidate.rejects, timings=steps.timings, gate=decision,
        )


def _build(product: Product, steps: _Steps, *, rows: int | None, data: Sequence[Mapping[str, Any]] | None,
           seed: int, config: Mapping[str, Any], reference: str | None = None) -> Candidate:
    with steps.step("load data"):
        if data is None:
            records: Sequence[Mapping[str, Any]] = product.generate(rows or product.default_rows, seed)
            reference = f"synthetic:{product.name}?rows={len(records)}&seed={seed}"
        else:
            records, reference = data, reference or "provided"
    with steps.step("validate"):
        valid, rejects = product.validate(records)
        excluded = getattr(product, "excluded", None)
        unused = excluded(records) if excluded is not None else {}
        if len(valid) < MIN_ROWS:
            raise TrainingDataError(f"{product.name}: only {len(valid)} valid rows of {len(records)}; need {MIN_ROWS}")
    with steps.step("split"):
        train, validation, test = getattr(product, "split", split_records)(valid, seed)
    with steps.step("fit"):
        fitted = product.fit(train, validation, seed=seed, config=config)
    with steps.step("evaluate"):
        metrics = product.evaluate(fitted, test)
        report = getattr(product, "report", None)
        reports = dict(report(fitted, test, metrics)) if report is not None else {}
    with steps.step("export ONNX"):
        artifacts = {**product.export_onnx(fitted), **reports}
        description = product.describe(fitted)
        baseline = drift_baseline(product.feature_matrix(train), description.features)
        artifacts[BASELINE_ARTIFACT] = Artifact(_json_bytes(baseline), "json", "baseline")
        # Which rows this version fitted on: a later gate leaves them out of the rows it compares on.
        fitted_rows = row_keys([*train, *validation], getattr(product, "record_key", None))
        artifacts[FITTED_ROWS] = Artifact(fitted_rows_document(fitted_rows), "json", "lineage")
        if any(artifact.role == "native" for artifact in artifacts.values()):
            # Held-out rows the native model is checked on against the ONNX graph wherever it is loaded.
            artifacts[PARITY_SAMPLE_ARTIFACT] = Artifact(parity_sample_document(
                product.feature_matrix(test), [feature.name for feature in description.features]), "json", "parity")
    with steps.step("parity gate"):
        parity = product.parity(fitted, artifacts, test)
    manifest = Manifest(
        product=product.name,
        version=new_version(),
        features=list(description.features),
        outputs=list(description.outputs),
        metrics=metrics,
        primary_metric=product.primary_metric,
        higher_is_better=product.higher_is_better,
        thresholds=description.thresholds,
        hyperparameters=description.hyperparameters,
        training_data=TrainingDataRef(
            reference=reference,
            rows=len(valid),
            seed=seed,
            split={"train": len(train), "validation": len(validation), "test": len(test), "rejected": len(rejects)},
            excluded=unused,
        ),
        library_versions=library_versions(product.libraries),
        parity=parity,
        extra=description.extra,
    )
    return Candidate(manifest=manifest, artifacts=artifacts, test=list(test), rejects=rejects, timings=steps.timings)


def promotion_gate(product: Product, candidate: Candidate, *, store: ModelStore, registry: ModelRegistry,
                   tolerance: float) -> GateDecision:
    """Whether CANDIDATE may replace the champion (training.gate)."""
    metric = candidate.manifest.primary_metric
    higher_is_better = product.higher_is_better
    champion_version = registry.champion_version(product.name)
    if champion_version is None:
        return GateDecision(True, f"promoted: no champion yet ({metric} {candidate.manifest.primary_value:.4f})",
                            candidate.manifest.primary_value)
    champion = store.read_manifest(product.name, champion_version)
    # A product whose versions each carry their own schema (custom models: levels and columns come from
    # each version's training data) scores raw rows with each version's own; its schemas may differ.
    if _schema(champion) != _schema(candidate.manifest) and not getattr(product, "schema_per_version", False):
        return recorded_comparison(candidate.manifest, champion, tolerance=tolerance, higher_is_better=higher_is_better,
                                   basis="recorded held-out metrics: the champion's feature schema differs")
    fitted = store.read_artifact(champion, FITTED_ROWS) if FITTED_ROWS in champion.artifacts else None
    indexes, chosen = unseen(row_keys(candidate.test, getattr(product, "record_key", None)), fitted)
    if len(indexes) < MIN_GATE_ROWS:
        return recorded_comparison(candidate.manifest, champion, tolerance=tolerance, higher_is_better=higher_is_better,
                                   basis=f"recorded held-out metrics: only {len(indexes)} held-out rows neither "
                                         f"version fitted on ({chosen})")
    rows = [candidate.test[index] for index in indexes]
    try:
        champion_outputs = product.serving_outputs(champion, lambda name: store.read_artifact(champion, name), rows)
    except (FinScoreError, ValueError, RuntimeError) as exc:
        return recorded_comparison(candidate.manifest, champion, tolerance=tolerance, higher_is_better=higher_is_better,
                                   basis=f"recorded held-out metrics: the champion cannot be loaded ({exc})")
    candidate_outputs = product.serving_outputs(candidate.manifest, lambda name: candidate.artifacts[name].data, rows)
    candidate_value, champion_value, interval = compare_on_rows(
        lambda outputs, subset: float(product.gate_metrics(outputs, subset)[metric]),
        candidate_outputs, champion_outputs, rows, higher_is_better=higher_is_better)
    return decide(candidate_value, champion_value, tolerance=tolerance, higher_is_better=higher_is_better,
                  metric=metric, champion_version=champion_version, rows=len(rows), interval=interval,
                  basis=f"both served on {len(rows)} held-out rows neither fitted on; {chosen}")


def _schema(manifest: Manifest) -> list[tuple[str, str, tuple[str, ...] | None]]:
    return [(f.name, f.type, tuple(f.categories) if f.categories else None) for f in manifest.features]


def _json_bytes(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
