"""Files dropped under incoming/<product>/: the batch_score handler fed SQS-wrapped S3 events under moto."""

from __future__ import annotations

import copy
import csv
import io
import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finscore.aws import client
from finscore.batch import pipeline, scoring
from finscore.products.risk.features import FEATURE_NAMES, FEATURES
from finscore.products.risk.repository import CustomerStore
from finscore.observability import logger
from tests.conftest import promote_candidate
from tests.handlers import FakeContext, load_event, load_handler, s3_event, s3_notification_event, seed_product

FUNCTION = "batch_score"


@pytest.fixture
def batch(aws, monkeypatch):
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    yield aws
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()


def risk_rows(count: int, seed: int = 5) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        row = {"customer_id": f"C{index + 1:06d}"}
        for spec in FEATURES:  # anywhere in the feature's domain
            low, high = spec.minimum or 0.0, min(spec.maximum if spec.maximum is not None else 5.0, 5.0)
            if spec.type in ("int", "bool"):
                row[spec.name] = int(rng.integers(int(low), int(high if spec.type == "int" else 1) + 1))
            else:
                row[spec.name] = round(float(rng.uniform(low, high)), 3)
        rows.append(row)
    return rows


def csv_text(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def put(aws, key: str, body: bytes) -> None:
    client("s3").put_object(Bucket=aws["DATA_BUCKET"], Key=key, Body=body)


def get(aws, key: str) -> bytes:
    return client("s3").get_object(Bucket=aws["DATA_BUCKET"], Key=key)["Body"].read()


def keys_under(aws, prefix: str) -> dict[str, str]:
    listing = client("s3").list_objects_v2(Bucket=aws["DATA_BUCKET"], Prefix=prefix).get("Contents", [])
    return {item["Key"]: item["ETag"] for item in listing}


def notification(aws, key: str, case: str = "s3-put-risk-csv") -> dict:
    return s3_notification_event(FUNCTION, case, aws["DATA_BUCKET"], key)


def run(event: dict) -> dict:
    return load_handler(FUNCTION).lambda_handler(event, FakeContext())


def rejects_of(aws, prefix: str) -> dict[int, str]:
    reader = csv.DictReader(io.StringIO(get(aws, prefix + "rejects.csv").decode()))
    return {int(row["row"]): row["reason"] for row in reader}


COLUMNS = ["customer_id", *FEATURE_NAMES]


def bad_risk_csv() -> str:
    rows = risk_rows(8)
    rows[2]["salary_delay_days"] = "abc"      # row 3: not a number
    rows[4]["tenure_months"] = ""             # row 5: missing
    text = csv_text(rows, COLUMNS).splitlines()
    text.insert(7, "C999,1,2")                # row 7: too few fields; rows 7.. shift by one
    return "\n".join(text) + "\n"


def test_a_risk_csv_scores_good_rows_and_lists_every_bad_one(batch, risk_champion):
    key = "incoming/risk/branch scores 2025-07.csv"
    put(batch, key, bad_risk_csv().encode())

    assert run(notification(batch, key)) == {"batchItemFailures": []}

    prefix = "scored/risk/branch scores 2025-07.csv/"
    manifest = json.loads(get(batch, prefix + "_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (9, 6, 3)
    assert manifest["model_version"] == risk_champion.version and manifest["etag"]
    rejects = rejects_of(batch, prefix)
    assert sorted(rejects) == [3, 5, 7]
    assert "salary_delay_days: Input should be a valid number" in rejects[3]
    assert "missing tenure_months" in rejects[5]
    assert "fewer fields" in rejects[7]
    scored = list(csv.DictReader(io.StringIO(get(batch, prefix + "scored.csv").decode())))
    assert [row["customer_id"] for row in scored] == ["C000001", "C000002", "C000004", "C000006", "C000007",
                                                      "C000008"]
    assert {row["model_version"] for row in scored} == {risk_champion.version}
    assert all(row["risk_level"] in ("low", "medium", "high", "critical") for row in scored)
    assert all(0.0 <= float(row["risk_score"]) <= 100.0 for row in scored)


def scored_file(aws, key: str, body: bytes) -> tuple[list[dict], dict[int, str], dict]:
    put(aws, key, body)
    assert run(notification(aws, key)) == {"batchItemFailures": []}
    prefix = f"scored/{key.removeprefix('incoming/')}/"
    return (list(csv.DictReader(io.StringIO(get(aws, prefix + "scored.csv").decode()))), rejects_of(aws, prefix),
            json.loads(get(aws, prefix + "_manifest.json")))


@pytest.fixture(scope="module")
def xgboost_risk_candidate():
    """The quick risk model with XGBoost as its only candidate (the quick default picks LightGBM, whose
    version batch leaves to ONNX)."""
    from finscore.products import product
    from training.pipeline import build_candidate

    quick = product("risk").quick_training
    return build_candidate("risk", rows=quick["rows"], seed=quick["seed"], progress=False,
                           config={**quick["config"], "algorithms": ["xgboost"]})


def test_the_native_booster_scores_a_file_as_onnx_does_and_rejects_the_same_rows(batch, xgboost_risk_candidate,
                                                                                  monkeypatch):
    risk_champion = promote_candidate(batch, xgboost_risk_candidate)
    rows = risk_rows(400, seed=9)
    rows[10]["salary_delay_days"] = "abc"
    rows[20]["tenure_months"] = ""
    body = csv_text(rows, COLUMNS).encode()
    from finscore.models.native import NativeProbability

    natively = scored_file(batch, "incoming/risk/native.csv", body)
    assert isinstance(scoring.champion("risk").get().model.trees, NativeProbability)
    scoring.reset_models()
    monkeypatch.setitem(sys.modules, "xgboost", None)  # an image without the boosters: ONNX scores
    by_onnx = scored_file(batch, "incoming/risk/onnx.csv", body)
    assert not isinstance(scoring.champion("risk").get().model.trees, NativeProbability)

    (native_rows, native_rejects, native_manifest), (onnx_rows, onnx_rejects, onnx_manifest) = natively, by_onnx
    assert native_rejects == onnx_rejects and sorted(native_rejects) == [11, 21]
    assert [(m["rows_in"], m["scored"], m["model_version"]) for m in (native_manifest, onnx_manifest)] == \
        [(400, 398, risk_champion.version)] * 2
    assert [row["customer_id"] for row in native_rows] == [row["customer_id"] for row in onnx_rows]
    rule = risk_champion.parity
    levels = np.mean([a["risk_level"] == b["risk_level"] for a, b in zip(native_rows, onnx_rows)])
    assert levels >= rule.min_label_agreement
    gaps = np.abs([float(a["probability"]) - float(b["probability"]) for a, b in zip(native_rows, onnx_rows)])
    assert gaps.max() <= rule.tolerance  # XGBoost and ONNX both split in float32


def test_risk_features_outside_their_domain_are_rejected_naming_field_and_range(batch, risk_champion):
    rows = risk_rows(6)
    rows[0]["salary_missed_months"] = 99     # row 1
    rows[1]["salaried"] = 7                  # row 2
    rows[2]["low_balance_share"] = -2        # row 3
    rows[3]["failed_auto_debits_90d"] = 1.5  # row 4
    rows[4]["tenure_months"] = 1e6           # row 5
    key = "incoming/risk/out of range.csv"
    put(batch, key, csv_text(rows, COLUMNS).encode())

    assert run(notification(batch, key)) == {"batchItemFailures": []}

    prefix = "scored/risk/out of range.csv/"
    manifest = json.loads(get(batch, prefix + "_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (6, 1, 5)
    rejects = rejects_of(batch, prefix)
    assert "salary_missed_months: Input should be less than or equal to 3" in rejects[1]
    assert "salaried: Input should be less than or equal to 1" in rejects[2]
    assert "low_balance_share: Input should be greater than or equal to 0" in rejects[3]
    assert "failed_auto_debits_90d: Input should be a valid integer" in rejects[4]
    assert "tenure_months: Input should be less than or equal to 600" in rejects[5]


def test_the_same_file_again_or_a_redelivered_event_adds_no_output(batch, risk_champion):
    key = "incoming/risk/branch scores 2025-07.csv"
    put(batch, key, bad_risk_csv().encode())
    run(notification(batch, key))
    before = keys_under(batch, "scored/")
    manifest = get(batch, "scored/risk/branch scores 2025-07.csv/_manifest.json")

    assert run(notification(batch, key, "s3-put-risk-csv-redelivered")) == {"batchItemFailures": []}
    put(batch, key, bad_risk_csv().encode())  # the same bytes put again: same ETag
    run(notification(batch, key))

    assert keys_under(batch, "scored/") == before
    assert get(batch, "scored/risk/branch scores 2025-07.csv/_manifest.json") == manifest


def test_jsonl_rows_are_scored_and_malformed_lines_numbered(batch, risk_champion):
    rows = risk_rows(5)
    rows[1]["emi_to_income"] = "high"  # JSON values must be numbers
    lines = [json.dumps(row) for row in rows]
    lines.insert(3, "{not json")
    lines.insert(4, "")
    key = "incoming/risk/stream.jsonl"
    put(batch, key, ("\n".join(lines) + "\n").encode())

    run(notification(batch, key))

    prefix = "scored/risk/stream.jsonl/"
    manifest = json.loads(get(batch, prefix + "_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (6, 4, 2)
    assert sorted(rejects_of(batch, prefix)) == [2, 4]
    scored = [json.loads(line) for line in get(batch, prefix + "scored.jsonl").decode().splitlines()]
    assert [row["customer_id"] for row in scored] == ["C000001", "C000003", "C000004", "C000005"]
    assert all(isinstance(row["risk_score"], float) and row["model_version"] == risk_champion.version
               for row in scored)


def test_parquet_in_parquet_out(batch, risk_champion):
    rows = risk_rows(6)
    table = pa.Table.from_pylist(rows)
    values = table.column("credit_utilisation").to_pylist()
    values[4] = None
    table = table.set_column(table.column_names.index("credit_utilisation"), "credit_utilisation",
                             pa.array(values, pa.float64()))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    key = "incoming/risk/portfolio.parquet"
    put(batch, key, sink.getvalue())

    run(notification(batch, key))

    prefix = "scored/risk/portfolio.parquet/"
    out = pq.read_table(io.BytesIO(get(batch, prefix + "scored.parquet")))
    assert out.num_rows == 5
    assert {"probability", "risk_score", "risk_level", "model_version", "customer_id"} <= set(out.column_names)
    assert rejects_of(batch, prefix) == {
        5: "features: give every feature or none (then customer_id): missing credit_utilisation"}


def test_a_risk_portfolio_rescore_by_customer_id_takes_the_stored_features(batch, risk_champion):
    # Given stored customers and a file of ids only (plus one unknown id and one row with neither)
    seed_product(batch, "risk", customers=20, seed=3, transactions_for=0)
    stored = CustomerStore(batch["RISK_CUSTOMERS_TABLE"]).get_many([f"C{n:06d}" for n in range(1, 4)])
    key = "incoming/risk/portfolio-ids.csv"
    put(batch, key, b"customer_id,branch\nC000001,P01\nC000002,P02\nC999999,P03\n,P04\nC000003,P05\n")

    run(notification(batch, key))

    # Then each known customer is scored from the feature store, as the API would score them
    prefix = "scored/risk/portfolio-ids.csv/"
    scored = {row["customer_id"]: row for row in csv.DictReader(io.StringIO(get(batch, prefix + "scored.csv").decode()))}
    assert sorted(scored) == ["C000001", "C000002", "C000003"]
    for customer_id, row in scored.items():
        assert float(row["risk_score"]) == stored[customer_id]["risk_score"]
        assert row["risk_level"] == stored[customer_id]["risk_level"] and row["branch"]
    assert rejects_of(batch, prefix) == {3: "customer_id: no such customer",
                                         4: "customer_id: required when a row carries no features"}


def test_recommend_profiles_are_validated_by_the_api_schema(batch, recommend_champion):
    profiles = [
        {"customer_id": "P1", "age": 30, "income": 75000, "employment_status": "employed", "credit_score": 720,
         "existing_products": "basic_checking", "monthly_spending": 2500, "savings_balance": 15000,
         "loan_amount": 0, "digital_engagement": 8, "spending_score": 65, "saving_frequency": 7, "loan_behavior": 2},
    ]
    profiles.append({**profiles[0], "customer_id": "P2", "age": 12})
    profiles.append({**profiles[0], "customer_id": "P3", "employment_status": "astronaut"})
    profiles.append({**profiles[0], "customer_id": "P4", "existing_products": ""})
    key = "incoming/recommend/profiles.csv"
    put(batch, key, csv_text(profiles, list(profiles[0])).encode())

    run(notification(batch, key))

    prefix = "scored/recommend/profiles.csv/"
    rejects = rejects_of(batch, prefix)
    assert sorted(rejects) == [2, 3]
    assert rejects[2].startswith("age:") and rejects[3].startswith("employment_status:")
    scored = list(csv.DictReader(io.StringIO(get(batch, prefix + "scored.csv").decode())))
    assert [row["customer_id"] for row in scored] == ["P1", "P4"]
    assert scored[0]["segment"] and scored[0]["model_version"] == recommend_champion.version
    assert "basic_checking" not in {value for name, value in scored[0].items() if name.endswith("_product")}


def test_unsupported_files_and_unknown_products_are_reported_not_retried(batch, risk_champion):
    put(batch, "incoming/risk/notes.txt", b"hello")
    put(batch, "incoming/astrology/stars.csv", b"a,b\n1,2\n")

    assert run(notification(batch, "incoming/risk/notes.txt")) == {"batchItemFailures": []}
    assert run(notification(batch, "incoming/astrology/stars.csv")) == {"batchItemFailures": []}

    assert "unsupported format" in json.loads(get(batch, "scored/risk/notes.txt/_manifest.json"))["error"]
    assert "astrology" in json.loads(get(batch, "scored/astrology/stars.csv/_manifest.json"))["error"]


def test_s3_test_event_is_ignored(batch):
    assert run(load_event(FUNCTION, "s3-test-event")) == {"batchItemFailures": []}


@pytest.mark.parametrize("case", ["s3-put-direct", "eventbridge-object-created"])
def test_s3s_own_event_and_eventbridges_are_scored_like_the_queued_one(batch, risk_champion, case):
    # Given the event S3 sends when it invokes the function (`sam local generate-event s3 put`), or EventBridge's
    key = "incoming/risk/branch scores 2025-07.csv"
    put(batch, key, bad_risk_csv().encode())

    result = run(s3_event(FUNCTION, case, batch["DATA_BUCKET"], key))

    manifest = json.loads(get(batch, "scored/risk/branch scores 2025-07.csv/_manifest.json"))
    assert (manifest["rows_in"], manifest["scored"], manifest["rejected"]) == (9, 6, 3)
    assert [processed["etag"] for processed in result["processed"]] == [manifest["etag"]]


def test_an_event_for_a_file_deleted_since_is_acknowledged_not_retried(batch, risk_champion):
    # Given the queued event of a file that was removed before it was scored
    result = run(notification(batch, "incoming/risk/removed before scoring.csv"))

    assert result["batchItemFailures"] == []
    assert keys_under(batch, "scored/") == {}


def test_a_message_that_is_no_s3_event_is_logged_and_dropped_while_a_transient_failure_is_retried(
        batch, monkeypatch):
    # Given a batch: a file that cannot be scored yet (no champion), a JSON message and a text message
    # that are no S3 events, and S3's test event
    key = "incoming/risk/early.csv"
    put(batch, key, csv_text(risk_rows(2), COLUMNS).encode())
    not_s3 = load_event(FUNCTION, "sqs-not-an-s3-event")["Records"][0]
    text = {**not_s3, "messageId": "text-message", "body": "hello"}
    event = {"Records": [notification(batch, key)["Records"][0], not_s3, text,
                         load_event(FUNCTION, "s3-test-event")["Records"][0]]}
    logged = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", logged)

    result = run(event)

    # Then only the file is retried; the others will never succeed and are logged with their reason
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    dropped = [json.loads(line) for line in logged.getvalue().splitlines() if "Unreadable message" in line]
    assert {(line["message_id"], line["reason"].split(":")[0]) for line in dropped} == {
        (not_s3["messageId"], "not an S3 event notification"), ("text-message", "not JSON, so not an S3 event notification")}


def test_without_a_champion_the_message_fails_and_is_retried(batch):
    key = "incoming/risk/early.csv"
    put(batch, key, csv_text(risk_rows(2), COLUMNS).encode())

    event = notification(batch, key)
    test_event = load_event(FUNCTION, "s3-test-event")
    event["Records"].append(test_event["Records"][0])

    result = run(event)

    assert [failure["itemIdentifier"] for failure in result["batchItemFailures"]] == [event["Records"][0]["messageId"]]
    assert keys_under(batch, "scored/") == {}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_fan_out_gives_the_same_output_as_the_single_path(batch, risk_champion, monkeypatch, suffix):
    rows = risk_rows(60, seed=9)
    for index in (3, 17, 31, 44, 58):
        rows[index]["balance_trend"] = "x" if suffix != ".parquet" else None
    if suffix == ".csv":
        body = csv_text(rows, COLUMNS).encode()
    elif suffix == ".jsonl":
        body = ("\n".join(json.dumps(row) for row in rows) + "\n").encode()
    else:
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), sink, row_group_size=7)
        body = sink.getvalue()
    put(batch, f"incoming/risk/single{suffix}", body)
    run(notification(batch, f"incoming/risk/single{suffix}"))

    monkeypatch.setenv("BATCH_FANOUT_BYTES", "100")
    monkeypatch.setenv("BATCH_CHUNK_BYTES", "700")
    scoring.reset_models()
    from finscore.settings import reset_settings
    reset_settings()
    put(batch, f"incoming/risk/fanned{suffix}", body)
    run(notification(batch, f"incoming/risk/fanned{suffix}"))

    single, fanned = f"scored/risk/single{suffix}/", f"scored/risk/fanned{suffix}/"
    fanned_manifest = json.loads(get(batch, fanned + "_manifest.json"))
    assert fanned_manifest["chunks"] > 3
    assert get(batch, fanned + "rejects.csv") == get(batch, single + "rejects.csv")
    assert sorted(rejects_of(batch, fanned)) == [4, 18, 32, 45, 59]
    assert get(batch, fanned + f"scored{suffix}") == get(batch, single + f"scored{suffix}") or suffix == ".parquet"
    if suffix == ".parquet":
        left = pq.read_table(io.BytesIO(get(batch, fanned + "scored.parquet")))
        right = pq.read_table(io.BytesIO(get(batch, single + "scored.parquet")))
        assert left.equals(right)
    assert set(keys_under(batch, fanned)) == {fanned + name for name in ("_manifest.json", "rejects.csv",
                                                                          f"scored{suffix}")}
    assert len([key for key in keys_under(batch, f"batch-parts/risk/fanned{suffix}/") if "manifest" in key]) \
        == fanned_manifest["chunks"]
    assert (fanned_manifest["rows_in"], fanned_manifest["scored"]) == (60, 55)


def _small_fanout(monkeypatch) -> None:
    from finscore.settings import reset_settings

    monkeypatch.setenv("BATCH_FANOUT_BYTES", "100")
    monkeypatch.setenv("BATCH_CHUNK_BYTES", "300")
    scoring.reset_models()
    reset_settings()


def test_a_large_file_starts_one_execution_however_often_it_is_delivered(batch, risk_champion, monkeypatch):
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(name="batch", definition='{"StartAt": "P", "States": {"P": {"Type": "Pass", '
                                   '"End": true}}}', roleArn="arn:aws:iam::123456789012:role/batch")["stateMachineArn"]
    monkeypatch.setenv("BATCH_STATE_MACHINE_ARN", arn)
    _small_fanout(monkeypatch)
    key = "incoming/risk/big file.csv"
    put(batch, key, csv_text(risk_rows(40), COLUMNS).encode())

    run(notification(batch, key))
    run(notification(batch, key, "s3-put-risk-csv-redelivered"))

    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1
    source = json.loads(sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])["source"]
    assert (source["key"], source["product"], source["name"]) == (key, "risk", "big file.csv")
    assert keys_under(batch, "scored/") == {}


def test_step_functions_tasks_plan_score_chunks_and_join(batch, risk_champion, monkeypatch):
    _small_fanout(monkeypatch)
    key = "incoming/risk/branch scores 2025-07.csv"
    put(batch, key, bad_risk_csv().encode())
    head = client("s3").head_object(Bucket=batch["DATA_BUCKET"], Key=key)
    plan_event = copy.deepcopy(load_event(FUNCTION, "step-plan"))
    plan_event["source"].update(bucket=batch["DATA_BUCKET"], etag=head["ETag"].strip('"'), size=head["ContentLength"])

    plan = run(plan_event)
    assert plan["job"]["model_version"] == risk_champion.version and len(plan["chunks"]) >= 2
    for chunk in plan["chunks"]:
        chunk_event = {**load_event(FUNCTION, "step-score-chunk"), "job": plan["job"], "chunk": chunk}
        assert run(chunk_event)["index"] == chunk["index"]
    join_event = {**load_event(FUNCTION, "step-join"), "job": plan["job"], "chunk_count": len(plan["chunks"])}
    summary = run(join_event)

    assert (summary["rows_in"], summary["scored"], summary["rejected"]) == (9, 6, 3)
    assert sorted(rejects_of(batch, "scored/risk/branch scores 2025-07.csv/")) == [3, 5, 7]
    # A retried plan after the join: nothing left to do.
    assert run(plan_event)["chunks"] == []


def test_a_failed_execution_leaves_a_manifest_saying_why_and_the_file_is_scored_when_put_again(
        batch, risk_champion, monkeypatch):
    _small_fanout(monkeypatch)
    key = "incoming/risk/branch scores 2025-07.csv"
    put(batch, key, bad_risk_csv().encode())
    head = client("s3").head_object(Bucket=batch["DATA_BUCKET"], Key=key)
    # The state machine's catch, after a chunk timed out for good
    failed = copy.deepcopy(load_event(FUNCTION, "step-record-failure"))
    failed["state"]["job"]["source"].update(bucket=batch["DATA_BUCKET"], etag=head["ETag"].strip('"'),
                                            size=head["ContentLength"])

    answer = run(failed)

    assert answer["reason"].startswith("scoring in chunks failed: Lambda.Unknown: The cause could not")
    manifest = json.loads(get(batch, "scored/risk/branch scores 2025-07.csv/_manifest.json"))
    assert manifest["error"] == answer["reason"] and manifest["retryable"] is True
    assert manifest["etag"] == head["ETag"].strip('"') and manifest["scored"] == 0
    assert rejects_of(batch, "scored/risk/branch scores 2025-07.csv/") == {0: answer["reason"]}
    # The same file again is scored, not skipped as done.
    plan_event = copy.deepcopy(load_event(FUNCTION, "step-plan"))
    plan_event["source"].update(bucket=batch["DATA_BUCKET"], etag=head["ETag"].strip('"'), size=head["ContentLength"])
    assert run(plan_event)["chunks"]
