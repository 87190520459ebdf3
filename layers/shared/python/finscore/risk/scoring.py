"""Risk scoring with the cached champion: by customer id from the feature store, or with raw features.

A customer's score is stored back on the customer (with risk_level and the by_score partition that
puts it in the high-risk listing) and may create an intervention automatically. Raw features are
checked against the champion manifest's feature names, the contract training wrote; they are scored
but not stored, since they belong to no customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from finscore.api.errors import validation_issues
from finscore.drift.capture import capture_buffer
from finscore.errors import FieldIssue, NotFound, ValidationFailed
from finscore.models.champion import ChampionCache, LoadedModel, serving_champion
from finscore.risk import PRODUCT
from finscore.risk.features import compute_features, feature_matrix
from finscore.risk.interventions import InterventionContext, auto_trigger, iso, utc_now
from finscore.risk.model import RiskScore, load_risk_model, score_matrix
from finscore.risk.repository import CustomerStore, TransactionStore
from finscore.risk.schemas import (
    BatchScoreRequest,
    BatchScoreResponse,
    BatchScoreResult,
    FieldIssueModel,
    RecordError,
    ScoreRequest,
    ScoreResponse,
)
from finscore.settings import ModelServingSettings, load_settings


@dataclass(frozen=True)
class RiskContext:
    """The stores and policy one function scores with."""

    customers: CustomerStore
    transactions: TransactionStore
    interventions: InterventionContext

    @property
    def policy(self):
        return self.interventions.policy


@lru_cache(maxsize=1)
def champion() -> ChampionCache:
    """The execution environment's champion cache for risk."""
    return serving_champion(PRODUCT, load_risk_model, load_settings(ModelServingSettings))


def reset_champion() -> None:
    """Forget the cached champion (tests that start from a fresh model store call this)."""
    champion.cache_clear()


def cutoffs_in_use(loaded: LoadedModel, ctx: RiskContext) -> tuple[float, ...]:
    """RISK_LEVEL_CUTOFFS when set, else the cut-offs the champion was trained with."""
    return tuple(ctx.policy.risk_level_cutoffs or loaded.model.cutoffs)


def check_raw_features(features: Mapping[str, Any], feature_names: Sequence[str], prefix: str = "features.") -> dict[str, float]:
    """FEATURES as the manifest names them; every missing or unknown name is a 422 naming it."""
    issues = [FieldIssue(f"{prefix}{name}", "missing") for name in feature_names if name not in features]
    known = set(feature_names)
    issues += [FieldIssue(f"{prefix}{name}", "not a feature of the champion model")
               for name in features if name not in known]
    if issues:
        raise ValidationFailed(f"{len(issues)} feature(s) missing or unknown", issues)
    return {name: float(features[name]) for name in feature_names}


def features_of(ctx: RiskContext, customer: Mapping[str, Any]) -> dict[str, float]:
    """The customer's stored features, computed from their stored transactions when there are none yet."""
    stored = customer.get("features")
    if stored:
        return {name: float(value) for name, value in stored.items()}
    transactions = ctx.transactions.all_for(customer["customer_id"])
    features = compute_features(customer, transactions)
    dates = [str(t["date"]) for t in transactions]
    ctx.customers.save_features(customer["customer_id"], features, as_of=max(dates) if dates else None,
                                transactions=len(transactions), updated_at=iso(utc_now()))
    return features


def score_record(loaded: LoadedModel, cutoffs: Sequence[float], features: Mapping[str, float]) -> RiskScore:
    return score_matrix(loaded.model, feature_matrix([features]), cutoffs)[0]


def store_score(ctx: RiskContext, customer: Mapping[str, Any], score: RiskScore, version: str,
                now: datetime) -> str | None:
    """Save SCORE on the customer and auto-trigger; returns the id of an intervention it created."""
    ctx.customers.save_score(customer["customer_id"], {
        "probability": float(score.probability),
        "risk_score": float(score.risk_score),
        "risk_level": score.risk_level,
        "model_version": version,
        "scored_at": iso(now),
    })
    return auto_trigger(ctx.interventions, {**customer, "risk_level": score.risk_level}, float(score.risk_score), now)


def capture_scores(version: str, rows: Sequence[Mapping[str, float]], scores: Sequence[RiskScore]) -> None:
    """Hand the sampled rows to the drift capture buffer (a draw per row; no I/O here)."""
    capture = capture_buffer()
    for features, result in zip(rows, scores):
        if capture.sampled():
            capture.add(PRODUCT, version, features, {"probability": float(result.probability),
                                                     "risk_level": result.risk_level})


def score(ctx: RiskContext, request: ScoreRequest) -> ScoreResponse:
    loaded = champion().get()
    cutoffs = cutoffs_in_use(loaded, ctx)
    now = utc_now()
    intervention_id = None
    if request.customer_id is not None:
        customer = ctx.customers.get(request.customer_id)
        if customer is None:
            raise NotFound(f"Unknown customer {request.customer_id}", [FieldIssue("customer_id", "no such customer")])
        features = features_of(ctx, customer)
        result = score_record(loaded, cutoffs, features)
        intervention_id = store_score(ctx, customer, result, loaded.version, now)
    else:
        features = check_raw_features(request.features or {}, loaded.manifest.feature_names)
        result = score_record(loaded, cutoffs, features)
    capture_scores(loaded.version, [features], [result])
    return ScoreResponse(
        customer_id=request.customer_id,
        probability=round(float(result.probability), 6),
        risk_score=float(result.risk_score),
        risk_level=result.risk_level,
        cutoffs=list(cutoffs),
        model_version=loaded.version,
        scored_at=iso(now),
        intervention_id=intervention_id,
    )


def _record_error(index: int, exc: Exception) -> RecordError:
    if isinstance(exc, ValidationError):
        issues = validation_issues(exc.errors())
        return RecordError(index=index, code="validation_failed", message=f"{len(issues)} field(s) failed validation",
                           details=[FieldIssueModel(field=i.field, issue=i.issue) for i in issues])
    code = getattr(exc, "code", "invalid_record")
    details = [FieldIssueModel(field=i.field, issue=i.issue) for i in getattr(exc, "details", [])]
    return RecordError(index=index, code=code, message=getattr(exc, "message", str(exc)), details=details)


def score_batch(ctx: RiskContext, request: BatchScoreRequest) -> BatchScoreResponse:
    """Score up to 1,000 records; a bad record is reported with its index and reason and fails alone."""
    loaded = champion().get()
    cutoffs = cutoffs_in_use(loaded, ctx)
    now = utc_now()
    errors: list[RecordError] = []
    parsed: list[tuple[int, ScoreRequest]] = []
    for index, raw in enumerate(request.records):
        try:
            parsed.append((index, ScoreRequest.model_validate(raw)))
        except ValidationError as exc:
            errors.append(_record_error(index, exc))
    customers = ctx.customers.get_many([r.customer_id for _, r in parsed if r.customer_id is not None])
    rows: list[tuple[int, ScoreRequest, dict[str, float]]] = []
    for index, record in parsed:
        try:
            if record.customer_id is not None:
                customer = customers.get(record.customer_id)
                if customer is None:
                    raise NotFound(f"Unknown customer {record.customer_id}",
                                   [FieldIssue("customer_id", "no such customer")])
                rows.append((index, record, features_of(ctx, customer)))
            else:
                rows.append((index, record, check_raw_features(record.features or {}, loaded.manifest.feature_names)))
        except (NotFound, ValidationFailed) as exc:
            errors.append(_record_error(index, exc))
    scores = score_matrix(loaded.model, feature_matrix([features for _, _, features in rows]), cutoffs) if rows else []
    capture_scores(loaded.version, [features for _, _, features in rows], scores)
    results = []
    for (index, record, _), result in zip(rows, scores, strict=True):
        intervention_id = None
        if record.customer_id is not None:
            intervention_id = store_score(ctx, customers[record.customer_id], result, loaded.version, now)
        results.append(BatchScoreResult(
            index=index, customer_id=record.customer_id, probability=round(float(result.probability), 6),
            risk_score=float(result.risk_score), risk_level=result.risk_level, intervention_id=intervention_id,
        ))
    errors.sort(key=lambda error: error.index)
    return BatchScoreResponse(model_version=loaded.version, scored=len(results), failed=len(errors),
                              results=results, errors=errors)
