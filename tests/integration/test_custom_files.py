"""A custom model trained from a user's files in the (moto) data bucket: every format read, dirty rows
rejected by file and row, the version published, registered and promoted, and served from the store."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products.custom.definition import CustomDefinition
from finscore.products.custom.model import CustomModel
from finscore.s3 import Bucket
from tests.custom_tables import credit_table
from training.custom import CustomTableError, train_custom_model
from training.pipeline import TrainingDataError

DEFINITION = CustomDefinition(name="credit", target="default", task="binary", id_column="customer_id",
                              monotone={"credit_score": -1})
PREFIX = DEFINITION.data_prefix


def csv_bytes(records) -> bytes:
    names = list(dict.fromkeys(name for record in records for name in record))
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({name: "" if record.get(name) is None else record[name] for name in names} for record in records)
    return sink.getvalue().encode()


def xlsx_bytes(records) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    names = list(records[0])
    sheet.append(names)
    for record in records:
        sheet.append([record.get(name) for name in names])
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


@pytest.fixture
def files(aws):
    """The credit table in four files (CSV, JSON Lines, Parquet, Excel), two CSV rows dirty."""
    records = credit_table(3_000, seed=21)
    records[4]["default"] = "maybe"
    records[7]["income"] = "lots"
    bucket = Bucket(aws["DATA_BUCKET"])
    bucket.write(f"{PREFIX}part-1.csv", csv_bytes(records[:1_800]))
    bucket.write(f"{PREFIX}part-2.jsonl", "\n".join(json.dumps(record) for record in records[1_800:2_600]).encode())
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(records[2_600:2_950]), parquet)
    bucket.write(f"{PREFIX}part-3.parquet", parquet.getvalue())
    bucket.write(f"{PREFIX}part-4.xlsx", xlsx_bytes(records[2_950:]))
    return records


def run(aws, **options):
    return train_custom_model(DEFINITION, data_bucket=aws["DATA_BUCKET"], store=ModelStore(aws["MODELS_BUCKET"]),
                              registry=ModelRegistry(aws["REGISTRY_TABLE"]), **options)


def test_a_users_files_become_a_registered_champion(aws, files):
    trained = run(aws)

    result = trained.result
    assert result.registered and result.promoted, result.decision
    registry, store = ModelRegistry(aws["REGISTRY_TABLE"]), ModelStore(aws["MODELS_BUCKET"])
    assert registry.champion_version("custom-credit") == result.manifest.version
    manifest = store.read_manifest("custom-credit", result.manifest.version)
    store.verify(manifest)
    assert {"model.onnx", "model_card.json", "model_card.md", "baseline.json", "fitted_rows.json"} <= set(
        manifest.artifacts)
    assert manifest.artifacts["model_card.md"].format == "markdown"
    assert manifest.training_data.rows == 2_998 and manifest.training_data.split["rejected"] == 2
    assert all(key in manifest.training_data.reference for key in ("part-1.csv", "part-3.parquet", "part-4.xlsx"))
    # The rejected rows by file and by the row number the user sees in it.
    rejects = {(reject.source.rsplit("/", 1)[-1], reject.row): reject.reason for reject in trained.rejects}
    assert set(rejects) == {("part-1.csv", 5), ("part-1.csv", 8)}
    assert "not one of the two classes" in rejects[("part-1.csv", 5)] and "income" in rejects[("part-1.csv", 8)]
    card = json.loads(store.read_artifact(manifest, "model_card.json"))
    assert [(reject["file"].rsplit("/", 1)[-1], reject["row"]) for reject in card["data"]["rejects"]] == [
        ("part-1.csv", 5), ("part-1.csv", 8)]
    assert card["data"]["rows"] == {"in": 3_000, "rejected": 2, "used": 2_998, "train": 2_099, "validation": 450,
                                    "test": 449}


def test_the_champion_scores_from_the_store_with_reasons(aws, files):
    manifest = run(aws).result.manifest
    store = ModelStore(aws["MODELS_BUCKET"])
    model = CustomModel.load(manifest, lambda name: store.read_artifact(manifest, name))
    records = [{key: value for key, value in record.items() if key != "default"} for record in files[:5]]
    records.append({"customer_id": "new", "credit_score": 9_999, "employment": "astronaut"})

    issues = model.schema.record_issues(records)
    good = [record for row, record in enumerate(records) if row not in issues]
    matrix = model.schema.matrix(good)
    outputs = model.predict(matrix)

    assert list(issues) == [5] and issues[5][0].field == "credit_score"
    assert outputs["probability"].shape == (5,) and ((outputs["probability"] > 0) & (outputs["probability"] < 1)).all()
    assert outputs["decision"].dtype == bool
    assert all(1 <= len(reasons) <= 4 for reasons in model.reasons(matrix, good))


def test_a_second_run_meets_the_promotion_gate_on_rows_neither_version_fitted(aws, files):
    first = run(aws).result
    second = run(aws, seed=8).result

    assert second.registered and second.gate is not None
    assert second.gate.champion_version == first.manifest.version
    assert "held-out rows" in second.decision


def test_no_files_is_a_clear_error(aws):
    with pytest.raises(TrainingDataError, match="no files under"):
        run(aws)


def test_a_table_without_the_target_fails_with_its_reasons(aws):
    Bucket(aws["DATA_BUCKET"]).write(f"{PREFIX}table.csv", csv_bytes([{"a": i, "b": i % 3} for i in range(200)]))

    with pytest.raises(CustomTableError) as refused:
        run(aws)

    assert refused.value.reasons[0] == "target: column 'default' is not in the table"
    assert "the table's columns: a, b" in refused.value.reasons
