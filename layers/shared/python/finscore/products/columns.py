"""Records as columns: the one shape every product's feature set and model read (numpy only)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

# One array per field of a batch of records: float64 for numbers (NaN where absent), object otherwise.
Columns = dict[str, Any]


def columns_of(records: Sequence[Mapping[str, Any]], names: Iterable[str] | None = None) -> Columns:
    """RECORDS as one array per field (every field any record has, or NAMES): a field whose values are
    all numbers or absent becomes float64 with NaN where absent; any other field an object array."""
    if names is None:
        names = dict.fromkeys(name for record in records for name in record)
    columns: Columns = {}
    for name in names:
        values = [record.get(name) for record in records]
        if all(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)) for value in values):
            columns[name] = np.array([np.nan if value is None else value for value in values], dtype=np.float64)
        else:
            columns[name] = objects(values)
    return columns


def objects(values: Sequence[Any]) -> np.ndarray:
    """VALUES as a one-dimensional object array, lists kept whole (numpy would make rows of them)."""
    array = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        array[index] = value
    return array


class _FirstSeen(dict):
    """Codes of distinct values, numbered in the order they are first seen."""

    def __missing__(self, value: Any) -> int:
        code = self[value] = len(self)
        return code


def distinct_codes(values: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct VALUES (hashable) in first-seen order, and each value's index into them: a lookup
    per value in C (map over a dict), so a million rows that share a few ids cost no Python per row."""
    codes = _FirstSeen()
    inverse = np.fromiter(map(codes.__getitem__, values), dtype=np.int64, count=len(values))
    return list(codes), inverse


def take(columns: Columns, rows: np.ndarray) -> Columns:
    """The ROWS (indexes or a mask) of every column."""
    return {name: values[rows] for name, values in columns.items()}


def as_matrix(columns: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """Feature columns, in model order, as the float32 (rows, features) matrix a model takes."""
    matrix = np.empty((rows, len(columns)), dtype=np.float32)
    for position, column in enumerate(columns):
        matrix[:, position] = column
    return matrix


def number_column(columns: Mapping[str, Any], name: str, count: int) -> np.ndarray:
    """Column NAME as float64, NaN where a value is missing (or everywhere when no record gave it)."""
    values = columns.get(name)
    if values is None:
        return np.full(count, np.nan)
    array = np.asarray(values)
    if array.dtype == object:
        return np.array([np.nan if value is None else float(value) for value in array], dtype=np.float64)
    return array.astype(np.float64)


def category_codes(columns: Mapping[str, Any], name: str, index: Mapping[str, int], count: int) -> np.ndarray:
    """Column NAME's names as their codes in INDEX, NaN for a missing or unknown name; each distinct
    name is looked up once."""
    values = columns.get(name)
    if values is None or (isinstance(values, np.ndarray) and values.dtype != object):
        return np.full(count, np.nan)  # absent, or numbers (a column no record gave): no name matches
    distinct, inverse = distinct_codes(values)
    per_value = np.array([index.get(value, np.nan) if isinstance(value, str) else np.nan for value in distinct],
                         dtype=np.float64)
    return per_value[inverse] if len(per_value) else np.full(count, np.nan)
