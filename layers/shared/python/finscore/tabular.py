"""The one tabular reader: CSV, JSON Lines (or a JSON array) and Parquet read into rows with their
numbers, and written back in the same format. Batch scoring, file ingest and training all read here.

Row numbers are what a user finds in their file: for CSV the record after the header is row 1 (one
record per line: a value may not hold a line break); for JSON Lines a row is its line number (blank
lines are skipped but keep their number); for Parquet the n-th row of the file is row n. A chunk of a
file is numbered from 1 too, and the join adds the lines of the chunks before it.

CSV is parsed by pyarrow's C++ reader in line-aligned blocks on every core, with every column read as
text so that input values are written back exactly as they came and one bad value fails its row, not
the file. Rows with the wrong number of fields are rejected here; values are the products' business.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from finscore.records import RowReject

CSV, JSON_LINES, PARQUET = "csv", "jsonl", "parquet"
SUFFIXES = {".csv": CSV, ".jsonl": JSON_LINES, ".ndjson": JSON_LINES, ".json": JSON_LINES,
            ".parquet": PARQUET, ".pq": PARQUET}
OUTPUT_NAMES = {CSV: "scored.csv", JSON_LINES: "scored.jsonl", PARQUET: "scored.parquet"}
CONTENT_TYPES = {CSV: "text/csv", JSON_LINES: "application/x-ndjson", PARQUET: "application/vnd.apache.parquet"}
# Below this a CSV is parsed in one block: splitting costs more than it saves.
PARALLEL_CSV_BYTES = 4 * 1024 * 1024


class UnsupportedFile(ValueError):
    """The whole file cannot be read: its format, encoding or header."""


@dataclass
class Rows:
    """Rows read from a file or chunk: a table (CSV, Parquet) or decoded records (JSON Lines), each with
    its row number, plus the rows that could not be parsed and how many lines the source held."""

    fmt: str
    numbers: np.ndarray
    lines: int
    table: pa.Table | None = None
    records: list[dict[str, Any]] | None = None
    rejects: list[RowReject] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.numbers)

    @property
    def column_names(self) -> list[str]:
        if self.table is not None:
            return list(self.table.column_names)
        names: dict[str, None] = {}
        for record in self.records or ():
            names.update(dict.fromkeys(record))
        return list(names)

    def column(self, name: str) -> pa.ChunkedArray | list[Any]:
        """A column as an Arrow array (table) or a list of Python values (records; absent -> None)."""
        if self.table is not None:
            return self.table.column(name)
        return [record.get(name) for record in self.records or ()]

    def as_records(self) -> list[dict[str, Any]]:
        return self.records if self.records is not None else self.table.to_pylist()


def file_format(key: str) -> str:
    suffix = os.path.splitext(key.lower())[1]
    if suffix not in SUFFIXES:
        raise UnsupportedFile(f"file: unsupported format {suffix or '(none)'}; use .csv, .jsonl or .parquet")
    return SUFFIXES[suffix]


def split_header(body: bytes) -> tuple[bytes, bytes]:
    """A CSV's header line (with its line break) and the rest."""
    end = body.find(b"\n")
    return (body, b"") if end < 0 else (body[:end + 1], body[end + 1:])


def header_names(header: bytes) -> list[str]:
    try:
        text = header.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedFile("file: the header is not UTF-8 text") from exc
    names = [name.strip() for name in next(csv.reader([text]), [])]
    if not names or not any(names):
        raise UnsupportedFile("file: no header row")
    if len(set(names)) != len(names):
        raise UnsupportedFile("file: the header names a column twice")
    return names


def line_count(body: bytes | memoryview) -> int:
    """Lines in BODY: line breaks, plus one for a last line without one."""
    data = bytes(body) if isinstance(body, memoryview) else body
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def line_ranges(body: bytes, start: int, parts: int) -> list[tuple[int, int]]:
    """BODY[START:] cut into about PARTS byte ranges, each ending just after a line break (or at the end)."""
    size = len(body) - start
    step = max(size // max(parts, 1), 1)
    ranges, begin = [], start
    while begin < len(body):
        nominal = begin + step
        end = len(body) if nominal >= len(body) else body.find(b"\n", nominal - 1)
        end = len(body) if end < 0 or nominal >= len(body) else end + 1
        ranges.append((begin, end))
        begin = end
    return ranges


def read_csv_block(names: Sequence[str], block: bytes | memoryview) -> Rows:
    """Rows of a headerless CSV block; every column as text; rows with the wrong field count rejected."""
    lines = line_count(block)
    if lines == 0:
        return Rows(CSV, np.empty(0, np.int64), 0, table=pa.table({name: pa.array([], pa.string()) for name in names}))
    invalid: list[RowReject] = []

    def reject(row: pa_csv.InvalidRow) -> str:
        problem = "more fields than the header has columns" if row.actual_columns > row.expected_columns \
            else "fewer fields than the header has columns"
        # Single-threaded parsing numbers rows by physical line; the block has no header line.
        invalid.append(RowReject(int(row.number), f"row: {problem}"))
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(block)),
            read_options=pa_csv.ReadOptions(column_names=list(names), use_threads=False, block_size=1 << 26),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=reject, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        raise UnsupportedFile(f"file: not readable as CSV ({exc})") from exc
    bad = np.fromiter((reject.row for reject in invalid), dtype=np.int64, count=len(invalid))
    numbers = np.setdiff1d(np.arange(1, lines + 1, dtype=np.int64), bad, assume_unique=True)
    if len(numbers) != table.num_rows:
        raise UnsupportedFile("file: a quoted value spans lines; put one record on each line")
    return Rows(CSV, numbers, lines, table=table, rejects=invalid)


def read_csv(body: bytes, names: Sequence[str] | None = None) -> Rows:
    """A CSV with its header (NAMES None) or a headerless chunk of one, parsed on every core."""
    start = 0
    if names is None:
        header, _ = split_header(body)
        names, start = header_names(header), len(header)
    view = memoryview(body)
    workers = os.cpu_count() or 1
    if len(body) - start < PARALLEL_CSV_BYTES or workers == 1:
        return read_csv_block(names, view[start:])
    ranges = line_ranges(body, start, workers)
    # pyarrow parses outside the GIL, so threads give real parallelism and keep the numbering exact.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        blocks = list(pool.map(lambda span: read_csv_block(names, view[span[0]:span[1]]), ranges))
    return concat_rows(CSV, blocks)


def concat_rows(fmt: str, blocks: Sequence[Rows]) -> Rows:
    """Consecutive blocks of one source as one, their row numbers made continuous."""
    offset, numbers, rejects = 0, [], []
    for block in blocks:
        numbers.append(block.numbers + offset)
        rejects += [RowReject(reject.row + offset, reject.reason) for reject in block.rejects]
        offset += block.lines
    tables = [block.table for block in blocks if block.table is not None]
    records = None if tables else [record for block in blocks for record in block.records or ()]
    return Rows(fmt, np.concatenate(numbers) if numbers else np.empty(0, np.int64), offset,
                table=pa.concat_tables(tables) if tables else None, records=records, rejects=rejects)


def read_json_lines(body: bytes) -> Rows:
    """One JSON object per line (or one JSON array of objects); a line that is not one is rejected with
    its number (an array's element by its position)."""
    if body.lstrip()[:1] == b"[":
        array = _json_array(body)
        if array is not None:
            return array
    records, numbers, rejects = [], [], []
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            rejects.append(RowReject(number, f"row: not valid JSON ({getattr(exc, 'msg', 'not UTF-8')})"))
            continue
        if not isinstance(record, dict):
            rejects.append(RowReject(number, "row: not a JSON object"))
            continue
        records.append(record)
        numbers.append(number)
    return Rows(JSON_LINES, np.asarray(numbers, dtype=np.int64), len(lines), records=records, rejects=rejects)


def _json_array(body: bytes) -> Rows | None:
    """A file holding one JSON array of objects, or None when the body is not one JSON array."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(document, list):
        return None
    records, numbers, rejects = [], [], []
    for number, record in enumerate(document, start=1):
        if isinstance(record, dict):
            records.append(record)
            numbers.append(number)
        else:
            rejects.append(RowReject(number, "row: not a JSON object"))
    return Rows(JSON_LINES, np.asarray(numbers, dtype=np.int64), len(document), records=records, rejects=rejects)


def read_parquet(source: Any, row_groups: Sequence[int] | None = None) -> Rows:
    """A Parquet file (bytes or a seekable file), or only ROW_GROUPS of it."""
    try:
        parquet = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, (bytes, memoryview)) else source)
        table = parquet.read_row_groups(list(row_groups)) if row_groups is not None else parquet.read()
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnsupportedFile(f"file: not readable as Parquet ({exc})") from exc
    return Rows(PARQUET, np.arange(1, table.num_rows + 1, dtype=np.int64), table.num_rows, table=table)


def read_file(key: str, body: bytes) -> Rows:
    """A whole file, its format told by its name; UnsupportedFile when it cannot be read at all. Excel
    workbooks (.xlsx) are read too: files people export by hand are taken in (ingest, training data),
    though batch scoring, which writes its output in the input's format, keeps to FORMATS."""
    suffix = os.path.splitext(key.lower())[1]
    if suffix == EXCEL_SUFFIX:
        return read_excel(body)
    if suffix not in SUFFIXES:
        raise UnsupportedFile(f"file: unsupported format {suffix or '(none)'}; use .csv, .jsonl, .parquet or .xlsx")
    return read_rows(file_format(key), body)


EXCEL, EXCEL_SUFFIX = "xlsx", ".xlsx"


def _cell(value: Any) -> Any:
    """A worksheet cell as the value a text file would hold: a whole number without its '.0', a
    midnight datetime as its ISO date, empty as absent."""
    import datetime as dt

    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and not value.strip():
        return None
    return value


def read_excel(body: bytes) -> Rows:
    """The first worksheet of an .xlsx workbook: a header row, then one record per row, numbered from 1
    after the header as in a CSV; empty rows are skipped but keep their number."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(body), read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and XML errors for a damaged workbook
        raise UnsupportedFile(f"file: not readable as an Excel workbook ({type(exc).__name__})") from exc
    names = [str(name).strip() if name is not None else "" for name in header or ()]
    if not any(names):
        raise UnsupportedFile("file: no header row")
    if len(set(name for name in names if name)) != len([name for name in names if name]):
        raise UnsupportedFile("file: the header names a column twice")
    records, numbers, lines = [], [], 0
    for number, values in enumerate(rows, start=1):
        lines = number
        record = {name: _cell(value) for name, value in zip(names, values) if name and _cell(value) is not None}
        if record:
            records.append(record)
            numbers.append(number)
    return Rows(EXCEL, np.asarray(numbers, dtype=np.int64), lines, records=records)


def read_rows(fmt: str, body: bytes, csv_names: Sequence[str] | None = None) -> Rows:
    if fmt == CSV:
        return read_csv(body, csv_names)
    if fmt == JSON_LINES:
        return read_json_lines(body)
    return read_parquet(body)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_rows(rows: Rows, keep: np.ndarray, outputs: Mapping[str, pa.Array], *, header: bool = True) -> bytes:
    """The kept input rows joined with the output columns, in the input's format."""
    if rows.fmt == JSON_LINES:
        kept = [record for record, flag in zip(rows.records or (), keep.tolist()) if flag]
        columns = {name: array.to_pylist() for name, array in outputs.items()}
        lines = []
        for index, record in enumerate(kept):
            scored = {**record, **{name: _json_value(values[index]) for name, values in columns.items()}}
            lines.append(json.dumps(scored, ensure_ascii=False, separators=(",", ":")))
        return ("\n".join(lines) + "\n").encode() if lines else b""
    table = rows.table.filter(pa.array(keep)) if not keep.all() else rows.table
    for name, array in outputs.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, array)
    sink = io.BytesIO()
    if rows.fmt == CSV:
        if header:
            # pyarrow quotes every header name; a header as users write it quotes only where needed.
            line = io.StringIO()
            csv.writer(line, lineterminator="\n").writerow(table.column_names)
            sink.write(line.getvalue().encode())
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    else:
        pq.write_table(table, sink)
    return sink.getvalue()


def rejects_csv(rejects: Sequence[RowReject], *, header: bool = True) -> bytes:
    """Rejects as CSV: row,reason."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    if header:
        writer.writerow(["row", "reason"])
    writer.writerows((reject.row, reject.reason) for reject in rejects)
    return text.getvalue().encode()
