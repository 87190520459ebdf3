"""Records row by row: the one row-reject type and the validation of rows against a record schema.

Every path that takes rows from outside (API bodies with many records, dropped files, training data)
reports a row it cannot use as a RowReject with the row's number as the user sees it and the fields
at fault, and never raises for a bad row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass(frozen=True)
class RowReject:
    """A row that could not be used: its number (1-based data row, or a file's line), why, and the file
    it came from when there is one."""

    row: int
    reason: str
    source: str | None = None


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as 'field: problem; field: problem'."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'row'}: {error['msg']}" for error in exc.errors()
    )


def validate_rows(model: type[RecordT], rows: Iterable[Mapping[str, Any]],
                  numbers: Iterable[int] | None = None) -> tuple[list[RecordT], list[RowReject]]:
    """Each row as a MODEL record, or a RowReject naming its bad fields; rows are numbered from 1
    unless NUMBERS gives their numbers."""
    records: list[RecordT] = []
    rejects: list[RowReject] = []
    numbering = iter(numbers) if numbers is not None else None
    for index, row in enumerate(rows, start=1):
        number = next(numbering) if numbering is not None else index
        if not isinstance(row, Mapping):
            rejects.append(RowReject(number, f"row: expected an object of fields, got {type(row).__name__}"))
            continue
        try:
            records.append(model.model_validate(row))
        except ValidationError as exc:
            rejects.append(RowReject(number, describe_errors(exc)))
    return records, rejects
