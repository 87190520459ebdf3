"""The demand API fed events/demand_api/*.json under moto, and demand files in batch scoring."""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from finscore.aws import client
from finscore.batch import pipeline, scoring
from finscore.products import scoring as product_scoring
from finscore.products.demand import ingest, stores
from tests.conftest import promote_candidate
from tests.handlers import FakeContext, invoke, load_event, load_handler, s3_notification_event, seed_product

FUNCTION = "demand_api"
# The quick model's data (its spec's quick_training) seeds the stores, so its pincodes have history.
PINCODES, SEED = 60, 11


@pytest.fixture
def demand(aws, candidates):
    product_scoring.reset_champions()
    stores.series_store.cache_clear()
    stores.forget_histories()
    ingest.sales_stores.cache_clear()
    ingest.ingest_context.cache_clear()
    manifest = promote_candidate(aws, candidates("demand"))
    seed_product(aws, "demand", pincodes=PINCODES, seed=SEED)
    yield manifest
    product_scoring.reset_champions()
    stores.series_store.cache_clear()
    stores.forget_histories()
    ingest.sales_stores.cache_clear()
    ingest.ingest_context.cache_clear()


def call(case: str, body: object | None = None, **event_updates) -> tuple[int, dict]:
    event = copy.deepcopy(load_event(FUNCTION, case))
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    event.update(event_updates)
    return invoke(FUNCTION, event)


def known_pincodes(manifest) -> list[str]:
    return sorted(manifest.extra["pincodes"])


def test_the_seed_bodies_answer_with_the_seed_fields(demand):
    for case, fields in (("predict", {"predicted_demand", "confidence", "interval"}),
                         ("rise", {"demand_rise", "probability"}),
                         ("top-product", {"top_product", "probability", "all_products"})):
        status, body = call(case)

        assert status == 200, body
        assert body["model_version"] == demand.version
        assert len(body["results"]) == 3 and not body["errors"]
        for result in body["results"]:
            assert fields <= set(result)
            assert {"pincode", "product", "channel", "region_id", "basis"} <= set(result)


def test_a_pincode_with_history_is_answered_from_it_with_an_interval(demand):
    pincode = known_pincodes(demand)[0]
    records = [{"pincode": pincode, "product": product, "channel": "online", "customer_age": 30,
                "customer_income": 50000} for product in ("loan", "credit_card", "insurance")]

    status, body = call("predict", records)

    assert status == 200, body
    for result in body["results"]:
        assert result["basis"] == "pincode" and result["note"] is None
        assert result["as_of"] == demand.extra["fallback"]["as_of"][:4] + result["as_of"][4:]
        lower, upper = result["interval"]
        assert 0 <= lower <= result["predicted_demand"] <= upper
        assert 0 <= result["confidence"] <= 1
        assert result["region_id"] in {region["region_id"] for region in demand.extra["regions"]}
    top = call("top-product", records)[1]["results"]
    assert abs(sum(top[0]["all_products"].values()) - 1) < 1e-4
    assert top[0]["top_product"] == max(top[0]["all_products"], key=top[0]["all_products"].get)


def test_unknown_pincodes_are_answered_from_their_city_or_all_and_bad_records_fail_alone(demand):
    status, body = call("predict-unknown-pincode")

    assert status == 200, body
    by_index = {result["index"]: result for result in body["results"]}
    # 400999 shares Mumbai's sorting district (400); 999999 matches nothing.
    assert by_index[0]["basis"] == "city" and "no sales history" in by_index[0]["note"]
    assert by_index[1]["basis"] == "overall" and by_index[1]["region_id"] is None
    (error,) = body["errors"]
    assert error["index"] == 2
    assert {detail["field"] for detail in error["details"]} == {"product", "channel", "customer_age"}


def test_every_record_bad_is_422_naming_them(demand):
    status, body = call("predict", [{"pincode": "0123", "product": "loan", "channel": "online"}])

    assert status == 422
    assert body["error"]["details"][0]["field"] == "[0].pincode"


def test_sales_insert_the_good_row_once_and_name_the_bad_one(demand):
    status, body = call("sales")

    assert status == 200, body
    assert (body["received"], body["inserted_count"], body["duplicate_count"]) == (2, 1, 0)
    (invalid,) = body["invalid_records"]
    assert invalid["index"] == 1 and {"pincode", "customer_age"} <= set(invalid["fields"])
    again = call("sales")[1]
    assert (again["inserted_count"], again["duplicate_count"]) == (0, 1)


def test_a_csv_body_is_ingested_the_same_way(demand):
    status, body = call("sales-csv")

    assert status == 200, body
    assert body["inserted_count"] == 1
    (invalid,) = body["invalid_records"]
    assert invalid["index"] == 1 and set(invalid["fields"]) == {"product", "customer_income"}


def test_new_sales_move_the_pincodes_history(demand):
    pincode = known_pincodes(demand)[0]
    record = {"pincode": pincode, "product": "loan", "channel": "online", "customer_age": 30, "customer_income": 1}
    before = call("predict", [record])[1]["results"][0]
    week = before["as_of"]
    city = demand.extra["pincodes"][pincode][1]
    sales = [{"date": week, "pincode": pincode, "city": city, "product": "loan", "channel": "online",
              "customer_age": 30, "customer_income": 50000, "record_id": f"BURST{n}"} for n in range(200)]

    assert call("sales", sales)[1]["inserted_count"] == 200
    after = call("predict", [record])[1]["results"][0]
    assert after["predicted_demand"] > before["predicted_demand"]


def test_a_warm_function_reads_a_pincodes_history_once_until_it_ages(demand, monkeypatch):
    reads = []
    recent = stores.SeriesStore.recent
    monkeypatch.setattr(stores.SeriesStore, "recent", lambda self, pincode, weeks: reads.append(pincode)
                        or recent(self, pincode, weeks))
    record = {"pincode": known_pincodes(demand)[0], "product": "loan", "channel": "online",
              "customer_age": 30, "customer_income": 1}

    first, second = call("predict", [record]), call("predict", [record])
    assert first == second and reads == [record["pincode"]]

    monkeypatch.setattr(stores, "HISTORY_TTL_S", 0.0)
    call("predict", [record])
    assert reads == [record["pincode"]] * 2


def test_threads_completing_the_same_pincodes_read_each_once(demand, monkeypatch):
    """A batch file's blocks are completed on several threads at once; each pincode is read by one."""
    reads = []
    recent = stores.SeriesStore.recent

    def slow_recent(self, pincode, weeks):
        reads.append(pincode)
        time.sleep(0.05)  # a Query in flight while the other thread asks for the same pincode
        return recent(self, pincode, weeks)

    monkeypatch.setattr(stores.SeriesStore, "recent", slow_recent)
    pincodes = known_pincodes(demand)[:4]
    columns = {"pincode": np.array(pincodes, dtype=object), "product": np.array(["loan"] * 4, dtype=object),
               "channel": np.array(["online"] * 4, dtype=object)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda _: stores.stored_history(columns, len(pincodes))[0], range(2)))

    assert sorted(reads) == sorted(pincodes)
    assert all(np.array_equal(done[0][name], done[1][name], equal_nan=True) for name in stores.HISTORY_FIELDS)


def test_sample_data_inserts_realistic_sales(demand):
    status, body = call("sample-data", {"count": 7})

    assert status == 200, body
    assert body["inserted_count"] == 7 and len(body["records"]) == 7
    known = set(known_pincodes(demand))
    assert all(record["pincode"] in known for record in body["records"])
    assert call("sample-data", {"count": 100000})[0] == 422


def test_regions_list_and_detail(demand):
    status, body = call("regions")

    assert status == 200, body
    ids = [region["region_id"] for region in body["regions"]]
    assert ids and ids[0] == "R1"
    assert sum(region["pincode_count"] for region in body["regions"]) == len(demand.extra["pincodes"])

    status, detail = call("region")
    assert status == 200, detail
    assert {"avg_demand_per_pincode", "channels", "demand_rise_flag", "pincodes", "products", "region_id",
            "total_demand"} <= set(detail)
    assert set(detail["channels"]) == {"distribution", "top_channel"}
    assert set(detail["products"]) == {"distribution", "top_product"}

    status, missing = call("region", pathParameters={"region_id": "R99"}, path="/v1/demand/regions/R99")
    assert status == 404 and missing["error"]["details"][0]["field"] == "region_id"


SALE_FIELDS = ["date", "pincode", "city", "product", "channel", "agent_id", "customer_age", "customer_income", "record_id"]
GOOD = ["2026-11-26", "400006", "Mumbai", "insurance", "offline", "AG40000601", 52, 64000, "F-1"]
BAD = ["2026-11-26", "400006", "Mumbai", "insurance", "carrier pigeon", None, 52, -5, "F-2"]


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in [SALE_FIELDS, *rows]:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


@pytest.mark.parametrize("name, body", [
    ("branch sales.xlsx", xlsx([GOOD, BAD])),
    ("branch sales.csv", ("\n".join(",".join("" if v is None else str(v) for v in row)
                                     for row in [SALE_FIELDS, GOOD, BAD]) + "\n").encode()),
])
def test_a_dropped_sales_file_is_ingested_with_a_report_once(aws, demand, name, body):
    key = f"ingest/demand/sales/{name}"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=body)
    event = s3_notification_event("demand_ingest", "s3-sales-file", aws["DATA_BUCKET"], key)

    assert load_handler("demand_ingest").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    report = json.loads(client("s3").get_object(Bucket=aws["DATA_BUCKET"],
                                                Key=f"ingest/demand/reports/{name}.json")["Body"].read())
    assert (report["rows"], report["inserted_count"]) == (2, 1)
    (invalid,) = report["invalid_records"]
    assert invalid["row"] == 2 and set(invalid["fields"]) == {"channel", "customer_income"}
    # The same file delivered again is skipped; the API sees the sale as already stored.
    assert load_handler("demand_ingest").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    sale = dict(zip(SALE_FIELDS, GOOD))
    assert call("sales", [sale])[1]["duplicate_count"] == 1


def test_a_dropped_demand_file_is_scored_with_its_manifest(aws, demand, monkeypatch):
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    pincode = known_pincodes(demand)[0]
    rows = [{"branch": "B1", "pincode": pincode, "product": "loan", "channel": "online"},
            {"branch": "B2", "pincode": "400999", "product": "credit_card", "channel": "offline"},
            {"branch": "B3", "pincode": pincode, "product": "gold", "channel": "online"}]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["branch", "pincode", "product", "channel"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    key = "incoming/demand/weekly plan.csv"
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=text.getvalue().encode())

    event = s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key)
    assert load_handler("batch_score").lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    prefix = "scored/demand/weekly plan.csv/"
    def read(name: str) -> str:
        return client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=prefix + name)["Body"].read().decode()

    manifest = json.loads(read("_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (3, 2, 1)
    scored = list(csv.DictReader(io.StringIO(read("scored.csv"))))
    assert [row["branch"] for row in scored] == ["B1", "B2"]
    assert [row["basis"] for row in scored] == ["pincode", "city"]
    single = call("predict", [{"pincode": pincode, "product": "loan", "channel": "online"}])[1]["results"][0]
    assert float(scored[0]["predicted_demand"]) == single["predicted_demand"]
