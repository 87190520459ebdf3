"""Seeded synthetic bank customers for recommend: profiles drawn from six personas, labels from rules.

Each persona (students, young professionals, families with a mortgage, affluent savers, retirees,
stretched households) draws log-normal incomes and balances and persona-typical scores, so the
segments K-Means finds are real. The product a customer took per category follows from the
profile by bank-like eligibility rules, then LABEL_NOISE of labels are redrawn at random so the
trees cannot be perfect. Labels are never copied into a profile field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from finscore.products.recommend.catalog import PRODUCTS_BY_CATEGORY, label_column
from finscore.products.recommend.features import financial_health_score

LABEL_NOISE = 0.07


@dataclass(frozen=True)
class Persona:
    name: str
    weight: float
    age: tuple[float, float, float, float]  # mean, sd, min, max
    median_income: float
    employment: dict[str, float]
    credit: tuple[float, float]  # mean, sd
    spend_share: tuple[float, float]  # share of monthly income spent: mean, sd
    median_savings: float
    loan_probability: float
    median_loan: float
    digital: tuple[float, float]
    spending_score: tuple[float, float]
    saving_frequency: tuple[float, float]
    loan_behavior: tuple[float, float]


PERSONAS = (
    Persona("student", 0.12, (21, 2, 18, 27), 12_000, {"student": 0.85, "employed": 0.15}, (640, 40),
            (0.95, 0.15), 1_500, 0.35, 8_000, (8.0, 1.5), (62, 15), (2, 1.5), (1, 1)),
    Persona("young_professional", 0.22, (29, 3, 22, 40), 55_000, {"employed": 0.9, "self_employed": 0.1}, (690, 40),
            (0.6, 0.12), 9_000, 0.45, 18_000, (8.0, 1.5), (65, 14), (5, 2), (2, 1)),
    Persona("family", 0.24, (44, 6, 30, 62), 85_000, {"employed": 0.85, "self_employed": 0.15}, (730, 40),
            (0.65, 0.1), 30_000, 0.9, 220_000, (5.5, 2.0), (55, 14), (5, 2), (2, 1)),
    Persona("affluent", 0.14, (52, 7, 35, 75), 170_000, {"employed": 0.6, "self_employed": 0.4}, (790, 30),
            (0.4, 0.1), 250_000, 0.4, 60_000, (6.5, 2.0), (40, 14), (8, 1.5), (1, 1)),
    Persona("retiree", 0.14, (72, 5, 62, 95), 35_000, {"retired": 0.95, "self_employed": 0.05}, (750, 40),
            (0.7, 0.12), 90_000, 0.08, 10_000, (3.0, 2.0), (35, 12), (3, 1.5), (0.5, 0.7)),
    Persona("stretched", 0.14, (38, 9, 20, 65), 24_000, {"employed": 0.5, "unemployed": 0.4, "self_employed": 0.1},
            (570, 50), (1.0, 0.2), 800, 0.7, 15_000, (4.5, 2.0), (78, 12), (1, 1), (4, 1)),
)


def generate_customers(rows: int, seed: int) -> list[dict[str, Any]]:
    """ROWS customers with labels, identical for the same (rows, seed)."""
    rng = np.random.default_rng(seed)
    weights = np.array([persona.weight for persona in PERSONAS])
    persona_index = rng.choice(len(PERSONAS), size=rows, p=weights / weights.sum())
    customers: list[dict[str, Any]] = [{} for _ in range(rows)]
    for index, persona in enumerate(PERSONAS):
        members = np.flatnonzero(persona_index == index)
        for position, profile in zip(members, _draw_profiles(persona, len(members), rng)):
            customers[position] = profile
    for customer in customers:
        _assign_labels(customer, rng)
    return customers


def _normal(rng: np.random.Generator, mean_sd: tuple[float, float], size: int, low: float, high: float) -> np.ndarray:
    return np.clip(rng.normal(mean_sd[0], mean_sd[1], size), low, high)


def _draw_profiles(persona: Persona, count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    mean_age, sd_age, min_age, max_age = persona.age
    age = np.rint(_normal(rng, (mean_age, sd_age), count, min_age, max_age))
    income = np.round(persona.median_income * rng.lognormal(0.0, 0.35, count), -2)
    statuses = list(persona.employment)
    shares = np.array([persona.employment[status] for status in statuses])
    employment = rng.choice(statuses, size=count, p=shares / shares.sum())
    # Unemployment halves income (benefits, odd jobs) rather than zeroing it: a zero income is rare.
    income = np.where(employment == "unemployed", np.round(income * 0.5, -2), income)
    credit = np.rint(_normal(rng, persona.credit, count, 300, 850))
    spend_share = _normal(rng, persona.spend_share, count, 0.05, 2.0)
    spending = np.round(income / 12.0 * spend_share, -1)
    savings = np.round(persona.median_savings * rng.lognormal(0.0, 0.8, count))
    has_loan = rng.random(count) < persona.loan_probability
    loan = np.where(has_loan, np.round(persona.median_loan * rng.lognormal(0.0, 0.5, count), -2), 0.0)
    digital = np.rint(_normal(rng, persona.digital, count, 0, 10))
    spending_score = np.rint(_normal(rng, persona.spending_score, count, 0, 100))
    saving_frequency = np.rint(_normal(rng, persona.saving_frequency, count, 0, 10))
    loan_behavior = np.rint(_normal(rng, persona.loan_behavior, count, 0, 5))
    held_draws = rng.random((count, 3))

    profiles = []
    for i in range(count):
        profile = {
            "age": int(age[i]),
            "income": float(income[i]),
            "employment_status": str(employment[i]),
            "credit_score": int(credit[i]),
            "monthly_spending": float(spending[i]),
            "savings_balance": float(savings[i]),
            "loan_amount": float(loan[i]),
            "digital_engagement": float(digital[i]),
            "spending_score": float(spending_score[i]),
            "saving_frequency": int(saving_frequency[i]),
            "loan_behavior": int(loan_behavior[i]),
        }
        profile["existing_products"] = _held_products(profile, persona, held_draws[i])
        profiles.append(profile)
    return profiles


def _held_products(profile: dict[str, Any], persona: Persona, draws: np.ndarray) -> list[str]:
    """What a customer of this persona typically holds already: an account, some savings, a loan if owing."""
    held = []
    if persona.name == "student" and draws[0] < 0.7:
        held.append("student_account")
    elif persona.name == "affluent" and draws[0] < 0.5:
        held.append("premium_checking")
    elif draws[0] < 0.75:
        held.append("basic_checking")
    if draws[1] < 0.4:
        held.append("standard_savings")
    if profile["loan_amount"] >= 100_000:
        held.append("home_mortgage")
    elif profile["loan_amount"] > 0:
        held.append("auto_loan" if draws[2] < 0.5 else "personal_loan")
    if profile["digital_engagement"] >= 5 and draws[2] < 0.6:
        held.append("basic_mobile_banking")
    return held


def _assign_labels(customer: dict[str, Any], rng: np.random.Generator) -> None:
    for category, product in eligible_products(customer).items():
        if rng.random() < LABEL_NOISE:
            options = PRODUCTS_BY_CATEGORY[category]
            product = options[int(rng.integers(len(options)))]
        customer[label_column(category)] = product


def eligible_products(profile: dict[str, Any]) -> dict[str, str]:
    """The product per category a bank's eligibility rules would offer PROFILE (before label noise)."""
    age, income, status = profile["age"], profile["income"], profile["employment_status"]
    credit, savings, loan = profile["credit_score"], profile["savings_balance"], profile["loan_amount"]
    digital, frequency, behaviour = profile["digital_engagement"], profile["saving_frequency"], profile["loan_behavior"]
    health = financial_health_score(income, credit, savings, profile["monthly_spending"])
    capacity = 1.0 - 12.0 * profile["monthly_spending"] / income if income > 0 else -1.0

    if status == "student" and age <= 25:
        account = "student_account"
    elif status == "self_employed" and income >= 40_000:
        account = "business_account"
    elif income >= 90_000 or (health >= 70 and income >= 60_000):
        account = "premium_checking"
    else:
        account = "basic_checking"

    if savings >= 100_000 and income >= 100_000:
        savings_product = "money_market"
    elif frequency >= 6 and savings >= 20_000:
        savings_product = "high_yield_savings"
    elif age >= 55 and behaviour <= 1 and savings >= 30_000:
        savings_product = "certificate_of_deposit"
    else:
        savings_product = "standard_savings"

    if behaviour >= 4 or credit < 600 or status == "unemployed":
        loan_product = "no_loan"
    elif 28 <= age <= 55 and income >= 60_000 and credit >= 680 and loan < 100_000:
        loan_product = "home_mortgage"
    elif income >= 30_000 and credit >= 640 and status in ("employed", "self_employed"):
        loan_product = "auto_loan" if age < 45 else "personal_loan"
    else:
        loan_product = "personal_loan" if credit >= 620 else "no_loan"

    if digital >= 7 and savings >= 30_000 and income >= 70_000:
        digital_product = "investment_platform"
    elif digital >= 7:
        digital_product = "premium_digital_banking"
    elif profile["spending_score"] >= 70 or capacity < 0.1:
        digital_product = "budgeting_tools"
    else:
        digital_product = "basic_mobile_banking"

    return {"account": account, "savings": savings_product, "loan": loan_product, "digital_service": digital_product}

