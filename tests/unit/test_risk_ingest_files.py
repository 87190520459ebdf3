"""Transaction files are parsed with every row numbered, so each reject can be traced back to its line."""

from __future__ import annotations

from finscore.risk.ingest import parse_transactions_file, report_name

HEADER = "txn_id,customer_id,date,amount,direction,category,channel,balance_after"


def test_csv_rows_are_numbered_from_one_after_the_header():
    body = "\ufeff" + HEADER + "\nT1,C1,2025-07-01,10,debit,dining,card,5\nT2,C1,2025-07-02\nT3,C1,2025-07-02,1,debit,dining,card,5,x\n"

    rows, numbers, rejects = parse_transactions_file("day.CSV", body.encode())

    assert numbers == [1, 2]
    assert rows[0]["txn_id"] == "T1" and rows[0]["amount"] == "10"
    assert "amount" not in rows[1]  # a short row leaves the missing fields out, to be reported as required
    assert [(r.row, "more fields" in r.reason) for r in rejects] == [(3, True)]


def test_json_lines_rows_are_numbered_by_line_and_blank_lines_skipped():
    body = '{"txn_id": "T1"}\n\n{broken\n{"txn_id": "T2"}\n'

    rows, numbers, rejects = parse_transactions_file("day.jsonl", body.encode())

    assert numbers == [1, 4] and [row["txn_id"] for row in rows] == ["T1", "T2"]
    assert [r.row for r in rejects] == [3]


def test_a_json_array_file_is_accepted():
    rows, numbers, rejects = parse_transactions_file("day.json", b'[{"txn_id": "T1"}, 5]')

    assert numbers == [1, 2] and rows[1] == 5 and rejects == []


def test_unsupported_or_undecodable_files_are_one_reject():
    assert parse_transactions_file("day.xlsx", b"PK")[2][0].reason.startswith("file: unsupported")
    assert parse_transactions_file("day.csv", b"\xff\xfe\x00")[2][0].reason == "file: not UTF-8 text"


def test_reports_are_named_after_the_file_below_the_prefix():
    assert report_name("ingest/risk/transactions/a/b.csv", "ingest/risk/transactions/") == "a/b.csv"
