"""A custom model's input schema: the columns of the user's table it uses, how each becomes model
inputs, and which records it can score (numpy only: this is the serving path).

Training infers the schema (training.custom.profiling) and stores it in the manifest's extra as plain
JSON (`CustomSchema.document()`); training and serving build the float32 model matrix with the same
`CustomSchema.matrix`, so the two can never disagree about a value.

Kinds and the model inputs each gives:
- numeric: the number (NaN when missing; the models handle NaN, the linear baseline imputes the
  training median inside its ONNX graph);
- boolean: 1 / 0 (true/false, yes/no, y/n, t/f, 1/0), NaN when missing;
- categorical: the index of the value's level. Levels are the training split's frequent values,
  ordered by their training target mean so that the trees split them in a meaningful order; rare
  values are pooled into OTHER, and a value never seen in training goes there too; a missing value
  is a level of its own (MISSING);
- date (ISO 8601, or a date/datetime value): `days` since 1970-01-01, `month` (1-12) and
  `day_of_week` (0 = Monday), so the trees see both the trend and the seasons.

Record validation (`CustomSchema.record_issues`) says why a record cannot be scored, per record: an
unknown column (neither an input nor a column of the training table), a value of the wrong type, a
value out of the training range where the range matters, or a missing id. Ranges are checked for
numeric columns with a monotone constraint (the promised direction is known only where the data
was; a margin of RANGE_MARGIN of the span is allowed on each side) and for dates (a date more than
the training period's span, at least a year, away from it is taken for a typo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from finscore.errors import FieldIssue
from finscore.models.manifest import FeatureSpec
from finscore.products.columns import Columns, as_matrix, columns_of, distinct_codes

NUMERIC, CATEGORICAL, BOOLEAN, DATE = "numeric", "categorical", "boolean", "date"
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, DATE)
OTHER, MISSING = "__other__", "__missing__"
DATE_PARTS = ("days", "month", "day_of_week")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0"})
RANGE_MARGIN = 0.1
MIN_DATE_SPAN_DAYS = 365
_EPOCH = date(1970, 1, 1)


class _Invalid:
    """The parse of a value that is not of the column's kind."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in MISSING_TOKENS


def parse_number(value: Any) -> float:
    """VALUE as a finite float, NaN when missing, INVALID when it is not a number."""
    if is_missing(value):
        return math.nan
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return INVALID
    else:
        return INVALID
    return number if math.isfinite(number) else INVALID


def parse_boolean(value: Any) -> float:
    """VALUE as 1.0 / 0.0, NaN when missing, INVALID when it is not a yes/no value."""
    if is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if value in (0, 1) else INVALID
    if isinstance(value, str):
        token = value.strip().lower()
        if token in TRUE_TOKENS:
            return 1.0
        if token in FALSE_TOKENS:
            return 0.0
    return INVALID


def parse_date(value: Any) -> float:
    """VALUE (an ISO 8601 date or date-time, or a date) as days since 1970-01-01, NaN when missing,
    INVALID otherwise."""
    if is_missing(value):
        return math.nan
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return float((value - _EPOCH).days)
    if isinstance(value, str):
        text = value.strip()
        if len(text) >= 10 and text[4] == "-" and text[7] == "-" and (len(text) == 10 or text[10] in "T "):
            try:
                return float((date.fromisoformat(text[:10]) - _EPOCH).days)
            except ValueError:
                return INVALID
    return INVALID


def category_text(value: Any) -> Any:
    """VALUE as the text of its level (a whole number without '.0', so CSV's "3" and JSON's 3 agree),
    None when missing, INVALID for a list or an object."""
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, str):
        return value.strip()
    return INVALID


PARSERS = {NUMERIC: parse_number, BOOLEAN: parse_boolean, DATE: parse_date}


def parse_values(values: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """VALUES (a column) parsed as KIND: float64 (NaN where missing or invalid) and the invalid mask.
    Each distinct value is parsed once."""
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if array.dtype != object:
        parsed = array.astype(np.float64)
        if kind == NUMERIC:
            return np.where(np.isfinite(parsed), parsed, np.nan), np.isinf(parsed)
        return _parsed_distinct(list(array.tolist()), PARSERS[kind])
    return _parsed_distinct(array, PARSERS[kind])


def _parsed_distinct(values: Sequence[Any], parse: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        distinct, inverse = distinct_codes(values)
    except TypeError:  # an unhashable value (a list or an object) somewhere in the column
        distinct, inverse = list(values), np.arange(len(values))
    parsed = [parse(value) if _hashable_scalar(value) else INVALID for value in distinct]
    invalid = np.array([value is INVALID for value in parsed], dtype=bool)
    numbers = np.array([math.nan if value is INVALID else value for value in parsed], dtype=np.float64)
    if not len(distinct):
        return np.empty(0), np.zeros(0, dtype=bool)
    return numbers[inverse], invalid[inverse]


def _hashable_scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict, tuple, set))


def date_parts(days: np.ndarray) -> dict[str, np.ndarray]:
    """Each date part of days since 1970-01-01 (NaN stays NaN)."""
    known = np.isfinite(days)
    whole = np.where(known, days, 0).astype(np.int64)
    months = whole.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return {
        "days": np.where(known, days, np.nan),
        "month": np.where(known, months, np.nan),
        # 1970-01-01 was a Thursday (3 when Monday is 0).
        "day_of_week": np.where(known, (whole + 3) % 7, np.nan),
    }


def iso_date(days: float) -> str:
    return str(np.datetime64(int(round(days)), "D"))


@dataclass(frozen=True)
class ColumnSchema:
    """One column of the user's table that the model uses, as the model sees it."""

    name: str
    kind: str
    # The training split's typical value (median; the most frequent level or flag; a date's median),
    # the value a reason compares a record's value with.
    reference: Any = None
    # The training split's range: numbers, or days since 1970-01-01 for a date (ISO in the document).
    minimum: float | None = None
    maximum: float | None = None
    range_checked: bool = False
    levels: tuple[str, ...] = ()  # categorical, in code order
    monotone: int = 0

    @property
    def features(self) -> tuple[str, ...]:
        if self.kind == DATE:
            return tuple(f"{self.name}.{part}" for part in DATE_PARTS)
        return (self.name,)

    def allowed_range(self) -> tuple[float, float] | None:
        """The values a record may hold, when the range is checked for this column."""
        if not self.range_checked or self.minimum is None or self.maximum is None:
            return None
        span = self.maximum - self.minimum
        margin = max(span, MIN_DATE_SPAN_DAYS) if self.kind == DATE else RANGE_MARGIN * span
        return self.minimum - margin, self.maximum + margin

    def document(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind, "features": list(self.features),
                                 "reference": self.reference, "range_checked": self.range_checked}
        if self.kind == DATE:
            entry["parts"] = list(DATE_PARTS)
            entry["range"] = [iso_date(self.minimum), iso_date(self.maximum)] if self.minimum is not None else None
        elif self.kind == NUMERIC:
            entry["range"] = [self.minimum, self.maximum]
        if self.kind == CATEGORICAL:
            entry["levels"] = list(self.levels)
        if self.monotone:
            entry["monotone"] = self.monotone
        return entry

    @classmethod
    def from_document(cls, entry: Mapping[str, Any]) -> ColumnSchema:
        kind = entry["kind"]
        low, high = (entry.get("range") or [None, None])
        if kind == DATE and low is not None:
            low, high = parse_date(low), parse_date(high)
        return cls(name=entry["name"], kind=kind, reference=entry.get("reference"), minimum=low, maximum=high,
                   range_checked=bool(entry.get("range_checked")), levels=tuple(entry.get("levels") or ()),
                   monotone=int(entry.get("monotone") or 0))

    def inputs(self, values: Any, count: int) -> list[np.ndarray]:
        """This column's model inputs (one array per feature) for VALUES (None: the column is absent)."""
        if values is None:
            values = np.full(count, np.nan)
        if self.kind == CATEGORICAL:
            return [self._codes(values)]
        parsed, _ = parse_values(values, self.kind)
        if self.kind == DATE:
            parts = date_parts(parsed)
            return [parts[part] for part in DATE_PARTS]
        return [parsed]

    @cached_property
    def level_codes(self) -> dict[str, int]:
        return {level: code for code, level in enumerate(self.levels)}

    def _codes(self, values: Any) -> np.ndarray:
        index = self.level_codes
        other, missing = index[OTHER], index[MISSING]
        array = np.asarray(values)
        distinct, inverse = distinct_codes(array.tolist() if array.dtype != object else array)
        codes = []
        for value in distinct:
            text = category_text(value)
            codes.append(missing if text is None else other if text is INVALID else index.get(text, other))
        return np.asarray(codes, dtype=np.float64)[inverse] if codes else np.empty(0)

    def issues(self, values: Any) -> dict[int, str]:
        """Rows of VALUES that this column cannot take, with the problem."""
        if self.kind == CATEGORICAL:
            array = np.asarray(values, dtype=object)
            return {int(row): "expected a single value, not a list or an object" for row in
                    np.flatnonzero([not _hashable_scalar(value) for value in array])}
        parsed, invalid = parse_values(values, self.kind)
        expected = {NUMERIC: "a number", BOOLEAN: "true or false (yes/no, 1/0)",
                    DATE: "an ISO date (YYYY-MM-DD)"}[self.kind]
        problems = {int(row): f"expected {expected}, got {_shown(values[row])}" for row in np.flatnonzero(invalid)}
        bounds = self.allowed_range()
        if bounds is not None:
            low, high = bounds
            outside = np.flatnonzero((parsed < low) | (parsed > high))
            for row in outside.tolist():
                problems[row] = self._out_of_range(values[row])
        return problems

    def _out_of_range(self, value: Any) -> str:
        if self.kind == DATE:
            return (f"{_shown(value)} is far outside the training period {iso_date(self.minimum)} to "
                    f"{iso_date(self.maximum)}")
        return (f"{_shown(value)} is outside the training range {self.minimum:g} to {self.maximum:g}: the "
                f"monotone direction is known only where there was data")

    def feature_specs(self) -> list[FeatureSpec]:
        if self.kind == CATEGORICAL:
            return [FeatureSpec(name=self.name, type="category", categories=list(self.levels),
                                description=f"categorical column {self.name}: the index of its level")]
        if self.kind == BOOLEAN:
            return [FeatureSpec(name=self.name, type="bool", description=f"yes/no column {self.name} as 1/0")]
        if self.kind == DATE:
            return [FeatureSpec(name=f"{self.name}.{part}", type="int", description=f"date column {self.name}: {part}")
                    for part in DATE_PARTS]
        return [FeatureSpec(name=self.name, description=f"numeric column {self.name}")]


def _shown(value: Any) -> str:
    # As the client sent it: numpy scalars (a batch file's parsed columns) as their plain Python value.
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class CustomSchema:
    """The columns a custom model uses (in model order) and the columns of its table it does not."""

    columns: tuple[ColumnSchema, ...]
    # Columns of the training table that are not inputs (target, id, refused, excluded), with why:
    # a record may hold them; they are ignored.
    ignored: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    id_column: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def feature_names(self) -> list[str]:
        return [feature for column in self.columns for feature in column.features]

    @property
    def specs(self) -> list[FeatureSpec]:
        return [spec for column in self.columns for spec in column.feature_specs()]

    def feature_slices(self) -> dict[str, list[int]]:
        """Each input column's positions in the model matrix."""
        slices, position = {}, 0
        for column in self.columns:
            slices[column.name] = list(range(position, position + len(column.features)))
            position += len(column.features)
        return slices

    def column(self, name: str) -> ColumnSchema:
        return next(column for column in self.columns if column.name == name)

    def as_columns(self, data: Columns | Sequence[Mapping[str, Any]]) -> tuple[Columns, int]:
        """DATA (records, or one array per field) as columns, and its row count."""
        if isinstance(data, Mapping):
            count = len(next(iter(data.values()))) if data else 0
            return data, count
        return columns_of(data), len(data)

    def matrix(self, data: Columns | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The float32 model matrix of DATA: every input column's features, in model order."""
        columns, count = self.as_columns(data)
        inputs = [values for column in self.columns for values in column.inputs(columns.get(column.name), count)]
        return as_matrix(inputs, count)

    def reference_row(self) -> np.ndarray:
        """The model inputs of a record holding every column's reference value."""
        return self.matrix({column.name: np.array([column.reference], dtype=object) for column in self.columns})[0]

    def known(self) -> set[str]:
        return {*self.names, *self.ignored, self.target, *([self.id_column] if self.id_column else [])}

    def record_issues(self, data: Columns | Sequence[Mapping[str, Any]], *,
                      require_id: bool = True) -> dict[int, list[FieldIssue]]:
        """Why each record of DATA that cannot be scored cannot, by its index: unknown columns, values
        of the wrong type or out of range, a missing id (when REQUIRE_ID and the table has one)."""
        found: dict[int, list[FieldIssue]] = {}
        if not isinstance(data, Mapping):
            for row, record in enumerate(data):
                if not isinstance(record, Mapping):
                    found[row] = [FieldIssue("record", f"expected an object of fields, got {type(record).__name__}")]
            if found:
                data = [record if isinstance(record, Mapping) else {} for record in data]
        columns, count = self.as_columns(data)
        known = self.known()
        for name, values in columns.items():
            if name not in known:
                for row in _present(values):
                    found.setdefault(row, []).append(FieldIssue(name, "unknown column: not in the table this model "
                                                                      "was trained on"))
        for column in self.columns:
            values = columns.get(column.name)
            if values is None:
                continue
            for row, problem in sorted(column.issues(values).items()):
                found.setdefault(row, []).append(FieldIssue(column.name, problem))
        if require_id and self.id_column:
            values = columns.get(self.id_column)
            present = set(_present(values)) if values is not None else set()
            for row in range(count):
                if row not in present:
                    found.setdefault(row, []).append(FieldIssue(self.id_column, "required: the id column"))
        return {row: found[row] for row in sorted(found)}

    def document(self) -> dict[str, Any]:
        return {"target": self.target, "id_column": self.id_column,
                "columns": [column.document() for column in self.columns],
                "features": self.feature_names, "ignored": dict(self.ignored)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CustomSchema:
        return cls(columns=tuple(ColumnSchema.from_document(entry) for entry in document["columns"]),
                   ignored=dict(document.get("ignored") or {}), target=document.get("target", ""),
                   id_column=document.get("id_column"))


def _present(values: Iterable[Any]) -> list[int]:
    """Rows whose value is not missing."""
    return [row for row, value in enumerate(values)
            if not (not isinstance(value, (list, dict)) and is_missing(value))]
