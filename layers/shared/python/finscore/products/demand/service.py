"""What the demand API does: answer lists of demand questions (next-week demand, rise, top product)
completed from the stores, take in sales, generate sample sales, and describe the regions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import numpy as np
from pydantic import BaseModel, ValidationError

from finscore.api.errors import validation_issues
from finscore.errors import FieldIssue, NotFound, ValidationFailed
from finscore.products.columns import columns_of
from finscore.products.demand.api_models import (
    FieldIssueModel,
    InvalidRecord,
    Prediction,
    RecordError,
    RegionDetail,
    RegionsResponse,
    RegionSummary,
    Rise,
    SalesResponse,
    SampleDataResponse,
    TopProduct,
)
from finscore.products.demand.catalog import PRODUCTS
from finscore.products.demand.ingest import SalesResult, ingest_sales, sales_stores
from finscore.products.demand.model import CITY_BASIS, OVERALL_BASIS
from finscore.products.demand.records import DemandQuery
from finscore.products.demand.samples import sample_sales
from finscore.products.demand.spec import NAME
from finscore.products.demand.stores import forget_histories
from finscore.products.scoring import row_outputs, scorer

QUERY_FIELDS = tuple(DemandQuery.model_fields)


def _note(basis: str, answer: dict[str, Any], pincode: str) -> str | None:
    if basis == CITY_BASIS:
        return f"Pincode {pincode} has no sales history; answered from the mean pincode of its city (region " \
               f"{answer['region_id']})"
    if basis == OVERALL_BASIS:
        return f"Pincode {pincode} has no sales history and its city is unknown; answered from the mean pincode " \
               "of all regions"
    return None


def answer(raw: Sequence[Any], shape: Callable[[dict[str, Any], dict[str, Any]], BaseModel]) -> dict[str, Any]:
    """Each valid record of RAW answered by the champion and shaped by SHAPE(context, outputs); a bad
    record is reported with its index and fails alone; none valid is 422."""
    scoring = scorer(NAME)
    errors: list[RecordError] = []
    valid: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(raw):
        try:
            valid.append((index, DemandQuery.model_validate(item).model_dump()))
        except ValidationError as exc:
            issues = validation_issues(exc.errors())
            errors.append(RecordError(index=index, message=f"{len(issues)} field(s) failed validation",
                                      details=[FieldIssueModel(field=i.field, issue=i.issue) for i in issues]))
    if not valid:
        raise ValidationFailed(f"None of the {len(raw)} record(s) is valid",
                               [FieldIssue(f"[{error.index}].{detail.field}", detail.issue)
                                for error in errors for detail in error.details])
    records = [record for _, record in valid]
    columns, _ = scoring.enrich(columns_of(records, QUERY_FIELDS), len(records))
    outputs = scoring.predict(columns)
    results = []
    for row, (index, record) in enumerate(valid):
        out = row_outputs(outputs, row)
        as_of = columns["as_of"][row] if out["basis"] == "pincode" else scoring.model.fallback["as_of"]
        context = {"index": index, "pincode": record["pincode"], "product": record["product"],
                   "channel": record["channel"], "region_id": out["region_id"], "as_of": as_of,
                   "basis": out["basis"], "note": _note(out["basis"], out, record["pincode"])}
        results.append(shape(context, out))
    return {"model_version": scoring.version, "results": results, "errors": errors}


def prediction(context: dict[str, Any], out: dict[str, Any]) -> Prediction:
    return Prediction(**context, predicted_demand=out["predicted_demand"], confidence=out["confidence"],
                      interval=[out["demand_lower"], out["demand_upper"]])


def rise(context: dict[str, Any], out: dict[str, Any]) -> Rise:
    return Rise(**context, demand_rise=out["demand_rise"], probability=out["rise_probability"])


def top_product(context: dict[str, Any], out: dict[str, Any]) -> TopProduct:
    return TopProduct(**context, top_product=out["top_product"], probability=out["top_product_probability"],
                      all_products={product: out[f"probability_{product}"] for product in PRODUCTS})


def _sales_response(result: SalesResult) -> SalesResponse:
    return SalesResponse(received=result.received, inserted_count=result.inserted, duplicate_count=result.duplicates,
                         invalid_records=[InvalidRecord(index=i.index, fields=i.fields, reason=i.reason)
                                          for i in result.invalid],
                         weeks_updated=result.weeks_updated)


def add_sales(rows: Sequence[Any]) -> SalesResponse:
    result = ingest_sales(rows, sales_stores())
    forget_histories()
    return _sales_response(result)


def sample_data(count: int, seed: int | None = None) -> SampleDataResponse:
    """COUNT realistic sales of this week at the champion's pincodes, inserted like any others."""
    model = scorer(NAME, capture=False).model
    today = datetime.now(timezone.utc).date()
    sales = sample_sales(list(model.region_details), dict(model.regions.city_of), count, today,
                         np.random.default_rng(seed))
    result = ingest_sales(sales, sales_stores())
    forget_histories()
    return SampleDataResponse(inserted_count=result.inserted, records=sales)


def regions() -> RegionsResponse:
    scoring = scorer(NAME, capture=False)
    return RegionsResponse(
        model_version=scoring.version, as_of=scoring.model.fallback["as_of"],
        regions=[RegionSummary(region_id=region["region_id"], pincode_count=len(region["pincodes"]),
                               cities=region["cities"], total_demand=region["total_demand"],
                               top_product=region["products"]["top_product"],
                               top_channel=region["channels"]["top_channel"],
                               demand_rise_flag=region["demand_rise_flag"])
                 for region in scoring.model.region_details])


def region(region_id: str) -> RegionDetail:
    scoring = scorer(NAME, capture=False)
    for details in scoring.model.region_details:
        if details["region_id"].lower() == region_id.strip().lower():
            fields = {name: details[name] for name in RegionDetail.model_fields if name in details}
            return RegionDetail(**fields, model_version=scoring.version, as_of=scoring.model.fallback["as_of"])
    known = ", ".join(details["region_id"] for details in scoring.model.region_details)
    raise NotFound(f"Unknown region {region_id}; the regions are {known}", [FieldIssue("region_id", "no such region")])
