"""Demand records: the seed's row and a sale, with the spellings clients send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from finscore.products.demand.records import DemandQuery, SaleRecord

SALE = {"date": "2026-11-24", "pincode": 400006, "city": "Mumbai", "product": "Credit Card", "channel": "Branch",
        "customer_age": 41, "customer_income": 92000}


def test_a_sale_is_normalised_and_keyed_by_its_fields():
    sale = SaleRecord.model_validate(SALE)

    assert (sale.pincode, sale.product, sale.channel) == ("400006", "credit_card", "offline")
    assert sale.key().startswith("2026-11-24#")
    assert SaleRecord.model_validate(dict(SALE)).key() == sale.key()
    assert SaleRecord.model_validate({**SALE, "customer_age": 42}).key() != sale.key()
    assert SaleRecord.model_validate({**SALE, "record_id": "S1"}).key() == "2026-11-24#S1"


@pytest.mark.parametrize("field, value", [("pincode", "012345"), ("pincode", "40006"), ("product", "mortgage"),
                                          ("channel", "kiosk"), ("customer_age", 12), ("date", "24/11/2026")])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValidationError) as caught:
        SaleRecord.model_validate({**SALE, field: value})
    assert {error["loc"][0] for error in caught.value.errors()} == {field}


def test_the_seed_row_needs_no_city_and_accepts_a_numeric_pincode():
    query = DemandQuery.model_validate({"pincode": 560961.0, "product": "loan", "channel": "online",
                                        "customer_age": 29, "customer_income": 120000})
    assert query.pincode == "560961" and query.city is None
