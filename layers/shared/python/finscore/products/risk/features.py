"""The risk feature module: the one place a customer and their transactions become model inputs.

Training (20,000 customers), the scoring API (one customer), batch scoring and the feature-store
update that runs when transactions arrive all call `compute_features`, so there is one definition
of every feature. Plain Python over the transactions plus numpy at the end: no pandas.

Windows are counted back from AS_OF: the scoring date (today) unless given, the observation date in
training. Nothing after AS_OF is used, and silence counts: a salary that stopped arriving 40 days
before AS_OF is a missed month, whether or not any transaction came since. The last 180 days
are analysed; "recent" means the last 92 days, because any 92 consecutive days hold three
occurrences of every day of the month up to the 28th, so a monthly salary or EMI paid on time is
counted three times whatever the as-of date. Monthly totals use five 30-day buckets whose grid is
shifted (by up to 30 days, so it stays inside the 180 days) so that its boundaries fall half a
month away from the customer's usual payday: a salary
paid on time then always lands in its own bucket, and only a real delay moves money between
buckets (a grid aligned on the as-of date would see two salaries in one bucket and none in the
next for half the customers and call that irregular income).

Money ratios are taken against the income reference: the declared monthly income, or the average
monthly inflow when none is declared, and never less than 1,000 INR.

Feature groups (see FEATURES for the definitions; reasons.py for the reason codes):
- cash flow: salary_delay_days, salary_missed_months, salaried, income_volatility,
  inflow_ratio_recent, balance_trend, low_balance_share
- spending: discretionary_share, spending_volatility, spend_to_income, cash_withdrawal_share
- borrowing: lending_app_txns_90d, lending_app_inflow_to_income, credit_utilisation, has_credit_limit,
  emi_to_income
- payment behaviour: failed_auto_debits_90d, late_emi_payments_90d, missed_emi_months_90d
- relationship: tenure_months

A customer without transactions gets defined values: no delays, no failures, neutral ratios.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from finscore.errors import FieldIssue, ValidationFailed
from finscore.models.manifest import FeatureSpec
from finscore.products.columns import as_matrix

WINDOW_DAYS = 180
RECENT_DAYS = 92
BUCKET_DAYS = 30
# Five, not six: the grid shift of up to 30 days must keep every bucket inside WINDOW_DAYS.
BUCKETS = (WINDOW_DAYS - BUCKET_DAYS) // BUCKET_DAYS
RECENT_MONTHS = 3
LAST_MONTH_DAYS = 30
EARLY_BALANCE_FROM_DAYS = 90
# A payment more than this many days after its usual day of the month counts as late: a weekend or
# holiday shifts a due date by up to three days without anyone being late.
LATE_AFTER_DAYS = 3
# Day-of-month differences are folded into [-10, +20]: salaries and EMIs run up to ten days early
# (paid before a holiday) or up to twenty days late; beyond that it is next month's payment.
EARLY_FOLD, LATE_FOLD = -10, 20
DAYS_PER_MONTH = 30.4
INCOME_FLOOR = 1_000.0
LOW_BALANCE_SHARE_OF_INCOME = 0.1
RATIO_CAPS = {
    "income_volatility": 3.0,
    "inflow_ratio_recent": 3.0,
    "balance_trend": 5.0,
    "spending_volatility": 3.0,
    "spend_to_income": 5.0,
    "lending_app_inflow_to_income": 10.0,
    "credit_utilisation": 2.0,
    "emi_to_income": 3.0,
    "tenure_months": 600.0,
}
DISCRETIONARY = frozenset({"dining", "shopping", "travel"})
VARIABLE_SPENDING = frozenset({"dining", "shopping", "travel", "groceries", "atm_withdrawal", "other"})
# Credits that are income; lending-app credits are borrowing and are counted as such.
INCOME_CATEGORIES = frozenset({"salary", "transfer_in", "other"})

# Each feature's domain is what compute_features can produce: counts are whole numbers from 0, shares
# lie in 0..1, ratios in 0..their cap. Features given as they are (API, batch) must lie in it.
SHARE = {"minimum": 0.0, "maximum": 1.0}
COUNT = {"type": "int", "minimum": 0.0}
MONTHS_IN_RECENT = {"type": "int", "minimum": 0.0, "maximum": float(RECENT_MONTHS)}


def _capped(name: str) -> dict[str, float]:
    return {"minimum": 0.0, "maximum": RATIO_CAPS[name]}


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(name="salary_delay_days", minimum=0.0, maximum=float(LATE_FOLD),
                description="Mean days salary credits of the last 92 days came after the usual payday"),
    FeatureSpec(name="salary_missed_months", **MONTHS_IN_RECENT,
                description="Monthly salaries expected in the last 92 days that did not arrive (0-3; 0 if not salaried)"),
    FeatureSpec(name="salaried", type="bool", description="1 when any salary was credited in the last 180 days"),
    FeatureSpec(name="income_volatility", **_capped("income_volatility"),
                description="Coefficient of variation of monthly income inflows over five months, capped at 3"),
    FeatureSpec(name="inflow_ratio_recent", **_capped("inflow_ratio_recent"),
                description="Monthly income inflow of the last two months / the three before, capped at 3 (1 = steady)"),
    FeatureSpec(name="balance_trend", minimum=-RATIO_CAPS["balance_trend"], maximum=RATIO_CAPS["balance_trend"],
                description="(mean balance of the last 30 days - mean balance 90-180 days ago) / income, -5..5"),
    FeatureSpec(name="low_balance_share", **SHARE,
                description="Share of the last 92 days' transactions leaving the balance below 10% of income"),
    FeatureSpec(name="discretionary_share", **SHARE,
                description="Dining, shopping and travel as a share of debits in the last 92 days"),
    FeatureSpec(name="spending_volatility", **_capped("spending_volatility"),
                description="Coefficient of variation of monthly variable spending over five months, capped at 3"),
    FeatureSpec(name="spend_to_income", **_capped("spend_to_income"),
                description="Debits in the last 92 days / three months of income, capped at 5"),
    FeatureSpec(name="cash_withdrawal_share", **SHARE,
                description="ATM withdrawals as a share of debits in the last 92 days"),
    FeatureSpec(name="lending_app_txns_90d", **COUNT,
                description="Lending-app transfers (either direction) in the last 92 days"),
    FeatureSpec(name="lending_app_inflow_to_income", **_capped("lending_app_inflow_to_income"),
                description="Lending-app credits in the last 92 days / monthly income, capped at 10"),
    FeatureSpec(name="credit_utilisation", **_capped("credit_utilisation"),
                description="(card spending + overdraft drawn) in the last 30 days / credit limit, capped at 2; "
                            "0 without a credit limit (has_credit_limit says which)"),
    FeatureSpec(name="has_credit_limit", type="bool",
                description="1 when the customer has a credit limit (card or overdraft)"),
    FeatureSpec(name="emi_to_income", **_capped("emi_to_income"),
                description="Largest monthly EMI (paid or attempted) in 180 days / monthly income, capped at 3"),
    FeatureSpec(name="failed_auto_debits_90d", **COUNT, description="Failed auto-debits in the last 92 days"),
    FeatureSpec(name="late_emi_payments_90d", **COUNT,
                description="EMIs of the last 92 days paid more than 3 days after the usual due day"),
    FeatureSpec(name="missed_emi_months_90d", **MONTHS_IN_RECENT,
                description="Monthly EMIs expected in the last 92 days that were not paid (0-3)"),
    FeatureSpec(name="tenure_months", **_capped("tenure_months"),
                description="Months since the relationship began, capped at 600"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(feature.name for feature in FEATURES)
FEATURE_INDEX = {name: index for index, name in enumerate(FEATURE_NAMES)}


def as_date(value: Any) -> date:
    """A date from a date, a datetime or an ISO string (a time part is ignored)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def today() -> date:
    """The scoring date: features computed without an as-of date are as of today, UTC."""
    return datetime.now(timezone.utc).date()


def _folded_delay(day: int, usual: int) -> int:
    """Days DAY (of the month) is after USUAL, folded into [EARLY_FOLD, LATE_FOLD] across month ends."""
    delta = day - usual
    if delta < EARLY_FOLD:
        delta += 30
    elif delta > LATE_FOLD:
        delta -= 30
    return delta


def _usual_day(events: list[tuple[int, int]]) -> int:
    """The most common day of the month of (age, day) EVENTS; a tie goes to the oldest event's day,
    because payments drift late under stress, not early."""
    counts = Counter(day for _, day in events)
    best = max(counts.values())
    return next(day for _, day in sorted(events, reverse=True) if counts[day] == best)


def _cv(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    if mean <= 0:
        return 0.0
    variance = sum((value - mean) ** 2 for value in values) / len(values)
    return math.sqrt(variance) / mean


def _ratio(numerator: float, denominator: float, cap: float) -> float:
    """NUMERATOR / DENOMINATOR capped at CAP; nothing over nothing is 0, something over nothing is CAP."""
    if denominator > 0:
        return min(numerator / denominator, cap)
    return cap if numerator > 0 else 0.0


def _grid_offset(end: date, payday: int | None) -> int:
    """Days from END back to the end of the monthly bucket grid: the latest day on or before END
    that falls half a month after PAYDAY (0, END itself, when there is no payday)."""
    if payday is None:
        return 0
    boundary = (payday - 1 + 15) % 28 + 1
    ordinal = end.toordinal()
    for offset in range(32):
        if date.fromordinal(ordinal - offset).day == boundary:
            return offset
    return 0


def compute_features(customer: Mapping[str, Any], transactions: Iterable[Mapping[str, Any]],
                     as_of: date | str | None = None) -> dict[str, float]:
    """The FEATURES of CUSTOMER from its TRANSACTIONS up to AS_OF (default: today, UTC); later
    transactions are ignored."""
    parsed = []
    for txn in transactions:
        moment = as_date(txn["date"])
        parsed.append((moment.toordinal(), moment.day, float(txn["amount"]), txn["direction"], txn["category"],
                       txn["channel"], float(txn["balance_after"])))
    end = as_date(as_of) if as_of is not None else today()
    end_ordinal = end.toordinal()

    salary_events: list[tuple[int, int]] = []  # (age in days, day of month)
    emi_due_events: list[tuple[int, int]] = []  # auto-debit attempts, paid or failed: they run on the due day
    emi_payments: list[tuple[int, int]] = []
    income_events: list[tuple[int, float]] = []
    variable_events: list[tuple[int, float]] = []
    balance_last_month: list[float] = []
    balance_early: list[float] = []
    income_total = debits_recent = discretionary_recent = cash_recent = 0.0
    lending_inflow_recent = card_last_month = 0.0
    lending_count = failed_count = recent_count = 0
    recent_balances: list[float] = []
    lowest_last_month = math.inf
    emi_amount = 0.0
    first_emi_age = -1
    for ordinal, day, amount, direction, category, channel, balance in parsed:
        age = end_ordinal - ordinal
        if age < 0 or age >= WINDOW_DAYS:
            continue
        recent = age < RECENT_DAYS
        if recent:
            recent_count += 1
            recent_balances.append(balance)
        if age < LAST_MONTH_DAYS:
            balance_last_month.append(balance)
            lowest_last_month = min(lowest_last_month, balance)
        elif age >= EARLY_BALANCE_FROM_DAYS:
            balance_early.append(balance)
        if category == "auto_debit_failed":
            # A bounced mandate moved no money: it counts as a failure, not as spending.
            emi_due_events.append((age, day))
            emi_amount = max(emi_amount, amount)
            first_emi_age = max(first_emi_age, age)
            if recent:
                failed_count += 1
            continue
        if direction == "credit":
            if category == "lending_app_transfer":
                if recent:
                    lending_count += 1
                    lending_inflow_recent += amount
            elif category in INCOME_CATEGORIES:
                income_events.append((age, amount))
                income_total += amount
                if category == "salary":
                    salary_events.append((age, day))
            continue
        if recent:
            debits_recent += amount
            if category in DISCRETIONARY:
                discretionary_recent += amount
            elif category == "atm_withdrawal":
                cash_recent += amount
            elif category == "lending_app_transfer":
                lending_count += 1
        if category in VARIABLE_SPENDING:
            variable_events.append((age, amount))
        if channel == "card" and age < LAST_MONTH_DAYS:
            card_last_month += amount
        if category == "emi_payment":
            emi_payments.append((age, day))
            emi_amount = max(emi_amount, amount)
            first_emi_age = max(first_emi_age, age)
            if channel == "auto_debit":
                emi_due_events.append((age, day))

    declared_income = float(customer.get("monthly_income") or 0.0)
    income_ref = max(declared_income if declared_income > 0 else income_total * BUCKET_DAYS / WINDOW_DAYS, INCOME_FLOOR)

    # Cash flow: salaries against the usual payday.
    salaried = bool(salary_events)
    payday = _usual_day(salary_events) if salaried else None
    recent_salary = [day for age, day in salary_events if age < RECENT_DAYS]
    delays = [max(_folded_delay(day, payday), 0) for day in recent_salary] if payday is not None else []
    salary_delay = sum(delays) / len(delays) if delays else 0.0
    if salaried:
        expected = min(RECENT_MONTHS, 1 + max(age for age, _ in salary_events) // BUCKET_DAYS)
        salary_missed = max(expected - len(recent_salary), 0)
    else:
        salary_missed = 0

    offset = _grid_offset(end, payday)
    income_buckets = [0.0] * BUCKETS
    for age, amount in income_events:
        bucket = (age - offset) // BUCKET_DAYS
        if 0 <= bucket < BUCKETS:
            income_buckets[bucket] += amount
    variable_buckets = [0.0] * BUCKETS
    for age, amount in variable_events:
        bucket = (age - offset) // BUCKET_DAYS
        if 0 <= bucket < BUCKETS:
            variable_buckets[bucket] += amount
    recent_inflow = (income_buckets[0] + income_buckets[1]) / 2
    earlier_inflow = sum(income_buckets[2:]) / (BUCKETS - 2)
    inflow_ratio = _ratio(recent_inflow, earlier_inflow, RATIO_CAPS["inflow_ratio_recent"]) if income_events else 1.0

    if balance_last_month and balance_early:
        drift = (sum(balance_last_month) / len(balance_last_month) - sum(balance_early) / len(balance_early)) / income_ref
        balance_trend = max(-RATIO_CAPS["balance_trend"], min(drift, RATIO_CAPS["balance_trend"]))
    else:
        balance_trend = 0.0
    low_line = LOW_BALANCE_SHARE_OF_INCOME * income_ref
    low_balance_share = sum(1 for balance in recent_balances if balance < low_line) / recent_count if recent_count else 0.0

    # Borrowing. Without a credit limit there is nothing to utilise: utilisation is 0 and the indicator
    # tells that apart from an unused limit (a cap of 2 would read as "the limit is exhausted").
    credit_limit = float(customer.get("credit_limit") or 0.0)
    overdraft = max(-lowest_last_month, 0.0) if balance_last_month else 0.0
    has_credit_limit = credit_limit > 0
    utilisation = (_ratio(card_last_month + overdraft, credit_limit, RATIO_CAPS["credit_utilisation"])
                   if has_credit_limit else 0.0)

    # Payment behaviour: EMIs against the usual due day.
    due_day = _usual_day(emi_due_events) if emi_due_events else (_usual_day(emi_payments) if emi_payments else None)
    recent_emis = [day for age, day in emi_payments if age < RECENT_DAYS]
    late_emis = sum(1 for day in recent_emis if _folded_delay(day, due_day) > LATE_AFTER_DAYS) if due_day else 0
    if first_emi_age >= 0:
        expected = min(RECENT_MONTHS, 1 + first_emi_age // BUCKET_DAYS)
        missed_emis = max(expected - len(recent_emis), 0)
    else:
        missed_emis = 0

    opened = customer.get("opened_at")
    tenure = max((end - as_date(opened)).days / DAYS_PER_MONTH, 0.0) if opened else 0.0

    return {
        "salary_delay_days": float(salary_delay),
        "salary_missed_months": float(salary_missed),
        "salaried": 1.0 if salaried else 0.0,
        "income_volatility": min(_cv(income_buckets), RATIO_CAPS["income_volatility"]),
        "inflow_ratio_recent": float(inflow_ratio),
        "balance_trend": float(balance_trend),
        "low_balance_share": float(low_balance_share),
        "discretionary_share": discretionary_recent / debits_recent if debits_recent > 0 else 0.0,
        "spending_volatility": min(_cv(variable_buckets), RATIO_CAPS["spending_volatility"]),
        "spend_to_income": min(debits_recent / (RECENT_MONTHS * income_ref), RATIO_CAPS["spend_to_income"]),
        "cash_withdrawal_share": cash_recent / debits_recent if debits_recent > 0 else 0.0,
        "lending_app_txns_90d": float(lending_count),
        "lending_app_inflow_to_income": min(lending_inflow_recent / income_ref, RATIO_CAPS["lending_app_inflow_to_income"]),
        "credit_utilisation": float(utilisation),
        "has_credit_limit": 1.0 if has_credit_limit else 0.0,
        "emi_to_income": min(emi_amount / income_ref, RATIO_CAPS["emi_to_income"]),
        "failed_auto_debits_90d": float(failed_count),
        "late_emi_payments_90d": float(late_emis),
        "missed_emi_months_90d": float(missed_emis),
        "tenure_months": min(tenure, RATIO_CAPS["tenure_months"]),
    }


def _issues(features: Mapping[str, Any], prefix: str = "") -> list[FieldIssue]:
    issues = []
    for name in FEATURE_NAMES:
        if name not in features:
            issues.append(FieldIssue(f"{prefix}{name}", "missing"))
            continue
        value = features[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            issues.append(FieldIssue(f"{prefix}{name}", "must be a number"))
        elif not math.isfinite(float(value)):
            issues.append(FieldIssue(f"{prefix}{name}", "must be finite"))
    return issues


def feature_vector(features: Mapping[str, float]) -> np.ndarray:
    """FEATURES as a float32 vector in FEATURE_NAMES order; ValidationFailed names missing or bad ones."""
    try:
        vector = np.array([float(features[name]) for name in FEATURE_NAMES], dtype=np.float32)
    except (KeyError, TypeError, ValueError):
        vector = None
    if vector is None or not np.isfinite(vector).all():
        issues = _issues(features)
        raise ValidationFailed(f"{len(issues)} feature(s) missing or invalid", issues)
    return vector


def feature_matrix(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """Many feature mappings as a float32 matrix (one row each, FEATURE_NAMES order)."""
    matrix = np.empty((len(rows), len(FEATURE_NAMES)), dtype=np.float32)
    for index, row in enumerate(rows):
        try:
            matrix[index] = [row[name] for name in FEATURE_NAMES]
        except (KeyError, TypeError, ValueError):
            issues = _issues(row, prefix=f"[{index}].")
            raise ValidationFailed(f"row {index}: {len(issues)} feature(s) missing or invalid", issues) from None
    if not np.isfinite(matrix).all():
        index = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        issues = _issues(rows[index], prefix=f"[{index}].")
        raise ValidationFailed(f"row {index}: {len(issues)} feature(s) not finite", issues)
    return matrix


class BehaviouralFeatures:
    """The risk FeatureSet: the model's input is the behavioural feature vector itself, one column each."""

    specs = FEATURES

    @staticmethod
    def matrix(columns: Mapping[str, Any]) -> np.ndarray:
        count = len(next(iter(columns.values()))) if columns else 0
        return as_matrix([np.asarray(columns[name], dtype=np.float64) for name in FEATURE_NAMES], count)


FEATURE_SET = BehaviouralFeatures()
