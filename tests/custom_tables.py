"""Users' tables the custom-model tests train on, generated with a seed: a credit table with every
kind of column and every refusal planted, a regression table and a purely linear one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

WORDS = ("customer", "called", "about", "late", "payment", "promised", "to", "pay", "next", "week", "branch",
         "visit", "salary", "delayed", "asked", "for", "restructuring", "email", "sent", "no", "answer")
EMPLOYMENT = {"salaried": 0.55, "self-employed": 0.2, "contract": 0.13, "unemployed": 0.06, "retired": 0.05,
              "student": 0.004, "homemaker": 0.004, "armed forces": 0.002}
EMPLOYMENT_RISK = {"salaried": -0.3, "self-employed": 0.2, "contract": 0.4, "unemployed": 1.2, "retired": 0.0,
                   "student": 0.5, "homemaker": 0.3, "armed forces": -0.5}
REGIONS = [f"region-{index:02d}" for index in range(12)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def credit_table(rows: int = 4_000, seed: int = 11) -> list[dict[str, Any]]:
    """Loan applications with a yes/no `default` target.

    Used: age, income (5% missing), credit_score (default falls as it rises), utilisation (a steep
    rise above 0.9), employment (rare levels), region (rare levels, 3% missing), has_mortgage
    (yes/no), application_date. Planted for refusal: customer_id (the id column), row_number
    (ID-like), product_code (constant), notes (free text), account_status_after and recovered_amount
    (both written after the outcome: they leak it).
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 70, rows)
    income = np.round(rng.lognormal(10.6, 0.5, rows), 0)
    credit_score = np.clip(rng.normal(680, 70, rows), 300, 850).round()
    utilisation = np.clip(rng.beta(2, 3, rows) * 1.3, 0, 1.3).round(3)
    employment = rng.choice(list(EMPLOYMENT), rows, p=np.array(list(EMPLOYMENT.values())) / sum(EMPLOYMENT.values()))
    region_weights = np.array([0.2, 0.15, 0.12, 0.1, 0.1, 0.1, 0.08, 0.06, 0.05, 0.02, 0.015, 0.005])
    region = rng.choice(REGIONS, rows, p=region_weights / region_weights.sum())
    mortgage = rng.random(rows) < 0.35
    start = date(2023, 1, 1)
    days = rng.integers(0, 730, rows)
    logit = (-1.9 - 0.012 * (credit_score - 680) - 0.5 * np.log(income / 40_000) + 2.6 * (utilisation > 0.9)
             + 1.2 * (age < 25) * (income < 30_000)
             + 0.8 * utilisation + np.array([EMPLOYMENT_RISK[e] for e in employment]) - 0.3 * mortgage
             + 0.3 * np.isin(region, REGIONS[6:9]))
    default = rng.random(rows) < _sigmoid(logit)
    records = []
    for i in range(rows):
        records.append({
            "customer_id": f"C{100_000 + i}",
            "row_number": i + 1,
            "age": int(age[i]),
            "income": None if rng.random() < 0.05 else float(income[i]),
            "credit_score": int(credit_score[i]),
            "utilisation": float(utilisation[i]),
            "employment": str(employment[i]),
            "region": None if rng.random() < 0.03 else str(region[i]),
            "has_mortgage": "yes" if mortgage[i] else "no",
            "application_date": (start + timedelta(days=int(days[i]))).isoformat(),
            "product_code": "PL",
            "notes": " ".join(rng.choice(WORDS, int(rng.integers(6, 14)))),
            # Written after the outcome: what happened to the account (0.3% of rows recorded wrongly).
            "account_status_after": ("written-off" if default[i] else "performing") if rng.random() > 0.003
            else ("performing" if default[i] else "written-off"),
            # Known only after the outcome: what was recovered from a defaulted loan (none otherwise).
            "recovered_amount": round(float(rng.uniform(0, 5_000)), 2) if default[i] else None,
            "default": "yes" if default[i] else "no",
        })
    return records


def regression_table(rows: int = 3_000, seed: int = 5) -> list[dict[str, Any]]:
    """Monthly card spend (`spend`) from income, age, segment, a yes/no and a date; nonlinear in income.
    Planted for refusal: statement_total, the month's statement, which is the spend itself give or take."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.4, rows)
    age = rng.integers(20, 75, rows)
    segment = rng.choice(["mass", "affluent", "premium", "student"], rows, p=[0.6, 0.25, 0.1, 0.05])
    online = rng.random(rows) < 0.5
    lift = {"mass": 0.0, "affluent": 300.0, "premium": 900.0, "student": -150.0}
    spend = (0.02 * income + 400 * np.tanh((income - 40_000) / 20_000) + np.array([lift[s] for s in segment])
             + 120 * online - 3 * (age - 45) + rng.normal(0, 120, rows))
    start = date(2024, 1, 1)
    return [{"account": f"A{i:05d}", "income": round(float(income[i]), 2), "age": int(age[i]),
             "segment": str(segment[i]), "online": bool(online[i]),
             "opened": (start + timedelta(days=int(rng.integers(0, 365)))).isoformat(),
             "statement_total": round(float(spend[i] + rng.normal(0, 15)), 2),
             "spend": round(float(spend[i]), 2)} for i in range(rows)]


def linear_table(rows: int = 4_000, seed: int = 3) -> list[dict[str, Any]]:
    """A target that is exactly a logistic function of five independent normal columns: nothing for
    trees to find that a linear model does not."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5))
    weights = np.array([0.9, -0.7, 0.5, 0.4, -0.3])
    target = rng.random(rows) < _sigmoid(x @ weights - 0.4)
    return [{**{f"x{j}": round(float(x[i, j]), 5) for j in range(5)}, "outcome": int(target[i])} for i in range(rows)]
