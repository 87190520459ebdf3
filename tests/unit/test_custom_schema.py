"""A custom model's definition and schema: field errors, value parsing, the one model matrix of
training and serving, and why a record cannot be scored."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from finscore.products.columns import columns_of
from finscore.products.custom.definition import CustomDefinition, model_key
from finscore.products.custom.schema import (
    BOOLEAN,
    CATEGORICAL,
    DATE,
    INVALID,
    MISSING,
    NUMERIC,
    OTHER,
    ColumnSchema,
    CustomSchema,
    category_text,
    parse_boolean,
    parse_date,
    parse_number,
)


def definition(**fields):
    return CustomDefinition(**{"name": "credit", "target": "default", "task": "binary", **fields})


def field_errors(**fields) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        definition(**fields)
    return {".".join(map(str, error["loc"])): error["msg"] for error in caught.value.errors()}


def test_a_definition_names_its_model_and_data():
    given = definition(data="training/uploads/credit")

    assert model_key("credit") == given.key == "custom-credit"
    assert given.data_prefix == "training/uploads/credit/"
    assert definition().data_prefix == "training/custom/credit/"


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"monotone": {"default": 1}}, "monotone", "is the target"),
    ({"exclude": ["default"]}, "exclude", "is the target"),
    ({"id_column": "default"}, "id_column", "names the target"),
    ({"exclude": ["age"], "monotone": {"age": -1}}, "monotone", "is excluded"),
    ({"id_column": "customer_id", "allow": ["customer_id"]}, "allow", "is the id_column"),
    ({"task": "regression", "positive_class": "yes"}, "positive_class", "only a binary task"),
    ({"name": "Credit Model"}, "name", "pattern"),
    ({"monotone": {"age": 2}}, "monotone.age", "1 or -1"),
    ({"data": "../other"}, "data", "inside the data bucket"),
    ({"data": "uploads/credit"}, "data", "under training/"),
    ({"task": "multiclass"}, "task", "binary"),
])
def test_a_bad_definition_names_the_field(fields, field, words):
    errors = field_errors(**fields)

    assert field in errors, errors
    assert words in errors[field]


def test_values_parse_by_kind():
    assert parse_number(" 12.5 ") == 12.5 and parse_number(3) == 3.0
    assert math.isnan(parse_number("")) and math.isnan(parse_number("NA")) and math.isnan(parse_number(None))
    assert parse_number("abc") is INVALID and parse_number(True) is INVALID and parse_number("inf") is INVALID
    assert [parse_boolean(value) for value in ("yes", "N", True, 0, "t")] == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert parse_boolean("maybe") is INVALID and parse_boolean(2) is INVALID
    assert parse_date("1970-01-11") == 10.0 and parse_date("2024-02-29T10:00:00") == parse_date("2024-02-29")
    assert parse_date("2024-13-01") is INVALID and parse_date("03/01/2024") is INVALID
    assert category_text(3.0) == category_text("3") == category_text(3) == "3"


SCHEMA = CustomSchema(
    columns=(
        ColumnSchema("income", NUMERIC, reference=40_000.0, minimum=5_000.0, maximum=200_000.0),
        ColumnSchema("score", NUMERIC, reference=680.0, minimum=400.0, maximum=850.0, range_checked=True, monotone=-1),
        ColumnSchema("employment", CATEGORICAL, reference="salaried",
                     levels=("salaried", OTHER, "contract", MISSING)),
        ColumnSchema("owner", BOOLEAN, reference=False),
        ColumnSchema("opened", DATE, reference="2024-01-15", minimum=parse_date("2023-01-01"),
                     maximum=parse_date("2024-12-31"), range_checked=True),
    ),
    ignored={"notes": "free text", "default": "the target"},
    target="default",
    id_column="customer_id",
)


def test_the_matrix_is_the_same_from_records_and_from_columns():
    records = [
        {"customer_id": "a", "income": "52000", "score": 700, "employment": "contract", "owner": "yes",
         "opened": "2024-03-04"},
        {"customer_id": "b", "income": None, "score": "610", "employment": "pilot", "owner": None},
        {"customer_id": "c", "income": 12_000.0, "employment": None, "owner": False, "opened": "2023-01-01",
         "notes": "called twice"},
    ]

    from_records = SCHEMA.matrix(records)
    from_columns = SCHEMA.matrix(columns_of(records))

    assert from_records.dtype == np.float32
    assert SCHEMA.feature_names == ["income", "score", "employment", "owner", "opened.days", "opened.month",
                                    "opened.day_of_week"]
    np.testing.assert_array_equal(from_records, from_columns)
    first, second, third = from_records
    assert first[:4].tolist() == [52_000, 700, 2, 1]  # contract is level 2
    assert first[4:].tolist() == [parse_date("2024-03-04"), 3, 0]  # a Monday in March
    assert math.isnan(second[0]) and second[2] == 1  # an unseen level goes to OTHER
    assert np.isnan(second[4:]).all()  # no date: every part missing
    assert third[2] == 3 and math.isnan(third[1])  # a missing level is MISSING; a missing number NaN


def test_the_schema_survives_its_document():
    again = CustomSchema.from_document(SCHEMA.document())

    assert again == SCHEMA
    assert SCHEMA.document()["columns"][4]["range"] == ["2023-01-01", "2024-12-31"]


def test_the_reference_row_holds_every_reference():
    row = SCHEMA.reference_row()

    assert row[:4].tolist() == [40_000, 680, 0, 0]
    assert row[4] == parse_date("2024-01-15")


def test_a_record_fails_alone_with_its_reasons():
    records = [
        {"customer_id": "ok", "income": 1, "score": 700, "notes": "known column, ignored", "default": "yes"},
        {"customer_id": "x", "income": "lots", "colour": "red"},
        {"income": 5},
        {"customer_id": "y", "score": 2_000, "opened": "1900-01-01"},
        {"customer_id": "z", "owner": "maybe", "opened": "2024-02-30"},
        "not a record",
    ]

    issues = SCHEMA.record_issues(records)
    by_row = {row: {(issue.field, issue.issue.split(":")[0].split(",")[0]) for issue in found}
              for row, found in issues.items()}

    assert 0 not in issues
    assert by_row[1] == {("income", "expected a number"), ("colour", "unknown column")}
    assert by_row[2] == {("customer_id", "required")}
    assert {field for field, _ in by_row[3]} == {"score", "opened"}
    assert "outside the training range" in str(issues[3]) and "far outside the training period" in str(issues[3])
    # The value as it was sent, also when it arrives parsed into an array (a batch file's column).
    (score_issue,) = [issue.issue for issue in issues[3] if issue.field == "score"]
    assert score_issue.startswith("2000 is outside")
    parsed = SCHEMA.record_issues({"customer_id": np.array(["y"], dtype=object), "score": np.array([2000.0])})
    assert parsed[0][0].issue.startswith("2000 is outside")
    assert {field for field, _ in by_row[4]} == {"owner", "opened"}
    assert by_row[5] >= {("record", "expected an object of fields")}
    assert SCHEMA.record_issues([{"income": 5}], require_id=False) == {}


def test_a_monotone_range_allows_a_margin():
    # 850 is the training maximum; 10% of the 450 span beyond it is still inside.
    assert SCHEMA.record_issues([{"customer_id": "a", "score": 890}]) == {}
    assert SCHEMA.record_issues([{"customer_id": "a", "score": 900}]) != {}


def test_the_serving_modules_import_nothing_heavy():
    # A fresh interpreter: what importing the custom model's serving modules pulls in.
    probe = ("import sys; import finscore.products.custom.model, finscore.products.custom.definition; "
             "print([name for name in ('sklearn', 'scipy', 'pandas', 'xgboost', 'lightgbm', 'pyarrow') "
             "if name in sys.modules])")
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert answer.stdout.strip() == "[]"
