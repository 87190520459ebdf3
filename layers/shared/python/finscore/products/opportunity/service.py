"""What the opportunity API does: score a location's businesses in its sentiment and economy, compare
locations, list them, take in reviews and indicators, and describe and explain the model.

Scores always use what is stored at the time of the request: the location's sentiment aggregates
(so new reviews move them) and the indicators in effect (so new indicators move them).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from pydantic import ValidationError

from finscore.api.errors import validation_issues
from finscore.errors import Conflict, FieldIssue, NotFound, ValidationFailed
from finscore.products.columns import columns_of, take
from finscore.products.opportunity.api_models import (
    BusinessesResponse,
    FieldIssueModel,
    RecordError,
    ScoredRecord,
    CompareResponse,
    Contribution,
    EconomicContext,
    ExplanationResponse,
    IndicatorsResponse,
    LocationComparison,
    LocationSummary,
    LocationsResponse,
    ModelResponse,
    ReviewsResponse,
    ScoredBusiness,
    ScoreResponse,
    Sentiment,
    TextScore,
)
from finscore.products.opportunity.catalog import CATEGORIES, CATEGORY_TEXT
from finscore.products.opportunity.features import ECONOMY_FIELDS, FEATURE_NAMES, LOCATION_FIELDS, NUMERIC_FEATURES
from finscore.products.opportunity.ingest import ingest_reviews
from finscore.products.opportunity.records import Indicators, OpportunityRecord
from finscore.products.opportunity.sentiment import aggregates
from finscore.products.opportunity.spec import NAME
from finscore.products.opportunity.stores import (
    business_store,
    businesses_in,
    economy,
    indicator_store,
    location_store,
    now,
    review_stores,
)
from finscore.products.scoring import Scorer, row_outputs, scorer

TOP_CONTRIBUTIONS = 3
BUSINESS_FIELDS = ("business_id", "business_type", "revenue", "age", "rating")
RECORD_FIELDS = tuple(OpportunityRecord.model_fields)


def _economy() -> dict[str, Any]:
    current = economy()
    if current is None:
        raise Conflict("No economic indicators are in effect yet; add them with POST "
                       "/v1/opportunities/economic-indicators", [FieldIssue("economic_context", "none stored")])
    return current


def _context(item: Mapping[str, Any]) -> EconomicContext:
    return EconomicContext(**{name: item[name] for name in EconomicContext.model_fields})


def _location(location: str) -> dict[str, Any]:
    item = location_store().one(location)
    if item is None:
        raise NotFound(f"Unknown location {location!r}; GET /v1/opportunities/locations lists them",
                       [FieldIssue("location", "not a known location")])
    return item


def _scored(scoring: Scorer, businesses: Sequence[Mapping[str, Any]], sentiment: float,
            current: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The champion's outputs for BUSINESSES in a location of SENTIMENT under the indicators CURRENT."""
    rows = [{**{name: business.get(name) for name in BUSINESS_FIELDS}, "sentiment_score": sentiment,
             "inflation_rate": current["inflation_rate"], "interest_rate": current["interest_rate"]}
            for business in businesses]
    return scoring.predict(columns_of(rows, (*NUMERIC_FEATURES, "business_type")))


def score_location(location: str, business_type: str | None, limit: int) -> ScoreResponse:
    item = _location(location)
    current = _economy()
    moment = now()
    sentiment = aggregates(item, moment)
    businesses = [business for business in businesses_in(location)
                  if business_type is None or business.get("business_type") == business_type]
    scoring = scorer(NAME)
    outputs = _scored(scoring, businesses, sentiment["sentiment_score"], current)
    # Highest first; equal scores in business_id order, so answers never depend on the table's order.
    order = sorted(range(len(businesses)), key=lambda row: (-outputs["opportunity_score"][row],
                                                            businesses[row]["business_id"]))[:limit]
    results = [ScoredBusiness(rank=rank, **{name: businesses[row][name] for name in BUSINESS_FIELDS},
                              opportunity_score=float(outputs["opportunity_score"][row]),
                              category=str(outputs["category"][row]))
               for rank, row in enumerate(order, start=1)]
    return ScoreResponse(model_version=scoring.version, location=location, total_businesses=len(businesses),
                         sentiment=Sentiment(**sentiment), economic_context=_context(current), results=results)


def score_businesses(raw: Sequence[Any]) -> BusinessesResponse:
    """Each valid business of RAW scored, its left-out sentiment and indicators taken from the stores; a
    bad or unscorable business is reported with its index and fails alone; none scorable is 422."""
    scoring = scorer(NAME)
    errors: list[RecordError] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, OpportunityRecord.model_validate(item).model_dump()))
        except ValidationError as exc:
            issues = validation_issues(exc.errors())
            errors.append(RecordError(index=index, message=f"{len(issues)} field(s) failed validation",
                                      details=[FieldIssueModel(field=i.field, issue=i.issue) for i in issues]))
    records = [record for _, record in valid]
    columns, unscorable = scoring.enrich(columns_of(records, RECORD_FIELDS), len(records))
    for row, reason in sorted(unscorable.items()):
        field, _, issue = reason.partition(": ")
        errors.append(RecordError(index=valid[row][0], message=reason, details=[FieldIssueModel(field=field, issue=issue)]))
    if len(unscorable) == len(valid):
        raise ValidationFailed(f"None of the {len(raw)} business(es) can be scored",
                               [FieldIssue(f"businesses.{error.index}.{detail.field}", detail.issue)
                                for error in sorted(errors, key=lambda error: error.index) for detail in error.details])
    keep = [row for row in range(len(records)) if row not in unscorable]
    outputs = scoring.predict(take(columns, np.array(keep, dtype=np.int64)))
    results = []
    for position, row in enumerate(keep):
        answer = row_outputs(outputs, position)
        record = records[row]
        results.append(ScoredRecord(index=valid[row][0], business_id=record["business_id"], location=record["location"],
                                    opportunity_score=answer["opportunity_score"], category=answer["category"],
                                    **{name: float(columns[name][row]) for name in (*LOCATION_FIELDS, *ECONOMY_FIELDS)}))
    return BusinessesResponse(model_version=scoring.version, results=results,
                              errors=sorted(errors, key=lambda error: error.index))


def compare_locations(locations: Sequence[str]) -> CompareResponse:
    wanted = list(dict.fromkeys(locations))
    found = location_store().many(wanted)
    unknown = [index for index, location in enumerate(locations) if location not in found]
    if unknown:
        raise NotFound(f"Unknown location(s): {', '.join(repr(locations[i]) for i in unknown)}; GET "
                       "/v1/opportunities/locations lists them",
                       [FieldIssue(f"locations.{i}", "not a known location") for i in unknown])
    current = _economy()
    moment = now()
    scoring = scorer(NAME)
    answers = {}
    for location in wanted:
        sentiment = aggregates(found[location], moment)
        businesses = businesses_in(location)
        outputs = _scored(scoring, businesses, sentiment["sentiment_score"], current)
        scores = outputs["opportunity_score"]
        by_type: dict[str, list[float]] = {}
        for business, value in zip(businesses, scores.tolist()):
            by_type.setdefault(business["business_type"], []).append(value)
        top = int(np.argmax(scores)) if len(scores) else None
        answers[location] = LocationComparison(
            location=location, total_businesses=len(businesses),
            mean_score=round(float(scores.mean()), 2) if len(scores) else None,
            top_score=float(scores[top]) if top is not None else None,
            top_business_id=businesses[top]["business_id"] if top is not None else None,
            best_business_type=max(by_type, key=lambda kind: (float(np.mean(by_type[kind])), kind)) if by_type else None,
            category_counts={category: int(np.sum(outputs["category"] == category)) for category in CATEGORIES},
            sentiment=Sentiment(**sentiment))
    return CompareResponse(model_version=scoring.version, economic_context=_context(current),
                           locations=[answers[location] for location in locations])


def list_locations() -> LocationsResponse:
    moment = now()
    return LocationsResponse(locations=[
        LocationSummary(location=item["location"], city=item.get("city", ""), neighbourhood=item.get("neighbourhood", ""),
                        business_count=int(item.get("business_count") or 0), sentiment=Sentiment(**aggregates(item, moment)))
        for item in location_store().every()])


def add_reviews(location: str, texts: Sequence[str]) -> ReviewsResponse:
    _location(location)
    reviews, locations = review_stores()
    result = ingest_reviews([{"location": location, "text": text} for text in texts], reviews, locations)
    if location not in result.locations:  # every text invalid: the request model makes this unreachable
        raise Conflict("No text could be taken in", [FieldIssue(f"texts.{i.index}", i.reason) for i in result.invalid])
    return ReviewsResponse(location=location, received=result.received, inserted_count=result.inserted,
                           duplicate_count=result.duplicates,
                           results=[TextScore(index=text.index, compound=text.compound, duplicate=text.duplicate)
                                    for text in result.scored],
                           aggregates=Sentiment(**result.locations[location]))


def add_indicators(indicators: Indicators) -> IndicatorsResponse:
    indicator_store().put(indicators.item())
    in_effect = economy()
    stored = _context(indicators.item())
    return IndicatorsResponse(stored=stored, in_effect=_context(in_effect) if in_effect is not None else stored)


def describe_model() -> ModelResponse:
    loaded = scorer(NAME, capture=False).loaded
    manifest = loaded.manifest
    metrics = manifest.metrics
    return ModelResponse(
        model_version=loaded.version, algorithm=manifest.extra["model"]["algorithm"],
        inputs=list(manifest.extra["model"]["inputs"]),
        metrics={name: float(metrics[name]) for name in ("mse", "rmse", "mae", "r2")},
        feature_importance={kind: dict(values) for kind, values in metrics["feature_importance"].items()
                            if kind in ("impurity", "permutation")},
        candidates=dict(metrics.get("candidates", {})), categories=CATEGORY_TEXT, label=manifest.extra.get("label", ""))


def explain_business(business_id: str) -> ExplanationResponse:
    business = business_store().get({"business_id": business_id})
    if business is None:
        raise NotFound(f"Unknown business {business_id!r}", [FieldIssue("business_id", "not a known business")])
    item = location_store().one(business["location"]) or {}
    sentiment = aggregates(item, now())["sentiment_score"]
    current = _economy()
    scoring = scorer(NAME, capture=False)
    rows = [{**{name: business.get(name) for name in BUSINESS_FIELDS}, "sentiment_score": sentiment,
             "inflation_rate": current["inflation_rate"], "interest_rate": current["interest_rate"]}]
    columns = columns_of(rows, (*NUMERIC_FEATURES, "business_type"))
    matrix = scoring.matrix(columns)
    outputs = scoring.predict(columns)
    explained = scoring.model.explain(matrix[0])
    values = dict(zip(FEATURE_NAMES, matrix[0].astype(float).tolist()))
    contributions = sorted((Contribution(feature=name, value=round(values[name], 6), contribution=round(share, 4))
                            for name, share in explained["contributions"].items()),
                           key=lambda item: (-abs(item.contribution), item.feature))
    return ExplanationResponse(
        model_version=scoring.version, business_id=business_id, location=business["location"],
        business_type=business["business_type"], opportunity_score=float(outputs["opportunity_score"][0]),
        category=str(outputs["category"][0]), baseline=round(explained["baseline"], 4),
        prediction=round(explained["prediction"], 4), contributions=contributions,
        top_contributions=contributions[:TOP_CONTRIBUTIONS])
