"""The products batch scoring knows: how a product's rows are validated, turned into its model's
feature matrix and scored with its serving model, and which output columns they gain.

A product plugs in by adding a BatchProduct to BATCH_PRODUCTS; the pipeline itself names none.
Risk rows carry the model's raw features by name (any other column, such as customer_id, passes
through); recommend rows are the API's customer profiles, validated by the API's own schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from finscore.api.errors import validation_issues
from finscore.batch.formats import Rows
from finscore.models.champion import Loader
from finscore.recommend.catalog import CATEGORIES
from finscore.recommend.features import FEATURE_NAMES as RECOMMEND_FEATURES
from finscore.recommend.features import INCOME_TIERS
from finscore.recommend.features import feature_matrix as profile_matrix
from finscore.recommend.model import PROBABILITY_OUTPUT, SEGMENT_OUTPUT, Recommender, load_recommender
from finscore.recommend.schemas import CustomerProfile
from finscore.risk.features import FEATURE_NAMES as RISK_FEATURES
from finscore.risk.model import LEVELS, RiskModel, load_risk_model, score_arrays

# A finite decimal number as text, surrounding blanks allowed (checked only when a fast cast failed).
NUMBER_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@dataclass
class Prepared:
    """What validation made of a batch of rows: the model input of the good ones and why the others failed."""

    valid: np.ndarray  # bool per row
    reasons: dict[int, str]  # row index -> reason, for every row not valid
    matrix: np.ndarray  # float32 model input, one row per valid row
    context: Any = None  # anything else scoring needs per valid row


@dataclass(frozen=True)
class BatchProduct:
    name: str
    loader: Loader
    prepare: Callable[[Rows], Prepared]
    score: Callable[[Any, Prepared], dict[str, pa.Array]]
    output_columns: tuple[str, ...]


def numeric_column(column: pa.ChunkedArray | list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column as float64 (NaN where absent or bad) with masks of absent and of non-numeric values.

    Text is parsed as decimal numbers (CSV); booleans and numbers are taken as they are (Parquet).
    JSON values must be numbers, as in the API.
    """
    if isinstance(column, list):
        values = np.full(len(column), np.nan)
        missing = np.zeros(len(column), bool)
        bad = np.zeros(len(column), bool)
        for index, value in enumerate(column):
            if value is None:
                missing[index] = True
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                bad[index] = True
            else:
                values[index] = float(value)
        return values, missing, bad
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = column
        missing = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True)
        try:
            floats = pc.cast(text, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            number = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
            floats = pc.cast(pc.utf8_trim_whitespace(pc.if_else(number, text, pa.scalar(None, pa.string()))),
                             pa.float64())
    elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type) \
            or pa.types.is_decimal(column.type):
        missing = pc.is_null(column)
        floats = pc.cast(column, pa.float64())
    else:
        missing = pc.is_null(column)
        floats = pa.chunked_array([pa.nulls(len(column), pa.float64())])
    values = floats.to_numpy() if floats.null_count == 0 else pc.fill_null(floats, np.nan).to_numpy()
    missing_mask = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
    bad = np.asarray(pc.is_null(floats).to_numpy(zero_copy_only=False), dtype=bool) & ~missing_mask
    return values, missing_mask, bad


def _reasons(count: int, problems: Sequence[tuple[str, np.ndarray, str]]) -> tuple[np.ndarray, dict[int, str]]:
    """Rows with no problem, and for the others every (field, issue) joined into one reason."""
    valid = np.ones(count, bool)
    found: dict[int, list[str]] = {}
    for name, mask, issue in problems:
        if not mask.any():
            continue
        valid &= ~mask
        for index in np.flatnonzero(mask).tolist():
            found.setdefault(index, []).append(f"{name}: {issue}")
    return valid, {index: "; ".join(issues) for index, issues in found.items()}


def prepare_risk(rows: Rows) -> Prepared:
    """Raw risk features by name; each missing, non-numeric or non-finite value names its feature."""
    count = rows.count
    present = set(rows.column_names)
    matrix = np.empty((count, len(RISK_FEATURES)), dtype=np.float32)
    problems = []
    for index, name in enumerate(RISK_FEATURES):
        if name not in present:
            problems.append((name, np.ones(count, bool), "missing"))
            continue
        values, missing, bad = numeric_column(rows.column(name))
        with np.errstate(invalid="ignore", over="ignore"):
            matrix[:, index] = values
            infinite = ~np.isfinite(matrix[:, index]) & ~missing & ~bad
        problems += [(name, missing, "missing"), (name, bad, "must be a number"), (name, infinite, "must be finite")]
    valid, reasons = _reasons(count, problems)
    return Prepared(valid, reasons, matrix if valid.all() else matrix[valid])


def score_risk(model: RiskModel, prepared: Prepared) -> dict[str, pa.Array]:
    if not len(prepared.matrix):
        return {"probability": pa.array([], pa.float64()), "risk_score": pa.array([], pa.float64()),
                "risk_level": pa.array([], pa.string())}
    probability, scores, levels = score_arrays(model, prepared.matrix)
    return {
        "probability": pa.array(np.round(probability, 6)),
        "risk_score": pa.array(scores),
        "risk_level": pc.take(pa.array(LEVELS), pa.array(levels.astype(np.int32))),
    }


PROFILE_FIELDS = tuple(CustomerProfile.model_fields)


def _profile(record: Mapping[str, Any]) -> dict[str, Any]:
    """A row's profile fields; CSV holds existing_products as a JSON list or ids separated by ';' or '|'."""
    profile = {name: record[name] for name in PROFILE_FIELDS if name in record and record[name] is not None}
    held = profile.get("existing_products")
    if isinstance(held, str):
        text = held.strip()
        if text.startswith("["):
            try:
                profile["existing_products"] = json.loads(text)
            except json.JSONDecodeError:
                pass
        else:
            profile["existing_products"] = [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]
    # Empty CSV cells are absent values, so that the schema reports them as missing.
    return {name: value for name, value in profile.items() if not (isinstance(value, str) and not value.strip())}


def prepare_recommend(rows: Rows) -> Prepared:
    """Each row validated as the API validates a profile: the same schema, the same field issues."""
    records = rows.as_records()
    valid = np.zeros(len(records), bool)
    reasons: dict[int, str] = {}
    profiles: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            profile = CustomerProfile.model_validate(_profile(record)).model_dump()
        except ValidationError as exc:
            reasons[index] = "; ".join(f"{issue.field}: {issue.issue}" for issue in validation_issues(exc.errors()))
            continue
        valid[index] = True
        profiles.append(profile)
    matrix = profile_matrix(profiles) if profiles else np.empty((0, len(RECOMMEND_FEATURES)), np.float32)
    return Prepared(valid, reasons, matrix, context=[set(profile["existing_products"]) for profile in profiles])


HEALTH_COLUMN = "financial_health_score"


def score_recommend(recommender: Recommender, prepared: Prepared) -> dict[str, pa.Array]:
    """Segment and best product per category, never one the customer already holds (as the API answers)."""
    matrix = prepared.matrix
    held: list[set[str]] = prepared.context
    count = len(matrix)
    clusters = recommender.segmenter.run(SEGMENT_OUTPUT, {recommender.segmenter_input: matrix})[0].astype(np.int64) \
        if count else np.empty(0, np.int64)
    outputs: dict[str, pa.Array] = {
        "cluster": pa.array(clusters),
        "segment": pa.array([recommender.segment_names[cluster] for cluster in clusters.tolist()], pa.string()),
        HEALTH_COLUMN: pa.array(np.round(matrix[:, RECOMMEND_FEATURES.index(HEALTH_COLUMN)].astype(np.float64), 1)),
        "income_tier": pa.array([INCOME_TIERS[int(tier)] for tier in matrix[:, RECOMMEND_FEATURES.index("income_tier")]],
                                pa.string()),
    }
    for model in recommender.categories:
        probabilities = model.session.run(PROBABILITY_OUTPUT, {model.input_name: matrix})[0] if count \
            else np.empty((0, len(model.classes)), np.float32)
        scores = probabilities.astype(np.float64) + model.tie_break
        for row, products in enumerate(held):
            blocked = [column for product, column in model.holdable_columns.items() if product in products]
            if blocked:
                scores[row, blocked] = -np.inf
        columns = scores.argmax(axis=1) if count else np.empty(0, np.int64)
        none_left = np.isneginf(scores[np.arange(count), columns]) if count else np.empty(0, bool)
        products_out = np.asarray(model.classes, dtype=object)[columns]
        confidence = np.round(probabilities[np.arange(count), columns].astype(np.float64), 4)
        outputs[f"{model.category}_product"] = pa.array(
            [None if gone else product for product, gone in zip(products_out.tolist(), none_left.tolist())], pa.string())
        outputs[f"{model.category}_confidence"] = pa.array(
            [None if gone else value for value, gone in zip(confidence.tolist(), none_left.tolist())], pa.float64())
    return outputs


BATCH_PRODUCTS: dict[str, BatchProduct] = {
    "risk": BatchProduct("risk", load_risk_model, prepare_risk, score_risk,
                         ("probability", "risk_score", "risk_level")),
    "recommend": BatchProduct(
        "recommend", load_recommender, prepare_recommend, score_recommend,
        ("cluster", "segment", HEALTH_COLUMN, "income_tier",
         *(f"{category}_{part}" for category in CATEGORIES for part in ("product", "confidence"))),
    ),
}
MODEL_VERSION_COLUMN = "model_version"
