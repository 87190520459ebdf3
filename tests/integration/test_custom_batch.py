"""A custom model's batch files: incoming/custom/<name>/<file> scored into scored/custom/<name>/<file>/ by the
model's champion, each row checked as the API checks a record, every row accounted for."""

from __future__ import annotations

import csv
import io
import json

from finscore.batch import pipeline
from finscore.batch import scoring as batch_scoring
from finscore.s3 import Bucket
from tests.custom_tables import credit_table
from tests.handlers import FakeContext, load_handler, s3_notification_event
from tests.integration.test_custom_api import call
from tests.integration.test_custom_files import csv_bytes


def score_file(aws, key: str, body: bytes) -> tuple[dict, list[dict], dict[int, str]]:
    batch_scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    bucket = Bucket(aws["DATA_BUCKET"])
    bucket.write(key, body)
    load_handler("batch_score").lambda_handler(
        s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key), FakeContext())
    prefix = "scored/" + key.removeprefix("incoming/") + "/"
    manifest = json.loads(bucket.read(prefix + "_manifest.json")[0])
    scored = manifest.get("outputs", {}).get("scored")
    rows = list(csv.DictReader(io.StringIO(bucket.read(scored)[0].decode()))) if scored else []
    rejects = {int(row["row"]): row["reason"]
               for row in csv.DictReader(io.StringIO(bucket.read(prefix + "rejects.csv")[0].decode()))}
    return manifest, rows, rejects


def test_a_file_is_scored_as_the_api_scores_its_records(aws, credit_model, monkeypatch):
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    records = credit_table(60, seed=99)
    for record in records:
        record.pop("default")
    records[3]["age"] = "forty"              # row 4: not a number
    records[7]["application_date"] = "1890-01-01"  # row 8: far outside the training dates
    manifest, rows, rejects = score_file(aws, "incoming/custom/credit/october.csv", csv_bytes(records))

    assert manifest["rows_in"] == 60 and manifest["scored"] == 58 and manifest["rejected"] == 2, manifest
    assert manifest["model_version"] == call("describe")[1]["champion_version"]
    assert set(rejects) == {4, 8} and "age" in rejects[4] and "application_date" in rejects[8]
    assert {"probability", "decision", "model_version", "customer_id", "notes"} <= set(rows[0])
    # The same records through the API get the same probabilities.
    good = [record for index, record in enumerate(records) if index not in (3, 7)]
    status, answer = call("score", {"records": good[:10]})
    assert status == 200
    for row, result in zip(rows[:10], answer["results"]):
        assert row["customer_id"] == result["id"]
        assert abs(float(row["probability"]) - result["probability"]) < 1e-6


def test_a_file_for_an_unknown_custom_model_is_reported_not_lost(aws, trainer, monkeypatch):
    monkeypatch.delenv("BATCH_STATE_MACHINE_ARN", raising=False)
    batch_scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    key = "incoming/custom/nobody/file.csv"
    Bucket(aws["DATA_BUCKET"]).write(key, b"a,b\n1,2\n")
    load_handler("batch_score").lambda_handler(
        s3_notification_event("batch_score", "s3-put-risk-csv", aws["DATA_BUCKET"], key), FakeContext())

    manifest = json.loads(Bucket(aws["DATA_BUCKET"]).read("scored/custom/nobody/file.csv/_manifest.json")[0])
    assert manifest["scored"] == 0 and "custom-nobody" in json.dumps(manifest)
