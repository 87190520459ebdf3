"""Native boosters: a version's XGBoost or LightGBM model, read from its sha-checked native artifact.

The booster libraries are imported when a booster is loaded, never at import, and only images that
carry them (the "boosters" dependency group: batch scoring, explanations, training) load one; the
zip serving path scores ONNX only. Batch files score with the booster in place of the ONNX graph
(`batch_model`): XGBoost's in-place prediction does a million rows several times faster than ONNX
Runtime's tree ensemble. The swap is made only when the version's model declares it can score with
other trees (`with_trees` for one binary booster; `with_boosters` for several named ones, each with
its own artifact in the manifest's extra["native"]), its boosters are ones that beat the ONNX graph
(FASTER_THAN_ONNX), and they agree with the ONNX graphs by the version's own parity rule on held-out
rows that training stored beside it; otherwise the file scores with ONNX and the reason is logged. Either way the
outputs are the manifest's, so a file cannot tell which ran but by its speed.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from finscore.models.manifest import Manifest, ParityResult
from finscore.observability import logger

XGBOOST_JSON = "xgboost-json"
LIGHTGBM_TEXT = "lightgbm-text"
# The library each native format needs (the import name).
FORMAT_LIBRARIES = {XGBOOST_JSON: "xgboost", LIGHTGBM_TEXT: "lightgbm"}
# Boosters that score a batch faster than ONNX Runtime's tree ensemble of the same model, measured on
# risk's default model, 400k rows in blocks on 2 threads: XGBoost's in-place prediction takes about a
# third of the ONNX graph's CPU time; LightGBM's predictor about 1.5 times it (with one thread per call
# or its own), so a LightGBM version (risk's twin) is checked like any other but keeps scoring with ONNX.
FASTER_THAN_ONNX = frozenset({XGBOOST_JSON})
# One thread per prediction: batch already scores blocks of a file on every core, and booster threads
# on top of those only contend (OpenMP threads spin while they wait).
BOOSTER_THREADS = 1
# Held-out feature rows training stores with a version, so that a native scorer can be checked
# against the ONNX graph when it is loaded, far from the training data.
PARITY_SAMPLE_ARTIFACT = "parity_sample.json"
PARITY_SAMPLE_ROWS = 1000


class NativeRefused(Exception):
    """Why a version's native booster does not score this batch (the ONNX graph does)."""


def load_booster(fmt: str, data: bytes) -> Any:
    """The booster of a native artifact's bytes in format FMT; NativeRefused for an unknown format,
    ImportError when the library is not installed."""
    library = FORMAT_LIBRARIES.get(fmt)
    if library is None:
        raise NativeRefused(f"unknown native model format {fmt!r}")
    module = importlib.import_module(library)
    if fmt == XGBOOST_JSON:
        booster = module.Booster()
        booster.load_model(bytearray(data))
        booster.set_param({"nthread": BOOSTER_THREADS})
        return booster
    return module.Booster(model_str=data.decode())


@dataclass(frozen=True)
class NativeProbability:
    """What a booster predicts for each row of a float32 matrix: a binary booster's positive-class
    probability, a regressor's value, a multi-class booster's class probabilities (rows x classes)."""

    format: str
    booster: Any

    def __call__(self, matrix: np.ndarray) -> np.ndarray:
        features = np.ascontiguousarray(matrix, dtype=np.float32)
        if not len(features):
            return np.empty(0)
        if self.format == XGBOOST_JSON:
            # Straight from the array, no DMatrix: the booster's binary:logistic output is the probability.
            return np.asarray(self.booster.inplace_predict(features), dtype=np.float64)
        return np.asarray(self.booster.predict(features, num_threads=BOOSTER_THREADS), dtype=np.float64)


def parity_sample_document(matrix: np.ndarray, names: list[str], rows: int = PARITY_SAMPLE_ROWS) -> bytes:
    """Up to ROWS rows of MATRIX (held-out features), spread evenly over it, as the sample's JSON. The
    float32 values are written as the float64 numbers they are, so they read back exactly."""
    picks = np.unique(np.linspace(0, len(matrix) - 1, min(rows, len(matrix))).astype(np.int64)) if len(matrix) \
        else np.empty(0, np.int64)
    sample = np.asarray(matrix, dtype=np.float32)[picks]
    return json.dumps({"features": names, "rows": sample.astype(np.float64).tolist()}).encode()


def _parity_sample(manifest: Manifest, read: Callable[[str], bytes]) -> np.ndarray:
    if PARITY_SAMPLE_ARTIFACT not in manifest.artifacts:
        raise NativeRefused("the version stores no parity sample (trained before batch scored natively)")
    document = json.loads(read(PARITY_SAMPLE_ARTIFACT))
    if document.get("features") != manifest.feature_names:
        raise NativeRefused("the parity sample's features are not the model's")
    matrix = np.asarray(document["rows"], dtype=np.float32).reshape(-1, len(manifest.feature_names))
    if not len(matrix):
        raise NativeRefused("the parity sample holds no rows")
    return matrix


def parity_issue(onnx: np.ndarray, native: np.ndarray, onnx_labels: dict[str, np.ndarray],
                 native_labels: dict[str, np.ndarray], rule: ParityResult) -> str | None:
    """What breaks the version's parity RULE between the ONNX and native positive-class probabilities and
    the labels the model derives from them (None: nothing): every row within the rule's bound, the
    rule's share of rows within its tolerance, and every label the model answers identical on at least
    its share of rows."""
    diffs = np.abs(np.asarray(onnx, dtype=np.float64) - np.asarray(native, dtype=np.float64))
    bound = rule.max_abs_diff_all_rows if rule.max_abs_diff_all_rows is not None else rule.tolerance
    largest = float(diffs.max()) if len(diffs) else 0.0
    if largest > bound:
        return f"max |ONNX - native| probability {largest:.3g} exceeds {bound:g}"
    within = float(np.mean(diffs <= rule.tolerance)) if len(diffs) else 1.0
    if within < rule.min_share_within_tolerance:
        return (f"{within:.2%} of rows within {rule.tolerance:g}, fewer than the rule's "
                f"{rule.min_share_within_tolerance:.2%}")
    for name, labels in onnx_labels.items():
        agreement = float(np.mean(labels == native_labels[name])) if len(labels) else 1.0
        if agreement < rule.min_label_agreement:
            return f"{name} agrees on {agreement:.2%} of rows, fewer than the rule's {rule.min_label_agreement:.2%}"
    return None


def _labels(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The outputs that are labels (levels, flags, classes): those that are not floating-point numbers."""
    return {name: values for name, values in outputs.items() if not np.issubdtype(np.asarray(values).dtype, np.floating)}


def native_boosters(manifest: Manifest, model: Any) -> dict[str, tuple[str, str]]:
    """Each booster MODEL scores with, by name: (its native format, its artifact); NativeRefused when
    the model declares none or the version stores none."""
    native = manifest.extra.get("native") or {}
    if getattr(model, "with_boosters", None) is not None:
        found = {name: ((entry or {}).get("format"), (entry or {}).get("artifact")) for name, entry in native.items()
                 if isinstance(entry, dict)}
    elif getattr(model, "with_trees", None) is not None:
        found = {TREES: (native.get("format"), native.get("artifact"))} if native else {}
    else:
        raise NativeRefused(f"{type(model).__name__} declares no native scorer")
    if not found:
        raise NativeRefused("the version has no native booster artifact (format None)")
    for name, (fmt, artifact) in found.items():
        if fmt not in FORMAT_LIBRARIES or artifact not in manifest.artifacts:
            whose = "" if name == TREES else f" for {name}"
            raise NativeRefused(f"the version has no native booster artifact{whose} (format {fmt!r})")
    return found


# The name of a single-booster model's booster (`trees` / `with_trees`).
TREES = "trees"


def _booster_outputs(model: Any, matrix: np.ndarray) -> dict[str, np.ndarray]:
    if getattr(model, "with_boosters", None) is not None:
        return model.boosters(matrix)
    return {TREES: model.trees(matrix)}


def _with_boosters(model: Any, boosters: dict[str, NativeProbability]) -> Any:
    if getattr(model, "with_boosters", None) is not None:
        return model.with_boosters(boosters)
    return model.with_trees(boosters[TREES])


def booster_parity_issue(onnx: dict[str, np.ndarray], native: dict[str, np.ndarray],
                         onnx_labels: dict[str, np.ndarray], native_labels: dict[str, np.ndarray],
                         rule: ParityResult) -> str | None:
    """parity_issue for every booster, each held to its own tolerance where the rule has one
    (ParityResult.per_model), else to the rule's."""
    for name, values in onnx.items():
        own = rule.per_model.get(name, {}).get("tolerance")
        held = rule if own is None else rule.model_copy(update={"tolerance": own, "max_abs_diff_all_rows": own})
        issue = parity_issue(np.ravel(values), np.ravel(native[name]), {}, {}, held)
        if issue is not None:
            return issue if name == TREES else f"{name}: {issue}"
    return parity_issue(np.empty(0), np.empty(0), onnx_labels, native_labels, rule)


def native_twin(model: Any, manifest: Manifest, read: Callable[[str], bytes]) -> Any:
    """MODEL scoring with the version's native boosters; NativeRefused saying why it cannot."""
    found = native_boosters(manifest, model)
    if not manifest.parity.passed:
        raise NativeRefused("the version's parity check did not pass")
    for fmt, _ in found.values():
        try:
            importlib.import_module(FORMAT_LIBRARIES[fmt])
        except ImportError as exc:
            raise NativeRefused(f"{FORMAT_LIBRARIES[fmt]} is not installed ({exc})") from exc
    try:
        # read checks each artifact's sha256
        boosters = {name: NativeProbability(fmt, load_booster(fmt, read(artifact)))
                    for name, (fmt, artifact) in found.items()}
        sample = _parity_sample(manifest, read)
        twin = _with_boosters(model, boosters)
        issue = booster_parity_issue(_booster_outputs(model, sample), _booster_outputs(twin, sample),
                                     _labels(model.predict(sample, {})), _labels(twin.predict(sample, {})),
                                     manifest.parity)
    except NativeRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here leaves the file to ONNX, which is always there
        # A tampered or missing artifact (sha256), a corrupt sample, a booster its library cannot read.
        raise NativeRefused(f"{type(exc).__name__}: {exc}") from exc
    if issue is not None:
        raise NativeRefused(f"parity with ONNX fails on {len(sample)} held-out rows: {issue}")
    return twin


def batch_model(model: Any, manifest: Manifest, read: Callable[[str], bytes]) -> Any:
    """MODEL with its native booster where that is safe and faster (see the module's doc), else MODEL
    itself; the choice and its reason are logged."""
    try:
        formats = {fmt for fmt, _ in native_boosters(manifest, model).values()}
    except NativeRefused:
        formats = set()
    slower = sorted(FORMAT_LIBRARIES[fmt] for fmt in formats if fmt in FORMAT_LIBRARIES and fmt not in FASTER_THAN_ONNX)
    declared = getattr(model, "with_trees", None) is not None or getattr(model, "with_boosters", None) is not None
    by_design = (f"{type(model).__name__} declares no native scorer" if not declared
                 else f"the ONNX graph scores faster than the {', '.join(slower)} booster" if slower else None)
    if by_design is not None:
        # The product's or the library's nature, not a fault: nothing to warn anyone about.
        logger.info("Batch scores with ONNX", extra={"product": manifest.product, "version": manifest.version,
                                                     "reason": by_design})
        return model
    try:
        twin = native_twin(model, manifest, read)
    except NativeRefused as exc:
        logger.warning("Batch scores with ONNX", extra={"product": manifest.product, "version": manifest.version,
                                                        "reason": str(exc)})
        return model
    logger.info("Batch scores with the native booster", extra={
        "product": manifest.product, "version": manifest.version,
        "format": ", ".join(sorted({fmt for fmt, _ in native_boosters(manifest, model).values()}))})
    return twin
