"""The tabular reader: CSV in parallel blocks with exact row numbers, JSON Lines and arrays, Parquet, numbers from text."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finscore import tabular as formats
from finscore.batch.records import numeric_column
from finscore.tabular import UnsupportedFile, line_ranges, read_csv, read_file, read_json_lines, write_rows


def csv_body(rows: int, bad_every: int | None = None) -> bytes:
    lines = ["id,x,y"]
    for number in range(1, rows + 1):
        if bad_every and number % bad_every == 0:
            lines.append(f"{number},1")  # too few fields
        else:
            lines.append(f"{number},{number * 0.5},{'v' * (number % 7)}")
    return ("\n".join(lines) + "\n").encode()


def test_csv_rows_keep_their_numbers_when_parsed_in_parallel_blocks(monkeypatch):
    # Given blocks small enough that the file is split many times, and a bad row every 97 rows
    monkeypatch.setattr(formats, "PARALLEL_CSV_BYTES", 1)
    body = csv_body(2_000, bad_every=97)

    rows = read_csv(body)

    assert rows.lines == 2_000
    assert [reject.row for reject in rows.rejects] == list(range(97, 2_001, 97))
    assert all("fewer fields" in reject.reason for reject in rows.rejects)
    # The id column is the row number: every good row carries its own.
    assert rows.numbers.tolist() == [int(value) for value in rows.table.column("id").to_pylist()]
    assert rows.count + len(rows.rejects) == 2_000


def test_csv_values_come_back_exactly_as_written():
    body = b"id,x\n001,1.50\n002,  7 \n"
    rows = read_csv(body)
    out = write_rows(rows, np.array([True, True]), {"score": pa.array([0.25, 0.5])})
    assert out.decode().splitlines()[0] == "id,x,score"
    assert list(csv.reader(io.StringIO(out.decode()))) == [["id", "x", "score"], ["001", "1.50", "0.25"],
                                                           ["002", "  7 ", "0.5"]]


@pytest.mark.parametrize(("body", "message"), [
    (b"", "no header"),
    (b"a,a\n1,2\n", "twice"),
    (b'a,b\n"x\ny",1\n', "spans lines"),
])
def test_unreadable_csv_files_are_refused_whole(body, message):
    with pytest.raises(UnsupportedFile, match=message):
        read_csv(body)


def test_line_ranges_end_on_line_breaks_and_cover_everything():
    body = csv_body(500)
    header = body.index(b"\n") + 1
    ranges = line_ranges(body, header, 7)
    assert ranges[0][0] == header and ranges[-1][1] == len(body)
    assert all(end == begin for (_, end), (begin, _) in zip(ranges, ranges[1:]))
    assert all(body[end - 1:end] == b"\n" for _, end in ranges)


def test_json_lines_numbers_rows_by_line_and_rejects_non_objects():
    body = b'{"a": 1}\n\n[1, 2]\n{bad\n{"a": 2}\n'
    rows = read_json_lines(body)
    assert rows.numbers.tolist() == [1, 5]
    assert [(reject.row, reject.reason.split(" (")[0]) for reject in rows.rejects] == [
        (3, "row: not a JSON object"), (4, "row: not valid JSON")]
    assert rows.lines == 5


def test_numbers_from_text_report_missing_and_bad_values():
    column = pa.chunked_array([pa.array(["1.5", " 2 ", "", "abc", "1e3", "-.5"])])
    values, missing, bad = numeric_column(column)
    assert missing.tolist() == [False, False, True, False, False, False]
    assert bad.tolist() == [False, False, False, True, False, False]
    assert values[[0, 1, 4, 5]].tolist() == [1.5, 2.0, 1000.0, -0.5]


def test_json_values_must_be_numbers_as_in_the_api():
    values, missing, bad = numeric_column([1, 2.5, None, "3", True])
    assert missing.tolist() == [False, False, True, False, False]
    assert bad.tolist() == [False, False, False, True, True]
    assert values[:2].tolist() == [1.0, 2.5]


def test_parquet_output_keeps_input_types():
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2, 3], "x": [0.5, None, 2.0]}), sink)
    rows = formats.read_parquet(sink.getvalue())
    out = write_rows(rows, np.array([True, False, True]), {"score": pa.array([0.1, 0.3])})
    table = pq.read_table(io.BytesIO(out))
    assert table.column("id").type == pa.int64() and table.column("id").to_pylist() == [1, 3]
    assert table.column("score").to_pylist() == [0.1, 0.3]


def test_json_lines_output_merges_outputs_into_each_record():
    rows = read_json_lines(b'{"id": "a", "extra": [1]}\n{"id": "b"}\n')
    out = write_rows(rows, np.array([False, True]), {"score": pa.array([0.5])})
    assert [json.loads(line) for line in out.decode().splitlines()] == [{"id": "b", "score": 0.5}]


def test_file_format_by_suffix():
    assert formats.file_format("incoming/risk/a.CSV") == "csv"
    assert formats.file_format("incoming/risk/a.ndjson") == "jsonl"
    assert formats.file_format("incoming/risk/a.parquet") == "parquet"
    with pytest.raises(UnsupportedFile, match="unsupported format"):
        formats.file_format("incoming/risk/a.xlsx")


def test_a_csv_with_a_byte_order_mark_reads_its_header_and_numbers_rows_after_it():
    body = "\ufefftxn_id,amount\nT1,10\nT2\nT3,1,x\n".encode()

    rows = read_file("day.CSV", body)

    assert rows.numbers.tolist() == [1] and rows.as_records() == [{"txn_id": "T1", "amount": "10"}]
    assert [(reject.row, reject.reason.split(" than")[0]) for reject in rows.rejects] == [
        (2, "row: fewer fields"), (3, "row: more fields")]


def test_a_json_array_file_is_read_and_a_non_object_element_rejected_by_position():
    rows = read_file("day.json", b'[{"txn_id": "T1"}, 5, {"txn_id": "T3"}]')

    assert rows.numbers.tolist() == [1, 3] and [record["txn_id"] for record in rows.as_records()] == ["T1", "T3"]
    assert [(reject.row, reject.reason) for reject in rows.rejects] == [(2, "row: not a JSON object")]


def test_json_lines_starting_with_a_bad_line_are_still_read_line_by_line():
    rows = read_file("day.jsonl", b'[1]\n{"a": 1}\n')
    assert rows.numbers.tolist() == [2] and rows.rejects[0].row == 1


def test_unreadable_files_are_refused_whole():
    with pytest.raises(UnsupportedFile, match="unsupported format"):
        read_file("day.xls", b"\xd0\xcf\x11\xe0")
    with pytest.raises(UnsupportedFile, match="not UTF-8"):
        read_file("day.csv", b"\xff\xfe\x00")
