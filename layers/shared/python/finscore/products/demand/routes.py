"""The demand routes: next-week demand, demand rise and top product for lists of records (the seed's
bodies), sales in (JSON or CSV), sample sales, and the regions."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from finscore.api.body import parse_json_body
from finscore.api.errors import route_responses
from finscore.errors import FieldIssue, ValidationFailed
from finscore.observability import metrics
from finscore.products.demand import service
from finscore.products.demand.api_models import (
    MAX_QUERIES,
    MAX_SALES_PER_REQUEST,
    PredictResponse,
    RegionDetail,
    RegionsResponse,
    RiseResponse,
    SalesResponse,
    SampleDataRequest,
    SampleDataResponse,
    TopProductResponse,
)
from finscore.products.demand.ingest import csv_rows

router = Router()
RECORDS_TEXT = ("A JSON list of records {pincode, product, channel, customer_age, customer_income} (the seed's body), "
                "or {\"records\": [...]}; up to 1,000. A bad record fails alone, reported with its index. A pincode "
                "without sales history is answered from its city (the record's optional city, else the pincode's "
                "sorting district) or from all pincodes, and the answer says so (basis, note). customer_age and "
                "customer_income are accepted as the seed sends them; the customer mix the models use is the "
                "pincode's, from its stored sales.")


class QueriesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_QUERIES)]


Queries = Annotated[QueriesRequest | list[Any], Body(description=RECORDS_TEXT)]


def _records(body: QueriesRequest | list[Any]) -> list[Any]:
    records = body.records if isinstance(body, QueriesRequest) else body
    if not records:
        raise ValidationFailed("No records in the request", [FieldIssue("records", "empty list")])
    if len(records) > MAX_QUERIES:
        raise ValidationFailed(f"At most {MAX_QUERIES} records per request",
                               [FieldIssue("records", f"{len(records)} records; send at most {MAX_QUERIES}")])
    return records


def _counted(result: dict[str, Any]) -> dict[str, Any]:
    metrics.add_metric(name="Predictions", unit=MetricUnit.Count, value=len(result["results"]))
    return result


@router.post("/v1/demand/predict", tags=["demand"], summary="Next week's demand per pincode, product and channel",
             description=RECORDS_TEXT + " Each answer: predicted_demand, its calibrated confidence and 90% interval.")
def predict(body: Queries) -> PredictResponse:
    return PredictResponse(**_counted(service.answer(_records(body), service.prediction)))


@router.post("/v1/demand/rise", tags=["demand"], summary="Whether next week's demand rises above this week's",
             description=RECORDS_TEXT)
def rise(body: Queries) -> RiseResponse:
    return RiseResponse(**_counted(service.answer(_records(body), service.rise)))


@router.post("/v1/demand/top-product", tags=["demand"], summary="The product likeliest to lead next week",
             description=RECORDS_TEXT + " The answer is per pincode and channel; the record's product is not used.")
def top_product(body: Queries) -> TopProductResponse:
    return TopProductResponse(**_counted(service.answer(_records(body), service.top_product)))


@router.post("/v1/demand/sales", tags=["demand"], summary="Add sales records (JSON list or CSV)",
             description="A JSON list of sales ({\"sales\": [...]} too) or a CSV body with a header line, fields: "
             "date, pincode, city, product, channel, agent_id (optional), customer_age, customer_income, record_id "
             "(optional). Valid sales are stored once each (the same sale again is counted as a duplicate); every "
             f"invalid one is listed with its index, fields and reason. Up to {MAX_SALES_PER_REQUEST} sales.",
             responses=route_responses(422, s422="No sales in the body, or more than the limit"))
def sales() -> SalesResponse:
    text = router.current_event.body or ""
    if text.lstrip()[:1] in ("[", "{"):
        parsed = parse_json_body(text)
        rows = parsed.get("sales") if isinstance(parsed, dict) else parsed
        if not isinstance(rows, list):
            raise ValidationFailed("The body must be a list of sales or {\"sales\": [...]}",
                                   [FieldIssue("sales", "expected a list")])
    else:
        rows = csv_rows(text)
    if not rows:
        raise ValidationFailed("No sales in the request", [FieldIssue("sales", "empty")])
    if len(rows) > MAX_SALES_PER_REQUEST:
        raise ValidationFailed(f"At most {MAX_SALES_PER_REQUEST} sales per request",
                               [FieldIssue("sales", f"{len(rows)} sales; send at most {MAX_SALES_PER_REQUEST}")])
    return service.add_sales(rows)


@router.post("/v1/demand/sample-data", tags=["demand"], summary="Generate and insert realistic sample sales",
             description="count sales of the current week at the model's pincodes, drawn from each region's product "
             "and channel mix, the cities' incomes and the festival calendar; inserted like any sales and returned.")
def sample_data(request: SampleDataRequest) -> SampleDataResponse:
    return service.sample_data(request.count)


@router.get("/v1/demand/regions", tags=["demand"], summary="The regions pincodes cluster into by demand profile")
def regions() -> RegionsResponse:
    return service.regions()


@router.get("/v1/demand/regions/<region_id>", tags=["demand"], summary="One region's demand profile",
            responses=route_responses(404, s404="No such region"))
def region(
    region_id: Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$",
                                   description="A region id from GET /v1/demand/regions, e.g. R1")],
) -> RegionDetail:
    return service.region(region_id)
