"""Risk scoring with the cached champion: by customer id from the feature store, or with raw features.

A customer's score is stored back on the customer (with risk_level and the by_score partition that
puts it in the high-risk listing) when it is new: recomputed features, another score or model. Scoring
the same stored features with the same model again writes nothing, so a read-heavy caller costs one
read per request and wakes no stream consumer. A score may create an intervention automatically. Raw features are
checked against the champion manifest's feature names, the contract training wrote; they are scored
but not stored, since they belong to no customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np
from pydantic import ValidationError

from finscore.api.errors import validation_issues
from finscore.errors import FieldIssue, NotFound, ValidationFailed
from finscore.models.champion import ChampionCache
from finscore.models.manifest import FeatureSpec
from finscore.products import scoring as product_scoring
from finscore.products.columns import Columns, columns_of
from finscore.products.risk.api_models import (
    BatchScoreRequest,
    BatchScoreResponse,
    BatchScoreResult,
    FieldIssueModel,
    RecordError,
    ScoreRequest,
    ScoreResponse,
)
from finscore.products.risk.features import FEATURE_NAMES, FEATURES, as_date, compute_features
from finscore.products.risk.interventions import InterventionContext, auto_trigger, iso, utc_now
from finscore.products.risk.repository import CustomerStore, TransactionStore
from finscore.products.risk.settings import StoredFeaturesSettings
from finscore.products.risk.spec import NAME
from finscore.settings import load_settings


@dataclass(frozen=True)
class RiskContext:
    """The stores and policy one function scores with."""

    customers: CustomerStore
    transactions: TransactionStore
    interventions: InterventionContext

    @property
    def policy(self):
        return self.interventions.policy


@dataclass(frozen=True)
class RiskScore:
    probability: float
    risk_score: float
    risk_level: str


def champion() -> ChampionCache:
    """The execution environment's champion cache for risk."""
    return product_scoring.champion(NAME)


def reset_champion() -> None:
    """Forget the cached champion (tests that start from a fresh model store call this)."""
    product_scoring.reset_champions()


class RiskScorer:
    """The champion scoring at the cut-offs in use: RISK_LEVEL_CUTOFFS when set, else the champion's own."""

    def __init__(self, ctx: RiskContext):
        self.scorer = product_scoring.scorer(NAME)
        self.model = self.scorer.model.with_cutoffs(ctx.policy.risk_level_cutoffs)

    @property
    def version(self) -> str:
        return self.scorer.version

    @property
    def cutoffs(self) -> tuple[float, ...]:
        return tuple(self.model.cutoffs)

    def score(self, rows: Sequence[Mapping[str, float]]) -> list[RiskScore]:
        """Feature rows scored with one predict."""
        if not rows:
            return []
        outputs = self.scorer.predict(columns_of(rows, FEATURE_NAMES), model=self.model)
        return [RiskScore(float(p), float(s), str(level)) for p, s, level in
                zip(outputs["probability"].tolist(), outputs["risk_score"].tolist(), outputs["risk_level"].tolist())]


def cutoffs_in_use(ctx: RiskContext) -> tuple[float, ...]:
    return tuple(ctx.policy.risk_level_cutoffs or champion().get().model.cutoffs)


def check_raw_features(features: Mapping[str, Any], specs: Sequence[FeatureSpec], prefix: str = "features.") -> dict[str, float]:
    """FEATURES as SPECS name them; every missing or unknown name, and every value outside its
    feature's domain, is a 422 naming the field (and the domain)."""
    issues = [FieldIssue(f"{prefix}{spec.name}", "missing") for spec in specs if spec.name not in features]
    known = {spec.name for spec in specs}
    issues += [FieldIssue(f"{prefix}{name}", "not a feature of the champion model")
               for name in features if name not in known]
    issues += [FieldIssue(f"{prefix}{spec.name}", problem) for spec in specs if spec.name in features
               and (problem := spec.issue(float(features[spec.name]))) is not None]
    if issues:
        raise ValidationFailed(f"{len(issues)} feature(s) missing, unknown or out of range", issues)
    return {spec.name: float(features[spec.name]) for spec in specs}


def fresh(customer: Mapping[str, Any], max_age_hours: float, now: datetime) -> bool:
    """Whether the customer's stored features are recent enough to score with: computed as of a date
    no more than MAX_AGE_HOURS before NOW (a date counts from its end)."""
    stored, as_of = customer.get("features"), customer.get("features_as_of")
    if not stored or not as_of:
        return False
    try:
        computed = datetime.combine(as_date(as_of), time.max, tzinfo=timezone.utc)
    except ValueError:
        return False
    return now - computed <= timedelta(hours=max_age_hours)


def refresh_features(customers: CustomerStore, transactions: TransactionStore, customer: Mapping[str, Any],
                     now: datetime) -> dict[str, float]:
    """The customer's features as of NOW's date from all their stored transactions, stored with that date."""
    history = transactions.all_for(customer["customer_id"])
    features = compute_features(customer, history, now.date())
    dates = [str(t["date"]) for t in history]
    customers.save_features(customer["customer_id"], features, as_of=now.date().isoformat(),
                            last_transaction=max(dates) if dates else None, transactions=len(history),
                            updated_at=iso(now))
    return features


def features_of(ctx: RiskContext, customer: Mapping[str, Any], now: datetime) -> tuple[dict[str, float], bool]:
    """The customer's features as of today: the stored ones while fresh, else recomputed and stored;
    and whether they were recomputed."""
    if fresh(customer, ctx.policy.features_max_age_hours, now):
        return {name: float(value) for name, value in customer["features"].items()}, False
    return refresh_features(ctx.customers, ctx.transactions, customer, now), True


def features_as_of(ctx: RiskContext, customer: Mapping[str, Any], as_of: date) -> dict[str, float]:
    """The customer's features as of AS_OF from their stored transactions up to it (not stored: the
    feature store holds today's). AS_OF before the customer's history is a 422."""
    history = ctx.transactions.all_for(customer["customer_id"])
    start = min((str(t["date"]) for t in history), default=None) or customer.get("opened_at")
    if start and as_of < as_date(start):
        raise ValidationFailed(f"as_of {as_of} is before the customer's history, which starts {as_date(start)}",
                               [FieldIssue("as_of", f"before the customer's history (starts {as_date(start)})")])
    return compute_features(customer, history, as_of)


def is_stored_score(customer: Mapping[str, Any], score: RiskScore, version: str) -> bool:
    """Whether SCORE by model VERSION is the score CUSTOMER already holds."""
    stored = (customer.get("probability"), customer.get("risk_score"), customer.get("risk_level"),
              customer.get("model_version"))
    return stored == (float(score.probability), float(score.risk_score), score.risk_level, version)


def store_score(ctx: RiskContext, customer: Mapping[str, Any], score: RiskScore, version: str,
                now: datetime, *, features_recomputed: bool = True) -> str | None:
    """Save SCORE on the customer and auto-trigger; returns the id of an intervention it created.

    Stored features scored again into the score the customer holds are not written back: nothing
    changed, and the stored scored_at keeps the time that score was set (features are recomputed, and
    the score with them, once they are older than FEATURES_MAX_AGE_HOURS). The auto-trigger still
    runs: its cool-down may have ended since.
    """
    if features_recomputed or not is_stored_score(customer, score, version):
        ctx.customers.save_score(customer, {
            "probability": float(score.probability),
            "risk_score": float(score.risk_score),
            "risk_level": score.risk_level,
            "model_version": version,
            "scored_at": iso(now),
        })
    return auto_trigger(ctx.interventions, {**customer, "risk_level": score.risk_level}, float(score.risk_score), now)


def score(ctx: RiskContext, request: ScoreRequest) -> ScoreResponse:
    # The request is checked before the champion is asked for: bad input gets its 4xx even while no
    # model can be loaded (which is a 503).
    now = utc_now()
    intervention_id = None
    as_of = None
    if request.customer_id is not None:
        customer = ctx.customers.get(request.customer_id)
        if customer is None:
            raise NotFound(f"Unknown customer {request.customer_id}", [FieldIssue("customer_id", "no such customer")])
        scorer = RiskScorer(ctx)
        if request.as_of is None:
            as_of = now.date()
            features, recomputed = features_of(ctx, customer, now)
            [result] = scorer.score([features])
            intervention_id = store_score(ctx, customer, result, scorer.version, now, features_recomputed=recomputed)
        else:
            # Another date's score is an answer, not the customer's score: it is neither stored nor acted on.
            as_of = request.as_of
            [result] = scorer.score([features_as_of(ctx, customer, as_of)])
    else:
        features = check_raw_features(request.features or {}, FEATURES)
        scorer = RiskScorer(ctx)
        [result] = scorer.score([features])
    return ScoreResponse(
        customer_id=request.customer_id,
        probability=result.probability,
        risk_score=result.risk_score,
        risk_level=result.risk_level,
        cutoffs=list(scorer.cutoffs),
        model_version=scorer.version,
        scored_at=iso(now),
        as_of=as_of.isoformat() if as_of else None,
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
    scorer = RiskScorer(ctx)
    now = utc_now()
    errors: list[RecordError] = []
    parsed: list[tuple[int, ScoreRequest]] = []
    for index, raw in enumerate(request.records):
        try:
            parsed.append((index, ScoreRequest.model_validate(raw)))
        except ValidationError as exc:
            errors.append(_record_error(index, exc))
    customers = ctx.customers.get_many([r.customer_id for _, r in parsed if r.customer_id is not None])
    # (index, record, features, whether they were recomputed)
    rows: list[tuple[int, ScoreRequest, dict[str, float], bool]] = []
    for index, record in parsed:
        try:
            if record.customer_id is not None:
                customer = customers.get(record.customer_id)
                if customer is None:
                    raise NotFound(f"Unknown customer {record.customer_id}",
                                   [FieldIssue("customer_id", "no such customer")])
                if record.as_of is None:
                    rows.append((index, record, *features_of(ctx, customer, now)))
                else:
                    rows.append((index, record, features_as_of(ctx, customer, record.as_of), False))
            else:
                rows.append((index, record, check_raw_features(record.features or {}, FEATURES), False))
        except (NotFound, ValidationFailed) as exc:
            errors.append(_record_error(index, exc))
    scores = scorer.score([features for _, _, features, _ in rows])
    results = []
    for (index, record, _, recomputed), result in zip(rows, scores, strict=True):
        intervention_id = None
        if record.customer_id is not None and record.as_of is None:
            intervention_id = store_score(ctx, customers[record.customer_id], result, scorer.version, now,
                                          features_recomputed=recomputed)
        results.append(BatchScoreResult(
            index=index, customer_id=record.customer_id, probability=result.probability,
            risk_score=result.risk_score, risk_level=result.risk_level, intervention_id=intervention_id,
        ))
    errors.sort(key=lambda error: error.index)
    return BatchScoreResponse(model_version=scorer.version, scored=len(results), failed=len(errors),
                              results=results, errors=errors)


@lru_cache(maxsize=1)
def _feature_store() -> tuple[CustomerStore, TransactionStore, float]:
    settings = load_settings(StoredFeaturesSettings)
    return (CustomerStore(settings.customers_table), TransactionStore(settings.transactions_table),
            settings.features_max_age_hours)


def stored_features(columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
    """Batch rows completed from the feature store: a row that carries every feature is scored as it
    is; a row with none but a customer_id takes that customer's features as of today (a portfolio
    rescore by a list of ids): the stored ones while fresh, else recomputed from the stored
    transactions and stored; anything in between is refused naming what is missing."""
    missing = np.zeros((count, len(FEATURE_NAMES)), dtype=bool)
    for index, name in enumerate(FEATURE_NAMES):
        missing[:, index] = np.isnan(np.asarray(columns[name], dtype=np.float64)) if name in columns else True
    none_given = missing.all(axis=1)
    reasons: dict[int, str] = {}
    for row in np.flatnonzero(missing.any(axis=1) & ~none_given).tolist():
        absent = [name for name, gone in zip(FEATURE_NAMES, missing[row]) if gone]
        reasons[row] = "features: give every feature or none (then customer_id): missing " + ", ".join(absent)
    ids = columns.get("customer_id")
    wanted = []
    for row in np.flatnonzero(none_given).tolist():
        if ids is not None and isinstance(ids[row], str) and ids[row]:
            wanted.append(row)
        else:
            reasons[row] = "customer_id: required when a row carries no features"
    if wanted:
        customers, transactions, max_age_hours = _feature_store()
        stored = customers.get_many([ids[row] for row in wanted])
        now = utc_now()
        filled = {name: np.array(columns[name], dtype=np.float64) if name in columns else np.full(count, np.nan)
                  for name in FEATURE_NAMES}
        for row in wanted:
            customer = stored.get(ids[row])
            if customer is None:
                reasons[row] = "customer_id: no such customer"
                continue
            if not fresh(customer, max_age_hours, now):
                customer = {**customer, "features": refresh_features(customers, transactions, customer, now),
                            "features_as_of": now.date().isoformat()}
                stored[ids[row]] = customer  # a customer listed twice is recomputed once
            for name in FEATURE_NAMES:
                filled[name][row] = float(customer["features"][name])
        columns = {**columns, **filled}
    return columns, reasons
