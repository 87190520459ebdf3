"""The recommend feature module: derived values, their edge cases, and a row that does not depend on its batch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from finscore.products.recommend.features import (
    FEATURE_NAMES,
    feature_matrix,
    financial_health_score,
    income_tier,
)
from training.recommend.generator import generate_customers

SMARTBANK = {"age": 30, "income": 75000, "employment_status": "employed", "credit_score": 720,
             "existing_products": ["basic_checking"], "monthly_spending": 2500, "savings_balance": 15000,
             "loan_amount": 0, "digital_engagement": 8, "spending_score": 65, "saving_frequency": 7, "loan_behavior": 2}


def feature(profile: dict, name: str) -> float:
    return float(feature_matrix([profile])[0, FEATURE_NAMES.index(name)])


def test_health_score_of_the_smartbank_profile():
    # income 75k/150k = 0.5; credit (720-300)/550; savings 15k/50k = 0.3; spends 30k of 75k -> 0.6
    expected = 100 * (0.40 * 0.5 + 0.25 * (420 / 550) + 0.20 * 0.3 + 0.15 * 0.6)
    assert feature(SMARTBANK, "financial_health_score") == pytest.approx(expected, abs=1e-4)
    assert expected == pytest.approx(54.09, abs=0.01)


@pytest.mark.parametrize(
    ("income", "credit", "savings", "spending", "expected"),
    [
        (150_000, 850, 50_000, 0, 100.0),  # every component at its cap
        (1_000_000, 850, 900_000, 0, 100.0),  # caps hold above them
        (0, 300, 0, 100, 0.0),  # no income, spending anything: spent it all
        (0, 300, 0, 0, 15.0),  # no income, no spending: the spending component is whole
        (60_000, 300, 0, 5_000, 100 * 0.40 * 0.4),  # spending the whole income leaves only the income part
    ],
)
def test_health_score_bounds_and_caps(income, credit, savings, spending, expected):
    assert financial_health_score(income, credit, savings, spending) == pytest.approx(expected)


def test_spending_less_is_healthier():
    scores = [financial_health_score(60_000, 700, 10_000, spending) for spending in (500, 1_500, 3_000, 6_000)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4


@pytest.mark.parametrize(
    ("income", "tier"),
    [(0, "low"), (29_999.99, "low"), (30_000, "medium"), (70_000, "medium"), (70_000.01, "high"), (10_000_000, "high")],
)
def test_income_tier_boundaries(income, tier):
    assert income_tier(income) == tier
    assert ("low", "medium", "high")[int(feature({**SMARTBANK, "income": income}, "income_tier"))] == tier


def test_zero_spending_caps_the_income_to_spending_ratio():
    profile = {**SMARTBANK, "monthly_spending": 0}
    assert feature(profile, "income_to_spending_ratio") == 10.0
    assert feature(profile, "savings_capacity") == 1.0


def test_zero_income_gives_finite_ratios():
    profile = {**SMARTBANK, "income": 0, "monthly_spending": 800, "loan_amount": 5_000}
    row = feature_matrix([profile])
    assert np.isfinite(row).all()
    assert feature(profile, "income_to_spending_ratio") == 0.0
    assert feature(profile, "savings_capacity") == -1.0
    assert feature(profile, "debt_to_income_ratio") == 10.0
    assert feature({**profile, "loan_amount": 0}, "debt_to_income_ratio") == 0.0


def test_ratios_of_an_ordinary_profile():
    assert feature(SMARTBANK, "income_to_spending_ratio") == pytest.approx(6250 / 2500)
    assert feature(SMARTBANK, "savings_capacity") == pytest.approx(0.6)
    assert feature({**SMARTBANK, "loan_amount": 150_000}, "debt_to_income_ratio") == pytest.approx(2.0)
    assert feature(SMARTBANK, "log_income") == pytest.approx(math.log1p(75_000))


def test_digital_adoption_counts_digital_services_held_up_to_two():
    base = {**SMARTBANK, "digital_engagement": 5}
    assert feature(base, "digital_adoption_score") == pytest.approx(0.4)
    one = {**base, "existing_products": ["basic_checking", "budgeting_tools"]}
    assert feature(one, "digital_adoption_score") == pytest.approx(0.5)
    three = {**base, "existing_products": ["budgeting_tools", "investment_platform", "basic_mobile_banking"]}
    assert feature(three, "digital_adoption_score") == pytest.approx(0.6)


def test_employment_is_one_hot():
    row = feature_matrix([{**SMARTBANK, "employment_status": "retired"}])[0]
    flags = {name: row[i] for i, name in enumerate(FEATURE_NAMES) if name.startswith("employment_")}
    assert flags == {"employment_employed": 0, "employment_self_employed": 0, "employment_unemployed": 0,
                     "employment_student": 0, "employment_retired": 1}


def test_a_profile_scored_alone_equals_its_row_in_a_batch():
    # Given generated customers plus the edge cases of the ratios
    profiles = generate_customers(2_000, seed=3) + [
        {**SMARTBANK, "income": 0, "monthly_spending": 0},
        {**SMARTBANK, "income": 0, "monthly_spending": 900, "loan_amount": 1},
        {**SMARTBANK, "monthly_spending": 0, "existing_products": []},
    ]
    # When they are computed together and one by one (the API's single record)
    matrix = feature_matrix(profiles)
    rows = np.vstack([feature_matrix([profile]) for profile in profiles])
    # Then they agree bit for bit, as float32
    assert matrix.dtype == rows.dtype == np.float32
    assert matrix.shape == (len(profiles), len(FEATURE_NAMES))
    np.testing.assert_array_equal(matrix, rows)
