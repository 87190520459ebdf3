"""Native boosters: a version's XGBoost or LightGBM model, read from its sha-checked native artifact.

The booster libraries are imported when a booster is loaded, never at import, and only images that
carry them (the "boosters" dependency group: batch scoring, explanations, training) load one; the
zip serving path scores ONNX only. Batch files score with the booster in place of the ONNX graph
(`batch_model`): XGBoost's in-place prediction does a million rows several times faster than ONNX
Runtime's tree ensemble. The swap is made only when the version's model declares it can score with
other trees (`with_trees`), its booster is one that beats the ONNX graph (FASTER_THAN_ONNX), and the
booster agrees with the ONNX graph by the version's own parity rule on held-out rows that training
stored beside it; otherwise the file scores with ONNX and the reason is logged. Either way the
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
    """The positive-class probability of a binary booster for each row of a float32 matrix."""

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


def native_twin(model: Any, manifest: Manifest, read: Callable[[str], bytes]) -> Any:
    """MODEL scoring with the version's native booster; NativeRefused saying why it cannot."""
    with_trees = getattr(model, "with_trees", None)
    if with_trees is None:
        raise NativeRefused(f"{type(model).__name__} declares no native scorer")
    native = manifest.extra.get("native") or {}
    fmt, artifact = native.get("format"), native.get("artifact")
    if fmt not in FORMAT_LIBRARIES or artifact not in manifest.artifacts:
        raise NativeRefused(f"the version has no native booster artifact (format {fmt!r})")
    if not manifest.parity.passed:
        raise NativeRefused("the version's parity check did not pass")
    try:
        importlib.import_module(FORMAT_LIBRARIES[fmt])
    except ImportError as exc:
        raise NativeRefused(f"{FORMAT_LIBRARIES[fmt]} is not installed ({exc})") from exc
    try:
        booster = load_booster(fmt, read(artifact))  # read checks the artifact's sha256
        sample = _parity_sample(manifest, read)
        twin = with_trees(NativeProbability(fmt, booster))
        issue = parity_issue(model.trees(sample), twin.trees(sample), _labels(model.predict(sample, {})),
                             _labels(twin.predict(sample, {})), manifest.parity)
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
    fmt = (manifest.extra.get("native") or {}).get("format")
    by_design = (f"{type(model).__name__} declares no native scorer" if getattr(model, "with_trees", None) is None
                 else f"the ONNX graph scores faster than the {FORMAT_LIBRARIES[fmt]} booster"
                 if fmt in FORMAT_LIBRARIES and fmt not in FASTER_THAN_ONNX else None)
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
        "product": manifest.product, "version": manifest.version, "format": manifest.extra["native"]["format"]})
    return twin
