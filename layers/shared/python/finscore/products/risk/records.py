"""The documented input schema of the risk product: customer and transaction records.

Users who train on or ingest their own data provide these two tables (README, "Risk: your own
data"); finscore.records.validate_rows checks them row by row.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from finscore.products.risk.features import FEATURES

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


def _feature_row() -> type[BaseModel]:
    """Every feature within its domain (FeatureSpec): whole numbers for counts and flags, bounds as declared."""
    fields: dict = {"customer_id": (CustomerId | None, None)}
    for feature in FEATURES:
        whole = feature.type in ("int", "bool")
        low, high = (0.0, 1.0) if feature.type == "bool" else (feature.minimum, feature.maximum)
        constraint = Field(ge=low, le=high, description=feature.description,
                           **({} if whole else {"allow_inf_nan": False}))
        fields[feature.name] = (Annotated[(int if whole else float) | None, constraint], None)
    return create_model("FeatureRow", __config__=ConfigDict(extra="ignore"), **fields)


# One row of a batch file: every behavioural feature by name (scored as given), or only a
# customer_id (scored from the feature store); other columns pass through.
FeatureRow = _feature_row()
