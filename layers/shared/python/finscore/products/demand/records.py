"""The records of the demand product: one sale (API, dropped files, users' training data) and one
demand question (the seed's request row, a batch file's row). Common spellings are normalised."""

from __future__ import annotations

import hashlib
from datetime import date as Date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from finscore.products.demand.catalog import CHANNELS, PRODUCTS, channel_name, product_name


def _pincode_text(value: object) -> object:
    # Spreadsheets and CSV readers turn 400001 into a number, sometimes 400001.0.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


Pincode = Annotated[str, BeforeValidator(_pincode_text),
                    Field(pattern=r"^[1-9][0-9]{5}$", description="Indian postal code: six digits, not starting with 0",
                          examples=["400001"])]
Product = Annotated[Literal[PRODUCTS], BeforeValidator(product_name)]  # type: ignore[valid-type]
Channel = Annotated[Literal[CHANNELS], BeforeValidator(channel_name)]  # type: ignore[valid-type]
Age = Annotated[int, Field(ge=18, le=100, description="Customer age in years", examples=[34])]
Income = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False,
                                description="Customer monthly income, INR", examples=[55000])]
City = Annotated[str, Field(min_length=1, max_length=80, description="City of the pincode", examples=["Mumbai"])]


class DemandQuery(BaseModel):
    """One row of the seed's demand request bodies: a pincode, product and channel, with a customer.
    city is optional: for a pincode with no sales history it says whose history to answer from."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    pincode: Pincode
    product: Annotated[Product, Field(description=" | ".join(PRODUCTS), examples=["loan"])]
    channel: Annotated[Channel, Field(description=" | ".join(CHANNELS), examples=["online"])]
    customer_age: Age | None = None
    customer_income: Income | None = None
    city: City | None = None


class SaleRecord(BaseModel):
    """One sale. record_id makes a replay idempotent; without it the record's own fields identify it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    date: Annotated[Date, Field(description="Day of the sale (ISO date)", examples=["2026-10-27"])]
    pincode: Pincode
    city: City
    product: Annotated[Product, Field(description=" | ".join(PRODUCTS))]
    channel: Annotated[Channel, Field(description=" | ".join(CHANNELS))]
    agent_id: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$",
                                          description="The agent who sold it (offline sales)")] = None
    customer_age: Age
    customer_income: Income
    record_id: Annotated[str | None, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                           description="The sale's id in the source system")] = None

    def key(self) -> str:
        """The sale's sort key in its pincode: '<date>#<record id>', the id derived from the fields when
        the source gives none, so the same sale sent twice is stored once."""
        identity = self.record_id or hashlib.sha256("|".join(
            str(value) for value in (self.date.isoformat(), self.pincode, self.city, self.product, self.channel,
                                     self.agent_id or "", self.customer_age, self.customer_income)).encode()
        ).hexdigest()[:20]
        return f"{self.date.isoformat()}#{identity}"

    def item(self) -> dict[str, Any]:
        return {"pincode": self.pincode, "sale_key": self.key(), **self.model_dump(mode="json", exclude={"pincode"})}
