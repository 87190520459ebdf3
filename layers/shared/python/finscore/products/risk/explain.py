"""Risk explanations: TreeSHAP contributions of the native model and up to four adverse reason codes.

Runs in the explanation container, which has the full stack: xgboost or lightgbm is imported
inside the functions here, never at module import, so importing this module stays cheap.
Contributions are in log-odds of the native (uncalibrated) model; the Platt calibration is a
monotone map of those log-odds, so a feature that raises them raises the calibrated score too. A
reason is cited only when its feature raises the score AND the customer's value lies on the adverse
side of the reason's reference (finscore.products.risk.reasons): a contribution alone is relative to
the model's average customer, and would let "the balance has been falling" be said of a rising one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from finscore.models.manifest import Manifest
from finscore.models.native import XGBOOST_JSON, NativeRefused, load_booster
from finscore.products.risk.features import FEATURE_NAMES, feature_matrix
from finscore.products.risk.reasons import REASONS, references

# Contributions below this (in log-odds) are rounding noise of the tree sums, not a reason.
MIN_ADVERSE_IMPACT = 1e-6


@dataclass(frozen=True)
class NativeRiskModel:
    version: str
    format: str  # finscore.models.native: XGBOOST_JSON | LIGHTGBM_TEXT
    booster: Any
    references: dict[str, float]  # what each reason compares with (training medians where it has no own)


@dataclass(frozen=True)
class ReasonCode:
    code: str
    feature: str
    value: float
    reference: float
    direction: int
    impact: float
    text: str


@dataclass(frozen=True)
class Explanation:
    contributions: dict[str, float]
    base_value: float
    reasons: list[ReasonCode]


def load_native_model(manifest: Manifest, read: Callable[[str], bytes]) -> NativeRiskModel:
    """The booster named by MANIFEST's native artifact (the ChampionCache loader signature)."""
    if tuple(manifest.feature_names) != FEATURE_NAMES:
        raise ValueError(f"risk {manifest.version} was trained on other features than this code computes")
    native = manifest.extra["native"]
    try:
        booster = load_booster(native["format"], read(native["artifact"]))
    except NativeRefused as exc:
        raise ValueError(f"risk {manifest.version}: {exc}") from exc
    # A version trained before references were published cites only reasons with their own reference.
    medians = manifest.extra.get("feature_medians", {})
    return NativeRiskModel(version=manifest.version, format=native["format"], booster=booster,
                           references=references(medians))


def shap_values(native: NativeRiskModel, matrix: np.ndarray) -> np.ndarray:
    """TreeSHAP contributions per row: one column per feature, then the base value (log-odds)."""
    if native.format == XGBOOST_JSON:
        import xgboost

        return native.booster.predict(xgboost.DMatrix(matrix, feature_names=list(FEATURE_NAMES)), pred_contribs=True)
    return np.asarray(native.booster.predict(matrix, pred_contrib=True))


def adverse_reasons(contributions: Mapping[str, float], features: Mapping[str, float],
                    reference_values: Mapping[str, float], max_reasons: int = 4) -> list[ReasonCode]:
    """The features that raise the risk most and whose reason holds for this customer (value on the
    adverse side of its reference, and the reason's own condition): largest first, at most MAX_REASONS."""
    cited = []
    for name, impact in contributions.items():
        reason, reference = REASONS.get(name), reference_values.get(name)
        if impact <= MIN_ADVERSE_IMPACT or reason is None or reference is None:
            continue
        value = float(features[name])
        if reason.adverse(value, reference) and reason.holds(features, reference_values):
            cited.append(ReasonCode(code=reason.code, feature=name, value=value, reference=float(reference),
                                    direction=reason.direction, impact=float(impact),
                                    text=reason.render(value, reference)))
    cited.sort(key=lambda reason: (-reason.impact, reason.feature))
    return cited[:max(max_reasons, 0)]


def explain(native: NativeRiskModel, features: Mapping[str, float], max_reasons: int = 4) -> Explanation:
    """SHAP contributions of one customer's FEATURES and the adverse reason codes among them."""
    row = feature_matrix([features])
    values = shap_values(native, row)[0]
    contributions = {name: float(value) for name, value in zip(FEATURE_NAMES, values[:-1])}
    return Explanation(
        contributions=contributions,
        base_value=float(values[-1]),
        reasons=adverse_reasons(contributions, features, native.references, max_reasons),
    )
