"""The promotion gate: may a candidate replace the champion?

Both versions are scored, by the code that serves them, on the candidate's held-out rows that the
champion never saw either: a row the champion trained on flatters it, so rows in its fitted rows
(train + validation, recorded in its FITTED_ROWS artifact) are left out. On those rows the
difference of the primary metric gets a bootstrap interval, and the candidate is rejected only when
the whole interval lies below -tolerance: worse beyond the tolerance and beyond sampling noise.
With too few such rows, or a champion that cannot be scored, the recorded held-out metrics are
compared instead, and the decision says so.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from finscore.models.manifest import Manifest

FITTED_ROWS = "fitted_rows.json"
# Fewer rows than this that neither version trained on make no fair comparison.
MIN_GATE_ROWS = 50
BOOTSTRAP_SAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    candidate_value: float
    champion_value: float | None = None
    champion_version: str | None = None
    # The rows both versions were scored on, how they were chosen, and the bootstrap interval of
    # candidate - champion (oriented so that positive is better) when there is one.
    rows: int | None = None
    basis: str = ""
    difference: float | None = None
    interval: tuple[float, float] | None = None

    def record(self) -> dict[str, Any]:
        """What travels with the decision in events and the version history."""
        return {
            "promoted": self.promote,
            "candidate_value": self.candidate_value,
            "champion_value": self.champion_value,
            "champion_version": self.champion_version,
            "rows": self.rows,
            "basis": self.basis,
            "difference": self.difference,
            "interval": list(self.interval) if self.interval else None,
            "confidence": CONFIDENCE if self.interval else None,
        }


def row_keys(records: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str] | None = None) -> list[str]:
    """A short stable identity per record: KEY(record) (a product's own id, e.g. risk's customer_id),
    or the record's whole content."""
    def identity(record: Mapping[str, Any]) -> str:
        text = key(record) if key else json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    return [identity(record) for record in records]


def fitted_rows_document(keys: Sequence[str]) -> bytes:
    return json.dumps({"keys": sorted(set(keys))}, separators=(",", ":")).encode()


def unseen(test_keys: Sequence[str], champion_fitted: bytes | None) -> tuple[list[int], str]:
    """Indexes of the test rows the champion did not fit on, and how they were chosen."""
    if champion_fitted is None:
        return list(range(len(test_keys))), "the champion's fitted rows are not recorded"
    seen = set(json.loads(champion_fitted)["keys"])
    rows = [index for index, key in enumerate(test_keys) if key not in seen]
    return rows, f"{len(test_keys) - len(rows)} of the candidate's {len(test_keys)} held-out rows left out: the champion fitted on them"


def bootstrap_interval(difference_on: Callable[[np.ndarray], float], rows: int, *, samples: int = BOOTSTRAP_SAMPLES,
                       seed: int = 0) -> tuple[float, float] | None:
    """The CONFIDENCE percentile interval of DIFFERENCE_ON(resampled row indexes) over SAMPLES
    resamples with replacement; None when too few resamples give a value (a metric undefined on them)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(samples):
        try:
            value = difference_on(rng.integers(0, rows, rows))
        except ValueError:  # e.g. ROC-AUC of a resample holding one class only
            continue
        if math.isfinite(value):
            values.append(value)
    if len(values) < samples // 2:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def decide(candidate_value: float, champion_value: float, *, tolerance: float, higher_is_better: bool, metric: str,
           champion_version: str, basis: str, rows: int | None = None,
           interval: tuple[float, float] | None = None) -> GateDecision:
    """Promote unless the candidate is worse than the champion by more than TOLERANCE: with an INTERVAL
    (candidate - champion, positive better), only when all of it lies below -TOLERANCE; without one,
    when the difference itself does."""
    margin = candidate_value - champion_value if higher_is_better else champion_value - candidate_value
    # Metrics are floats: a margin equal to the tolerance up to rounding (0.89 - 0.90) counts as within it.
    worst_plausible = interval[1] if interval else margin
    promote = worst_plausible >= -tolerance or math.isclose(worst_plausible, -tolerance, abs_tol=1e-12)
    spread = f", {CONFIDENCE:.0%} interval [{interval[0]:+.4f}, {interval[1]:+.4f}]" if interval else ""
    comparison = (f"{metric} {candidate_value:.4f} vs champion {champion_version} {champion_value:.4f} "
                  f"({margin:+.4f}{spread}, tolerance {tolerance}; {basis})")
    if promote:
        verdict = "promoted: "
    elif interval:
        verdict = "rejected: worse than the champion beyond tolerance and beyond sampling noise: "
    else:
        verdict = "rejected: worse than the champion beyond tolerance: "
    return GateDecision(promote=promote, reason=verdict + comparison, candidate_value=candidate_value,
                        champion_value=champion_value, champion_version=champion_version, rows=rows, basis=basis,
                        difference=margin, interval=interval)


def compare_on_rows(metric_of: Callable[[Mapping[str, np.ndarray], Sequence[Mapping[str, Any]]], float],
                    candidate_outputs: Mapping[str, np.ndarray], champion_outputs: Mapping[str, np.ndarray],
                    rows: Sequence[Mapping[str, Any]], *, higher_is_better: bool, samples: int = BOOTSTRAP_SAMPLES,
                    seed: int = 0) -> tuple[float, float, tuple[float, float] | None]:
    """Both versions' METRIC_OF(outputs, rows) on ROWS, and the bootstrap interval of their difference
    (candidate - champion, positive better) over resamples of the same rows for both."""
    def difference_on(indexes: np.ndarray) -> float:
        subset = [rows[index] for index in indexes]
        candidate = metric_of({name: values[indexes] for name, values in candidate_outputs.items()}, subset)
        champion = metric_of({name: values[indexes] for name, values in champion_outputs.items()}, subset)
        return candidate - champion if higher_is_better else champion - candidate

    candidate_value = metric_of(candidate_outputs, rows)
    champion_value = metric_of(champion_outputs, rows)
    return candidate_value, champion_value, bootstrap_interval(difference_on, len(rows), samples=samples, seed=seed)


def recorded_comparison(candidate: Manifest, champion: Manifest, *, tolerance: float, higher_is_better: bool,
                        basis: str) -> GateDecision:
    """The decision on the versions' own recorded held-out metrics (different rows: no interval)."""
    return decide(candidate.primary_value, champion.primary_value, tolerance=tolerance,
                  higher_is_better=higher_is_better, metric=candidate.primary_metric,
                  champion_version=champion.version, basis=basis)
