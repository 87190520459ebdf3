"""Demand on the running local stack: the seed's bodies, sales in as JSON, CSV and a dropped Excel file,
sample data, regions, and held-out metrics beside the seasonal naive baseline's."""

from __future__ import annotations

import io
import json
import time

import boto3

from finscore import resources
from tests.handlers import load_event


def seed_body(case: str) -> list[dict]:
    return json.loads(load_event("demand_api", case)["body"])


def test_each_seed_request_answers_with_the_seed_fields(stack):
    for path, case, fields in (("/v1/demand/predict", "predict", {"predicted_demand", "confidence", "interval"}),
                               ("/v1/demand/rise", "rise", {"demand_rise", "probability"}),
                               ("/v1/demand/top-product", "top-product", {"top_product", "probability",
                                                                           "all_products"})):
        status, body = stack.request("POST", path, seed_body(case))

        assert status == 200, body
        assert len(body["results"]) == 3 and not body["errors"]
        assert all(fields <= set(result) and result["basis"] == "pincode" for result in body["results"])


def test_sales_as_json_and_as_csv_insert_the_good_row_and_name_the_bad_one(stack):
    status, body = stack.request("POST", "/v1/demand/sales", seed_body("sales"))
    assert status == 200, body
    assert body["inserted_count"] + body["duplicate_count"] == 1
    assert [invalid["index"] for invalid in body["invalid_records"]] == [1]

    csv_body = load_event("demand_api", "sales-csv")["body"].encode()
    status, body = stack.request("POST", "/v1/demand/sales", raw=csv_body, headers={"Content-Type": "text/csv"})
    assert status == 200, body
    assert body["inserted_count"] + body["duplicate_count"] == 1
    assert [invalid["index"] for invalid in body["invalid_records"]] == [1]


def test_an_excel_file_put_with_the_aws_cli_is_ingested_with_its_report(stack):
    from openpyxl import Workbook

    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    book = Workbook()
    for row in (["date", "pincode", "city", "product", "channel", "customer_age", "customer_income", "record_id"],
                ["2026-11-27", "400006", "Mumbai", "loan", "online", 33, 71000, "XL-1"],
                ["2026-11-27", "400006", "Mumbai", "loan", "pigeon", 33, 71000, "XL-2"]):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    s3.put_object(Bucket=bucket, Key="ingest/demand/sales/e2e branch.xlsx", Body=data.getvalue())

    deadline, report = time.monotonic() + 90, None
    while report is None and time.monotonic() < deadline:
        try:
            report = json.loads(s3.get_object(Bucket=bucket, Key="ingest/demand/reports/e2e branch.xlsx.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    assert report is not None, "the file was not ingested"
    assert report["inserted_count"] == 1
    assert [(invalid["row"], invalid["fields"]) for invalid in report["invalid_records"]] == [(2, ["channel"])]


def test_sample_data_inserts_n_records(stack):
    status, body = stack.request("POST", "/v1/demand/sample-data", {"count": 12})

    assert status == 200, body
    assert body["inserted_count"] == 12 and len(body["records"]) == 12


def test_regions_and_a_region_detail(stack):
    status, body = stack.request("GET", "/v1/demand/regions")
    assert status == 200, body
    first = body["regions"][0]["region_id"]

    status, detail = stack.request("GET", f"/v1/demand/regions/{first}")
    assert status == 200, detail
    assert {"avg_demand_per_pincode", "channels", "demand_rise_flag", "pincodes", "products", "region_id",
            "total_demand"} <= set(detail)
    assert stack.request("GET", "/v1/demand/regions/R404")[0] == 404


def test_the_model_beats_the_seasonal_baseline_on_held_out_weeks(stack):
    status, body = stack.request("GET", "/v1/models/demand")

    assert status == 200 and body["champion_version"]
    metrics = body["metrics"]
    assert {"r2", "mae", "baseline_r2", "baseline_mae", "rise", "top_product"} <= set(metrics)
    assert metrics["mae"] < metrics["baseline_mae"]
