"""Users' training data from s3://<data bucket>/training/<product>/: CSV, JSON Lines or Parquet files.

Every row is accounted for: it becomes a training record or a reject naming its file, row number
and reason (rows the tabular reader cannot parse here; rows the product's own validation refuses
later, mapped back through `origins`). A product whose data spans several tables (risk: customers,
transactions and labels) joins its files with its trainer's `assemble(files)` hook; every other
product reads one record per row from all its files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from finscore.records import RowReject
from finscore.s3 import Bucket
from finscore.tabular import UnsupportedFile, read_file

TRAINING_PREFIX = "training/"
# Reports go beside the training files, never under training/<product>/, so they are never read as data.
REPORTS_PREFIX = "training-reports/"


@dataclass
class TrainingFile:
    """One file's parsed rows, each with its row number, and the rows that could not be parsed."""

    key: str
    rows: list[Mapping[str, Any]]
    numbers: list[int]
    rejects: list[RowReject]

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1].lower()


@dataclass
class TrainingData:
    records: list[Any]
    # (file, row) of each record, for mapping the product's rejects back to their source rows.
    origins: list[tuple[str, int]]
    files: list[str]
    rejects: list[RowReject] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return ",".join(self.files)


def read_training_file(key: str, body: bytes) -> TrainingFile:
    try:
        rows = read_file(key, body)
    except UnsupportedFile as exc:
        return TrainingFile(key, [], [], [RowReject(0, str(exc), key)])
    rejects = [RowReject(reject.row, reject.reason, key) for reject in rows.rejects]
    return TrainingFile(key, rows.as_records(), rows.numbers.tolist(), rejects)


def files_by_table(files: Sequence[TrainingFile], tables: Sequence[str], data: TrainingData) -> dict[str, list[TrainingFile]]:
    """FILES grouped by the first of TABLES their name starts with (for products whose data spans
    several tables); parse rejects, and every row of a file no table claims, go into DATA's rejects."""
    grouped: dict[str, list[TrainingFile]] = {table: [] for table in tables}
    for file in files:
        data.rejects += file.rejects
        table = next((name for name in tables if file.name.startswith(name)), None)
        if table is None:
            data.rejects += [RowReject(number, f"file: name must start with one of {', '.join(tables)}", file.key)
                             for number in file.numbers]
        else:
            grouped[table].append(file)
    return grouped


def one_record_per_row(files: Sequence[TrainingFile]) -> TrainingData:
    data = TrainingData(records=[], origins=[], files=[file.key for file in files])
    for file in files:
        data.records += file.rows
        data.origins += [(file.key, number) for number in file.numbers]
        data.rejects += file.rejects
    return data


def load_training_data(bucket: str, product: str,
                       assemble: Callable[[Sequence[TrainingFile]], TrainingData] | None = None) -> TrainingData | None:
    """The product's files as training records, or None when there are none."""
    objects = Bucket(bucket)
    keys = sorted(objects.keys(f"{TRAINING_PREFIX}{product}/"))
    if not keys:
        return None
    files = [read_training_file(key, objects.read(key)[0]) for key in keys]
    data = (assemble or one_record_per_row)(files)
    data.files = [f"s3://{bucket}/{key}" for key in keys]
    return data


def row_rejects(data: TrainingData, product_rejects: Sequence[RowReject]) -> list[RowReject]:
    """Parse rejects plus the product's validation rejects (record index -> file and row)."""
    mapped = [RowReject(data.origins[r.row][1], r.reason, data.origins[r.row][0])
              for r in product_rejects if 0 <= r.row < len(data.origins)]
    return sorted(data.rejects + mapped, key=lambda r: (r.source or "", r.row))


def write_rejects_report(bucket: str, product: str, run_id: str, rejects: Sequence[RowReject],
                         summary: Mapping[str, Any]) -> str:
    """training-reports/<product>/<run id>.json: the run's summary and every rejected row."""
    key = f"{REPORTS_PREFIX}{product}/{run_id}.json"
    Bucket(bucket).write_json(key, {**summary, "rejects": [
        {"file": r.source, "row": r.row, "reason": r.reason} for r in rejects]})
    return key
