"""The recommend request schema: every bad field is named, the catalogue is the only source of ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from finscore.products.recommend.catalog import PRODUCT_IDS
from finscore.products.recommend.api_models import CustomerProfile, RecommendationResponse

SMARTBANK = {"age": 30, "income": 75000, "employment_status": "employed", "credit_score": 720,
             "existing_products": ["basic_checking"], "monthly_spending": 2500, "savings_balance": 15000,
             "loan_amount": 0, "digital_engagement": 8, "spending_score": 65, "saving_frequency": 7, "loan_behavior": 2}


def bad_fields(body: dict) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        CustomerProfile.model_validate(body)
    return {".".join(str(part) for part in error["loc"]) for error in caught.value.errors()}


def test_the_smartbank_body_is_valid():
    profile = CustomerProfile.model_validate(SMARTBANK)
    assert profile.model_dump() == SMARTBANK


def test_existing_products_default_to_none_held():
    body = {k: v for k, v in SMARTBANK.items() if k != "existing_products"}
    assert CustomerProfile.model_validate(body).existing_products == []


def test_every_missing_field_is_named():
    assert bad_fields({}) == set(SMARTBANK) - {"existing_products"}


def test_every_out_of_range_field_is_named():
    body = {**SMARTBANK, "age": 17, "income": -1, "credit_score": 851, "monthly_spending": -5,
            "savings_balance": -1, "loan_amount": -1, "digital_engagement": 11, "spending_score": 101,
            "saving_frequency": 11, "loan_behavior": 6}
    assert bad_fields(body) == set(SMARTBANK) - {"employment_status", "existing_products"}


def test_range_ends_are_accepted():
    CustomerProfile.model_validate({**SMARTBANK, "age": 18, "credit_score": 300, "income": 0, "spending_score": 0,
                                    "saving_frequency": 10, "loan_behavior": 5, "digital_engagement": 10})
    CustomerProfile.model_validate({**SMARTBANK, "age": 100, "credit_score": 850, "income": 10_000_000})


def test_held_products_may_come_as_a_file_cell_writes_them():
    for cell in ("basic_checking;money_market", "basic_checking | money_market", '["basic_checking", "money_market"]'):
        profile = CustomerProfile.model_validate({**SMARTBANK, "existing_products": cell})
        assert profile.existing_products == ["basic_checking", "money_market"]


def test_wrong_types_are_named():
    body = {**SMARTBANK, "age": "thirty", "income": "a lot", "existing_products": 5,
            "saving_frequency": 7.5, "employment_status": "astronaut"}
    assert bad_fields(body) == {"age", "income", "existing_products", "saving_frequency", "employment_status"}


def test_unknown_products_are_named_by_position():
    body = {**SMARTBANK, "existing_products": ["basic_checking", "gold_card", "money_market", "crypto"]}
    assert bad_fields(body) == {"existing_products.1", "existing_products.3"}


def test_unknown_fields_are_refused():
    assert bad_fields({**SMARTBANK, "existing_produtcs": ["money_market"]}) == {"existing_produtcs"}


def test_every_catalogue_product_is_accepted():
    assert CustomerProfile.model_validate({**SMARTBANK, "existing_products": list(PRODUCT_IDS)}).existing_products


def test_the_openapi_schema_documents_every_field():
    schema = CustomerProfile.model_json_schema()
    assert all(schema["properties"][name].get("description") for name in SMARTBANK)
    assert set(schema["properties"]["existing_products"]["items"]["enum"]) == set(PRODUCT_IDS)
    response = RecommendationResponse.model_json_schema()
    assert all(response["properties"][name].get("description") for name in response["properties"])
