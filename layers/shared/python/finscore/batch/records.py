"""A file's rows validated against a product's record schema, column by column.

The schema is the product's pydantic record model (finscore.products spec `record`), the same
model its API validates one record with; here it is applied to whole columns so that a file of a
million rows is checked at the speed of pyarrow. Numeric fields are parsed and bounds-checked in
bulk (from the field's ge/gt/le/lt constraints); string fields with a pattern or length limits and
choice fields (Literal) are checked in bulk too; every other field is validated by pydantic itself,
once per distinct value. Each bad value names its field with pydantic's message, every problem of a
row is reported, and a row fails alone. Columns the schema does not name pass through untouched.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Sequence

import annotated_types
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from finscore.products.columns import Columns, objects
from finscore.tabular import Rows

# A finite decimal number as text, surrounding blanks allowed (checked only when a fast cast failed).
NUMBER_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_MISSING = "Field required"


@dataclass
class Prepared:
    """What validation made of a batch of rows: the columns of the good ones and why the others failed."""

    valid: np.ndarray  # bool per row
    reasons: dict[int, str]  # row index -> reason, for every row not valid
    columns: Columns  # one array per schema field, valid rows only


@dataclass(frozen=True)
class FieldRule:
    name: str
    annotation: Any
    required: bool
    default: Any
    kind: Literal["number", "integer", "string", "choice", "value"]
    bounds: tuple[tuple[str, float], ...] = ()
    allow_inf_nan: bool = True
    choices: tuple[Any, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    adapter: Any = field(default=None, compare=False)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Optional, and whether None is allowed."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        arguments = [argument for argument in typing.get_args(annotation) if argument is not type(None)]
        if len(arguments) == 1:
            return arguments[0], True
    return annotation, False


def _rule(name: str, info: FieldInfo) -> FieldRule:
    annotation, _ = _unwrap(info.annotation)
    metadata = list(info.metadata)
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata += item.metadata if isinstance(item, FieldInfo) else [item]
        annotation, _ = _unwrap(annotation)
    # Constraints this module applies itself; any other metadata (validators) leaves it to pydantic.
    plain = all(isinstance(item, (annotated_types.BaseMetadata, annotated_types.GroupedMetadata)) or
                type(item).__name__ in ("_PydanticGeneralMetadata", "AllowInfNan") for item in metadata)
    bounds = tuple((kind, float(getattr(item, kind))) for item in metadata
                   for kind in ("ge", "gt", "le", "lt") if hasattr(item, kind) and getattr(item, kind) is not None)
    common = dict(name=name, annotation=info.annotation, required=info.is_required(),
                  default=None if info.is_required() else info.get_default(call_default_factory=True))
    general = {key: value for item in metadata if type(item).__name__ in ("_PydanticGeneralMetadata", "AllowInfNan")
               for key, value in vars(item).items()}
    if plain and annotation in (int, float):
        return FieldRule(**common, kind="integer" if annotation is int else "number", bounds=bounds,
                         allow_inf_nan=general.get("allow_inf_nan", True))
    if plain and annotation is str:
        lengths = {key: getattr(item, key) for item in metadata for key in ("min_length", "max_length")
                   if getattr(item, key, None) is not None}
        return FieldRule(**common, kind="string", min_length=lengths.get("min_length"),
                         max_length=lengths.get("max_length"), pattern=general.get("pattern"))
    if plain and typing.get_origin(annotation) is Literal:
        return FieldRule(**common, kind="choice", choices=typing.get_args(annotation))
    return FieldRule(**common, kind="value", adapter=TypeAdapter(info.rebuild_annotation()))


@lru_cache(maxsize=None)
def field_rules(schema: type[BaseModel]) -> tuple[FieldRule, ...]:
    return tuple(_rule(name, info) for name, info in schema.model_fields.items())


def _bound_message(kind: str, bound: float) -> str:
    words = {"ge": "greater than or equal to", "gt": "greater than", "le": "less than or equal to", "lt": "less than"}
    return f"Input should be {words[kind]} {int(bound) if float(bound).is_integer() else bound}"


def numeric_column(column: pa.ChunkedArray | list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column as float64 (NaN where absent or bad) with masks of absent and of non-numeric values.

    Text is parsed as decimal numbers (CSV); booleans and numbers are taken as they are (Parquet).
    JSON values must be numbers, as in the API.
    """
    if isinstance(column, list):
        values = np.full(len(column), np.nan)
        missing = np.zeros(len(column), bool)
        bad = np.zeros(len(column), bool)
        for index, value in enumerate(column):
            if value is None:
                missing[index] = True
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                bad[index] = True
            else:
                values[index] = float(value)
        return values, missing, bad
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = column
        try:
            floats = pc.cast(text, pa.float64())
            # Every value parsed, so none is blank (a blank or padded value fails the cast): only nulls
            # are absent, and the text need not be trimmed.
            missing = pc.is_null(text)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            missing = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True)
            number = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
            floats = pc.cast(pc.utf8_trim_whitespace(pc.if_else(number, text, pa.scalar(None, pa.string()))),
                             pa.float64())
    elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type) \
            or pa.types.is_decimal(column.type):
        missing = pc.is_null(column)
        floats = pc.cast(column, pa.float64())
    else:
        missing = pc.is_null(column)
        floats = pa.chunked_array([pa.nulls(len(column), pa.float64())])
    values = floats.to_numpy() if floats.null_count == 0 else pc.fill_null(floats, np.nan).to_numpy()
    missing_mask = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
    bad = np.asarray(pc.is_null(floats).to_numpy(zero_copy_only=False), dtype=bool) & ~missing_mask
    return values, missing_mask, bad


def _distinct(column: pa.ChunkedArray | list[Any], count: int) -> tuple[list[Any], np.ndarray]:
    """A column's distinct values and each row's index into them (-1 where absent: null, or a blank CSV
    cell, which is text and empty). Arrow columns are dictionary-encoded in C++; JSON records in Python."""
    if isinstance(column, list):
        index: dict[Any, int] = {}
        values: list[Any] = []
        codes = np.full(count, -1, dtype=np.int64)
        for row, value in enumerate(column):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            key = _key(value)
            if key not in index:
                index[key] = len(values)
                values.append(value)
            codes[row] = index[key]
        return values, codes
    encoded = column.combine_chunks().dictionary_encode() if isinstance(column, pa.ChunkedArray) \
        else column.dictionary_encode()
    values = encoded.dictionary.to_pylist()
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    blank = np.array([isinstance(value, str) and not value.strip() for value in values] or [False], dtype=bool)
    if blank.any():
        codes = np.where((codes >= 0) & blank[np.maximum(codes, 0)], -1, codes)
    return values, codes


def _spread(per_value: np.ndarray, codes: np.ndarray, absent: Any) -> np.ndarray:
    """Values (or flags) known per distinct value, given to every row; ABSENT where a row has none."""
    tail = objects([absent]) if per_value.dtype == object else np.array([absent], dtype=per_value.dtype)
    return np.concatenate([per_value, tail])[codes]


class _Problems:
    def __init__(self, count: int):
        self.valid = np.ones(count, bool)
        self.found: dict[int, list[str]] = {}

    def add(self, name: str, mask: np.ndarray, issue: str) -> None:
        if not mask.any():
            return
        self.valid &= ~mask
        for index in np.flatnonzero(mask).tolist():
            self.found.setdefault(index, []).append(f"{name}: {issue}")

    def add_each(self, name: str, issues: dict[int, str]) -> None:
        for index, issue in issues.items():
            self.valid[index] = False
            self.found.setdefault(index, []).append(f"{name}: {issue}")

    def reasons(self) -> dict[int, str]:
        return {index: "; ".join(issues) for index, issues in self.found.items()}


def _numbers(rule: FieldRule, column: Any, count: int, problems: _Problems) -> np.ndarray:
    values, missing, bad = numeric_column(column)
    if rule.required:
        problems.add(rule.name, missing, _MISSING)
    elif rule.default is not None:
        values = np.where(missing, float(rule.default), values)
    problems.add(rule.name, bad, "Input should be a valid number")
    given = ~missing & ~bad
    with np.errstate(invalid="ignore"):
        infinite = given & ~np.isfinite(values)
        if not rule.allow_inf_nan:
            problems.add(rule.name, infinite, "Input should be a finite number")
        finite = given & np.isfinite(values)
        if rule.kind == "integer":
            problems.add(rule.name, finite & (np.floor(values) != values),
                         "Input should be a valid integer, got a number with a fractional part")
        for kind, bound in rule.bounds:
            outside = {"ge": values < bound, "gt": values <= bound, "le": values > bound, "lt": values >= bound}[kind]
            problems.add(rule.name, finite & outside, _bound_message(kind, bound))
    return values


def _text_problems(rule: FieldRule, text: pa.Array | pa.ChunkedArray, is_text: np.ndarray,
                   ) -> list[tuple[np.ndarray, str]]:
    """The length and pattern problems of the values of TEXT (IS_TEXT: which of them are text to check)."""
    found = []
    lengths = np.asarray(pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False))
    if rule.min_length is not None:
        found.append((is_text & (lengths < rule.min_length),
                      f"String should have at least {rule.min_length} character{'s' * (rule.min_length != 1)}"))
    if rule.max_length is not None:
        found.append((is_text & (lengths > rule.max_length), f"String should have at most {rule.max_length} characters"))
    if rule.pattern is not None:
        matches = np.asarray(pc.fill_null(pc.match_substring_regex(text, rule.pattern), True)
                             .to_numpy(zero_copy_only=False), dtype=bool)
        found.append((is_text & ~matches, f"String should match pattern '{rule.pattern}'"))
    return found


def _arrow_text(rule: FieldRule, column: pa.ChunkedArray, problems: _Problems) -> np.ndarray:
    """A text field read as Arrow text (CSV, Parquet strings): checked row by row in Arrow's kernels, as
    identifiers, which are mostly distinct, gain nothing from being checked once per distinct value."""
    missing = np.asarray(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True)
                         .to_numpy(zero_copy_only=False), dtype=bool)
    if rule.required:
        problems.add(rule.name, missing, _MISSING)
    for mask, issue in _text_problems(rule, column, ~missing):
        problems.add(rule.name, mask, issue)
    values = column.to_numpy(zero_copy_only=False)
    if missing.any():
        values = values.copy() if not values.flags.writeable else values
        values[missing] = rule.default
    return values


def _strings(rule: FieldRule, column: Any, count: int, problems: _Problems) -> np.ndarray:
    """Text and choice fields: text read as Arrow text row by row in bulk, anything else (choices, JSON
    values) checked once per distinct value, in bulk."""
    if rule.kind == "string" and isinstance(column, pa.ChunkedArray) and pa.types.is_string(column.type):
        return _arrow_text(rule, column, problems)
    values, codes = _distinct(column, count)
    missing = codes < 0
    if rule.required:
        problems.add(rule.name, missing, _MISSING)
    if rule.kind == "choice":
        allowed = set(rule.choices)
        bad = _spread(np.array([value not in allowed for value in values], dtype=bool), codes, False)
        *first, last = [repr(choice) for choice in rule.choices]
        problems.add(rule.name, bad, f"Input should be {', '.join(first)} or {last}" if first
                     else f"Input should be {last}")
    else:
        is_text = np.array([isinstance(value, str) for value in values], dtype=bool)
        problems.add(rule.name, _spread(~is_text, codes, False), "Input should be a valid string")
        text = pa.array([value if isinstance(value, str) else None for value in values], pa.string())
        for mask, issue in _text_problems(rule, text, is_text):
            problems.add(rule.name, _spread(mask, codes, False), issue)
    return _spread(objects(values), codes, rule.default)


def _key(value: Any) -> Any:
    try:
        hash(value)
        return (type(value).__name__, value)
    except TypeError:
        return ("json", json.dumps(value, sort_keys=True, default=str))


def _values(rule: FieldRule, column: Any, count: int, problems: _Problems) -> np.ndarray:
    """Any other field: pydantic validates each distinct value once, exactly as the API would. Numbers
    come back as float64 (NaN where absent), anything else as objects."""
    values, codes = _distinct(column, count)
    valid = np.zeros(len(values), dtype=bool)
    results: list[Any] = []
    messages: list[str] = []
    for value in values:
        try:
            results.append(rule.adapter.validate_python(value))
            messages.append("")
            valid[len(results) - 1] = True
        except ValidationError as exc:
            results.append(None)
            messages.append(exc.errors()[0]["msg"])
    missing = codes < 0
    if rule.required:
        problems.add(rule.name, missing, _MISSING)
    bad_rows = np.flatnonzero(_spread(~valid, codes, False)).tolist()
    problems.add_each(rule.name, {row: messages[codes[row]] for row in bad_rows})
    numbers = all(result is None or (isinstance(result, (int, float)) and not isinstance(result, bool))
                  for result in results) and (rule.default is None or isinstance(rule.default, (int, float)))
    if numbers:
        per_value = np.array([np.nan if result is None else float(result) for result in results], dtype=np.float64)
        return _spread(per_value, codes, np.nan if rule.default is None else float(rule.default))
    return _spread(objects(results), codes, rule.default)


def prepare_rows(schema: type[BaseModel], rows: Rows) -> Prepared:
    """ROWS checked against SCHEMA; the valid rows' columns, and the reasons of the others."""
    count = rows.count
    present = set(rows.column_names)
    problems = _Problems(count)
    columns: Columns = {}
    for rule in field_rules(schema):
        if rule.name not in present:
            if rule.required:
                problems.add(rule.name, np.ones(count, bool), _MISSING)
            if rule.kind in ("number", "integer"):
                columns[rule.name] = np.full(count, np.nan if rule.default is None else float(rule.default))
            else:
                columns[rule.name] = objects([rule.default] * count)
            continue
        column = rows.column(rule.name)
        reader = _numbers if rule.kind in ("number", "integer") else _strings if rule.kind in ("string", "choice") \
            else _values
        columns[rule.name] = reader(rule, column, count, problems)
    valid = problems.valid
    if not valid.all():
        columns = {name: values[valid] for name, values in columns.items()}
    return Prepared(valid, problems.reasons(), columns)


def output_arrays(outputs: dict[str, np.ndarray], names: Sequence[str]) -> dict[str, pa.Array]:
    """A model's outputs as Arrow columns in NAMES order (the manifest's): NaN and None become null."""
    arrays = {}
    for name in names:
        values = outputs[name]
        if values.dtype == object:
            arrays[name] = pa.array(values.tolist())
        else:
            arrays[name] = pa.array(values, from_pandas=True)
    return arrays

