"""The documented input schema of the risk product: customer and transaction records.

Users who train on or ingest their own data provide these two tables (README, "Risk: your own
data"). `validate_rows` checks rows one by one and never raises for a bad row: every row comes back
either as a record or as a RowReject with its 1-based data-row number and the fields at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Iterable, Literal, Mapping, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

LANGUAGES = ("en", "hi")
CHANNELS_PREFERRED = ("sms", "email", "app")
DIRECTIONS = ("credit", "debit")
CATEGORIES = (
    "salary",
    "emi_payment",
    "auto_debit_failed",
    "atm_withdrawal",
    "lending_app_transfer",
    "utility_payment",
    "groceries",
    "dining",
    "shopping",
    "travel",
    "rent",
    "transfer_in",
    "transfer_out",
    "other",
)
TXN_CHANNELS = ("upi", "card", "netbanking", "atm", "auto_debit", "branch")

CustomerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                  description="Bank's customer id: 1-64 letters, digits, '_' or '-'")]
Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Record(BaseModel):
    # Files carry extra columns (branch codes, notes); they are ignored rather than rejected.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class CustomerRecord(_Record):
    customer_id: CustomerId
    name: Annotated[str, Field(min_length=1, max_length=200, description="Full name")]
    age: Annotated[int, Field(ge=18, le=100, description="Age in years")]
    city: Annotated[str, Field(min_length=1, max_length=100, description="City of residence")]
    phone: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164, e.g. +919812345678")]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Email address")]
    preferred_language: Annotated[Literal[LANGUAGES], Field(description="en | hi")]
    preferred_channel: Annotated[Literal[CHANNELS_PREFERRED], Field(description="sms | email | app")]
    monthly_income: Annotated[Money, Field(description="Declared monthly income, INR")]
    credit_limit: Annotated[Money, Field(description="Sanctioned credit limit (card or overdraft), INR")]
    opened_at: Annotated[date, Field(description="Date the relationship began (ISO date)")]


class TransactionRecord(_Record):
    txn_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$", description="Unique transaction id")]
    customer_id: CustomerId
    date: Annotated[date, Field(description="Value date (ISO date)")]
    amount: Annotated[float, Field(gt=0, allow_inf_nan=False, description="Amount in INR, > 0")]
    direction: Annotated[Literal[DIRECTIONS], Field(description="credit | debit")]
    category: Annotated[
        Literal[CATEGORIES],
        Field(description="What the money was for; auto_debit_failed is a bounced mandate (no money moved)"),
    ]
    channel: Annotated[Literal[TXN_CHANNELS], Field(description="How it moved")]
    balance_after: Annotated[float, Field(allow_inf_nan=False, description="Account balance after it, INR; negative is overdrawn")]


RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass(frozen=True)
class RowReject:
    """A row that failed validation: its 1-based data-row number and the fields at fault."""

    row: int
    reason: str


def describe_errors(exc: ValidationError) -> str:
    """Pydantic errors as 'field: problem; field: problem'."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'row'}: {error['msg']}" for error in exc.errors()
    )


def validate_rows(model: type[RecordT], rows: Iterable[Mapping[str, Any]]) -> tuple[list[RecordT], list[RowReject]]:
    """Each row as a MODEL record, or a RowReject naming its bad fields; never raises for a bad row."""
    records: list[RecordT] = []
    rejects: list[RowReject] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            rejects.append(RowReject(number, f"row: expected an object of fields, got {type(row).__name__}"))
            continue
        try:
            records.append(model.model_validate(row))
        except ValidationError as exc:
            rejects.append(RowReject(number, describe_errors(exc)))
    return records, rejects
