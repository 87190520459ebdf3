"""Excel workbooks through the one tabular reader: what people export by hand is read like a CSV."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from finscore.tabular import UnsupportedFile, read_file


def workbook(*rows: list) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_rows_are_numbered_after_the_header_and_cells_read_as_text_files_hold_them():
    body = workbook(["date", "pincode", "amount", "note"], [datetime(2026, 11, 24), 400006, 12.0, "  "], [],
                    ["2026-11-25", "560961", 7.5, "ok"])

    rows = read_file("uploads/sales.XLSX", body)

    assert rows.numbers.tolist() == [1, 3]
    assert rows.as_records() == [{"date": "2026-11-24", "pincode": 400006, "amount": 12},
                                 {"date": "2026-11-25", "pincode": "560961", "amount": 7.5, "note": "ok"}]


def test_a_damaged_workbook_or_one_without_header_is_unsupported():
    with pytest.raises(UnsupportedFile):
        read_file("sales.xlsx", b"not a zip")
    with pytest.raises(UnsupportedFile):
        read_file("sales.xlsx", workbook([None, None], [1, 2]))
