"""A seeded synthetic Indian retail-banking portfolio: customers, six months of transactions, labels.

Every customer has hidden traits: financial stress (a standard normal), an employer (with its own
payday; one employer in ten is struggling and pays late), whether an income shock (job loss, a
medical bill) hit in the last three months, an EMI, rent, spending habits and a taste for
lending-app credit. The transactions follow from those traits: salaries on the employer's payday
with occasional delays (frequent for struggling employers and after a shock), EMI auto-debits on
the due day that bounce more often when salary is late or the customer is stressed (then paid late
by hand, re-presented or missed), ATM withdrawals, lending-app credits and their repayments,
utilities, rent and discretionary spending, with the balance after each transaction.

The label, 60+ days past due in the period after the as-of date, is drawn from the hidden traits
and the EMIs actually missed, with noise, at a base rate of about 10%. No label or trait is written
into a customer or transaction field: the model only sees what a bank would.

All arrays are drawn with numpy per month and event type, so 20,000 customers (about 1.3 million
transactions) take a few seconds.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from finscore.products.risk.records import CATEGORIES, TXN_CHANNELS

AS_OF = date(2025, 6, 30)
BASE_RATE = 0.10
EMPLOYERS_PER_CUSTOMER = 1 / 60
PAYDAYS = np.array([1, 1, 1, 1, 3, 5, 7, 7, 10, 15, 25, 28])
EMI_DUE_DAYS = np.array([2, 5, 5, 7, 10, 10, 15])

FIRST_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Rohan", "Karan", "Rahul", "Vikram", "Amit", "Suresh", "Rajesh",
    "Manoj", "Imran", "Farhan", "Gurpreet", "Harish", "Naveen", "Pranav", "Kiran", "Ananya", "Diya", "Priya",
    "Sneha", "Pooja", "Kavya", "Meera", "Lakshmi", "Fatima", "Ayesha", "Neha", "Riya", "Divya", "Sunita", "Anjali",
    "Shreya", "Nisha", "Harpreet", "Deepa", "Swati",
)
SURNAMES = (
    "Sharma", "Verma", "Gupta", "Patel", "Shah", "Reddy", "Rao", "Iyer", "Nair", "Menon", "Kumar", "Singh", "Yadav",
    "Mishra", "Joshi", "Kulkarni", "Deshpande", "Chatterjee", "Banerjee", "Das", "Mukherjee", "Khan", "Ansari",
    "Sheikh", "Gill", "Sandhu", "Pillai", "Naidu", "Agarwal", "Jain",
)
# City, population weight, share of Hindi-preferring customers.
CITIES = (
    ("Mumbai", 14, 0.30), ("Delhi", 14, 0.65), ("Bengaluru", 10, 0.12), ("Hyderabad", 8, 0.20),
    ("Chennai", 7, 0.05), ("Kolkata", 7, 0.20), ("Pune", 6, 0.30), ("Ahmedabad", 5, 0.35), ("Jaipur", 4, 0.80),
    ("Lucknow", 4, 0.85), ("Kanpur", 3, 0.85), ("Nagpur", 3, 0.55), ("Indore", 3, 0.80), ("Bhopal", 3, 0.80),
    ("Patna", 3, 0.90), ("Chandigarh", 2, 0.60), ("Kochi", 2, 0.03), ("Coimbatore", 2, 0.03), ("Surat", 2, 0.35),
    ("Varanasi", 2, 0.90),
)

CREDIT, DEBIT = 0, 1
DIRECTION_NAMES = ("credit", "debit")
CATEGORY = {name: index for index, name in enumerate(CATEGORIES)}
CHANNEL = {name: index for index, name in enumerate(TXN_CHANNELS)}


@dataclass(frozen=True)
class Portfolio:
    """Customers and transactions shaped like CustomerRecord / TransactionRecord (dates as ISO strings),
    labels by customer_id (1: 60+ days past due in the period after AS_OF), and that as-of date."""

    customers: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    labels: dict[str, int]
    as_of: date = AS_OF


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Events:
    """Transactions collected as parallel arrays, one append per event type and month."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, customer: np.ndarray, day: np.ndarray, amount: np.ndarray, direction: int, category: str,
            channel: np.ndarray | str) -> None:
        count = len(customer)
        if count == 0:
            return
        channels = np.full(count, CHANNEL[channel]) if isinstance(channel, str) else channel
        self.parts.append((customer.astype(np.int64), day.astype(np.int64), np.asarray(amount, dtype=np.float64),
                           np.full(count, direction), np.full(count, CATEGORY[category]), channels.astype(np.int64)))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate([part[i] for part in self.parts]) for i in range(6))


def _channels(rng: np.random.Generator, count: int, options: dict[str, float]) -> np.ndarray:
    names = list(options)
    shares = np.array([options[name] for name in names])
    return np.array([CHANNEL[name] for name in names])[rng.choice(len(names), size=count, p=shares / shares.sum())]


def _poisson_days(rng: np.random.Generator, rate: np.ndarray, start: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Customers (repeated per event) and days of Poisson(RATE) events spread over one month."""
    counts = rng.poisson(rate)
    customer = np.repeat(np.arange(len(rate)), counts)
    return customer, start + rng.integers(0, length, size=len(customer))


def _lognormal_amount(rng: np.random.Generator, scale: np.ndarray, sigma: float, low: float, high: float,
                      step: float = 1.0) -> np.ndarray:
    amount = np.clip(scale * rng.lognormal(0.0, sigma, size=len(scale)), low, high)
    return np.maximum(np.round(amount / step) * step, step)


def generate_portfolio(customers: int = 20_000, seed: int = 7, months: int = 6, as_of: date = AS_OF) -> Portfolio:
    """CUSTOMERS customers with MONTHS calendar months of transactions up to AS_OF, the last day of a
    month (training's fixed date by default; the local seed's is the last month end before today);
    same seed, same data."""
    if (as_of + timedelta(days=1)).day != 1:
        raise ValueError(f"as_of must be the last day of a month, got {as_of}")
    rng = np.random.default_rng(seed)
    n = customers
    first_month = as_of.month - months + 1
    starts, lengths = [], []
    for index in range(months):
        year, month = as_of.year + (first_month + index - 1) // 12, (first_month + index - 1) % 12 + 1
        starts.append(date(year, month, 1))
        lengths.append(calendar.monthrange(year, month)[1])
    origin = starts[0]
    horizon = (as_of - origin).days + 1
    month_start = [(start - origin).days for start in starts]

    # Hidden traits.
    stress = rng.normal(size=n)
    self_employed = rng.random(n) < 0.18
    employers = max(20, int(n * EMPLOYERS_PER_CUSTOMER))
    employer = rng.integers(0, employers, size=n)
    employer_payday = rng.choice(PAYDAYS, size=employers)
    employer_struggling = rng.random(employers) < 0.10
    payday = employer_payday[employer]
    struggling = employer_struggling[employer] & ~self_employed
    shocked = rng.random(n) < _sigmoid(-3.0 + 1.0 * stress)
    shock_month = rng.integers(months - 3, months, size=n)
    income = np.clip(np.round(42_000 * np.exp(-0.12 * stress) * rng.lognormal(0.0, 0.55, size=n), -2), 12_000, 600_000)
    has_emi = rng.random(n) < 0.50 + 0.15 * (stress > 0)
    emi = np.where(has_emi, np.round(income * np.clip(rng.normal(0.20 + 0.07 * stress, 0.07), 0.04, 0.65), -1), 0.0)
    emi_due = rng.choice(EMI_DUE_DAYS, size=n)
    renter = rng.random(n) < 0.40
    rent = np.round(income * rng.uniform(0.15, 0.35, size=n), -2)
    rent_day = rng.integers(1, 6, size=n)
    credit_limit = np.where(rng.random(n) < 0.70, np.round(income * rng.uniform(0.8, 3.0, size=n), -3), 0.0)
    discretionary = np.exp(rng.normal(0.30 * stress, 0.45))
    spend_level = np.exp(rng.normal(0.30 * stress, 0.10))
    lending_rate = np.exp(-2.6 + 1.1 * stress)
    opening = np.round(income * np.exp(rng.normal(-0.2 - 0.6 * stress, 0.6)), 2)

    events = _Events()
    emi_missed_recent = np.zeros(n, dtype=np.int64)
    salaried_index = np.flatnonzero(~self_employed)
    for m, (start, length) in enumerate(zip(month_start, lengths)):
        shock = shocked & (m >= shock_month)

        # Salaries on the employer's payday; delays are frequent at struggling employers and after a
        # shock, and a shock often stops the salary altogether.
        s = salaried_index
        p_delay = np.clip(0.04 + 0.35 * struggling[s] + 0.05 * (stress[s] > 1) + 0.5 * shock[s], 0, 0.95)
        delay = np.where(rng.random(len(s)) < p_delay,
                         1 + rng.poisson(3 + 5 * shock[s] + 4 * struggling[s]), 0)
        missing = rng.random(len(s)) < 0.01 + 0.6 * shock[s]
        salary_day = np.full(n, 10_000)
        salary_day[s] = np.where(missing, 10_000, start + payday[s] - 1 + delay)
        paid = s[salary_day[s] < horizon]
        bonus = np.where(rng.random(len(paid)) < 0.04, 1.5, 1.0)
        events.add(paid, salary_day[paid], np.round(income[paid] * bonus * rng.normal(1.0, 0.01, len(paid)), 0),
                   CREDIT, "salary", "netbanking")

        # The self-employed are paid by their own customers, irregularly.
        business = np.flatnonzero(self_employed)
        who, day = _poisson_days(rng, np.full(len(business), 4.0), start, length)
        who = business[who]
        scale = income[who] / 4 * np.where(shock[who], 0.4, 1.0)
        events.add(who, day, _lognormal_amount(rng, scale, 0.5, 200, 1e7), CREDIT, "transfer_in",
                   _channels(rng, len(who), {"upi": 0.6, "netbanking": 0.3, "branch": 0.1}))
        who, day = _poisson_days(rng, np.where(self_employed, 0.0, 0.25), start, length)
        events.add(who, day, _lognormal_amount(rng, income[who] * 0.1, 0.6, 200, 1e6), CREDIT, "transfer_in", "upi")

        # EMIs: the auto-debit on the due day bounces more often when this month's salary came after it.
        e = np.flatnonzero(has_emi)
        due = start + emi_due[e] - 1
        salary_after_due = (salary_day[e] > due) & ~self_employed[e]
        p_fail = _sigmoid(-4.2 + 1.3 * stress[e] + 2.2 * shock[e] + 1.5 * salary_after_due)
        failed = rng.random(len(e)) < p_fail
        ok = e[~failed]
        events.add(ok, due[~failed], emi[ok], DEBIT, "emi_payment", "auto_debit")
        bounced, bounced_due = e[failed], due[failed]
        events.add(bounced, bounced_due, emi[bounced], DEBIT, "auto_debit_failed", "auto_debit")
        cured = rng.random(len(bounced)) < _sigmoid(1.2 - 0.9 * stress[bounced] - 1.5 * shock[bounced])
        late_day = bounced_due + 3 + rng.poisson(6, size=len(bounced))
        keep = cured & (late_day < horizon)
        events.add(bounced[keep], late_day[keep], emi[bounced[keep]], DEBIT, "emi_payment",
                   _channels(rng, int(keep.sum()), {"netbanking": 0.5, "upi": 0.3, "branch": 0.2}))
        represented = ~cured & (rng.random(len(bounced)) < 0.4) & (bounced_due + 5 < horizon)
        events.add(bounced[represented], bounced_due[represented] + 5, emi[bounced[represented]], DEBIT,
                   "auto_debit_failed", "auto_debit")
        if m >= months - 3:
            np.add.at(emi_missed_recent, bounced[~cured], 1)

        # Bills, rent and everyday spending.
        everyone = np.arange(n)
        events.add(everyone, start + rng.integers(4, 20, size=n),
                   _lognormal_amount(rng, income * 0.025, 0.4, 300, 8_000), DEBIT, "utility_payment",
                   _channels(rng, n, {"upi": 0.5, "netbanking": 0.3, "auto_debit": 0.2}))
        events.add(everyone, start + rng.integers(0, length, size=n), rng.choice([199.0, 299.0, 479.0, 719.0, 999.0], n),
                   DEBIT, "utility_payment", "upi")
        tenants = np.flatnonzero(renter)
        events.add(tenants, start + rent_day[tenants] - 1, rent[tenants], DEBIT, "rent",
                   _channels(rng, len(tenants), {"netbanking": 0.6, "upi": 0.4}))
        who, day = _poisson_days(rng, 1.0 + 0.4 * np.maximum(stress, 0) + 0.8 * shock, start, length)
        events.add(who, day, _lognormal_amount(rng, income[who] * 0.05, 0.5, 500, 20_000, step=500), DEBIT,
                   "atm_withdrawal", "atm")
        who, day = _poisson_days(rng, np.full(n, 2.2), start, length)
        events.add(who, day, _lognormal_amount(rng, income[who] * 0.05 * spend_level[who], 0.5, 50, 50_000), DEBIT,
                   "groceries", _channels(rng, len(who), {"upi": 0.7, "card": 0.3}))
        cut_back = np.where(shock, 0.6, 1.0)
        for category, rate, share, sigma in (("dining", 1.2, 0.012, 0.6), ("shopping", 0.9, 0.07, 0.8),
                                             ("travel", 0.12, 0.2, 0.5)):
            who, day = _poisson_days(rng, rate * discretionary * cut_back, start, length)
            events.add(who, day, _lognormal_amount(rng, income[who] * share * spend_level[who], sigma, 50, 1e6), DEBIT,
                       category, _channels(rng, len(who), {"card": 0.55, "upi": 0.45}))
        who, day = _poisson_days(rng, np.full(n, 0.5), start, length)
        events.add(who, day, _lognormal_amount(rng, income[who] * 0.15 * spend_level[who], 0.7, 100, 1e6), DEBIT, "transfer_out",
                   _channels(rng, len(who), {"upi": 0.7, "netbanking": 0.3}))

        # Lending-app credit, repaid two to four weeks later unless the customer is in trouble.
        who, day = _poisson_days(rng, lending_rate + 0.6 * shock, start, length)
        loan = np.round(rng.uniform(3_000, 25_000, size=len(who)) * (income[who] / 42_000) ** 0.3, -2)
        events.add(who, day, loan, CREDIT, "lending_app_transfer", "upi")
        repaid = rng.random(len(who)) < _sigmoid(2.0 - 0.8 * stress[who] - 1.5 * shock[who])
        repay_day = day + rng.integers(14, 31, size=len(who))
        keep = repaid & (repay_day < horizon)
        events.add(who[keep], repay_day[keep], np.round(loan[keep] * rng.uniform(1.08, 1.3, int(keep.sum())), 0), DEBIT,
                   "lending_app_transfer", "upi")

    customer, day, amount, direction, category, channel = events.arrays()
    inside = day < horizon
    customer, day, amount, direction, category, channel = (
        column[inside] for column in (customer, day, amount, direction, category, channel))
    # Chronological per customer; within a day credits land before debits.
    order = np.lexsort((rng.random(len(day)), direction, day, customer))
    customer, day, amount, direction, category, channel = (
        column[order] for column in (customer, day, amount, direction, category, channel))
    moved = np.where(category == CATEGORY["auto_debit_failed"], 0.0, np.where(direction == CREDIT, amount, -amount))
    running = np.cumsum(moved)
    first = np.searchsorted(customer, np.arange(n))
    before_first = np.where(first > 0, running[np.maximum(first - 1, 0)], 0.0)
    balance = np.round(opening[customer] + running - before_first[customer], 2)
    sequence = np.arange(len(customer)) - first[customer] + 1

    # Labels from the hidden traits and the EMIs actually missed, with noise; the intercept is set so
    # that the portfolio's expected default rate is BASE_RATE.
    logit = (1.1 * stress + 2.2 * shocked + 0.5 * struggling + 0.6 * (emi > 0.4 * income) + 0.7 * emi_missed_recent
             + 0.25 * np.log1p(lending_rate * months) + rng.normal(0.0, 0.3, size=n))
    low, high = -15.0, 5.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if _sigmoid(logit + middle).mean() < BASE_RATE else (low, middle)
    delinquent = rng.random(n) < _sigmoid(logit + (low + high) / 2)

    ids = [f"C{index + 1:06d}" for index in range(n)]
    customers_out = _customers(rng, ids, income, credit_limit, stress, as_of)
    dates = [(origin + timedelta(days=offset)).isoformat() for offset in range(horizon)]
    categories, channels = CATEGORIES, TXN_CHANNELS
    transactions = [
        {"txn_id": f"{ids[c]}-{k:04d}", "customer_id": ids[c], "date": dates[d], "amount": a,
         "direction": DIRECTION_NAMES[r], "category": categories[g], "channel": channels[h], "balance_after": b}
        for c, k, d, a, r, g, h, b in zip(customer.tolist(), sequence.tolist(), day.tolist(), amount.tolist(),
                                         direction.tolist(), category.tolist(), channel.tolist(), balance.tolist())
    ]
    labels = dict(zip(ids, delinquent.astype(int).tolist()))
    return Portfolio(customers=customers_out, transactions=transactions, labels=labels, as_of=as_of)


def _customers(rng: np.random.Generator, ids: list[str], income: np.ndarray, credit_limit: np.ndarray,
               stress: np.ndarray, as_of: date) -> list[dict[str, Any]]:
    n = len(ids)
    first = rng.integers(0, len(FIRST_NAMES), size=n)
    last = rng.integers(0, len(SURNAMES), size=n)
    weights = np.array([weight for _, weight, _ in CITIES], dtype=float)
    city = rng.choice(len(CITIES), size=n, p=weights / weights.sum())
    hindi = rng.random(n) < np.array([share for _, _, share in CITIES])[city]
    channel = rng.choice(["sms", "app", "email"], size=n, p=[0.45, 0.35, 0.20])
    age = np.clip(np.rint(rng.normal(36, 10, size=n)), 21, 75).astype(int)
    # Stressed customers are a little more often new to the bank.
    tenure_days = np.rint(200 + rng.exponential(1_800, size=n) * np.exp(-0.2 * stress)).astype(int)
    phone = rng.integers(6_000_000_000, 10_000_000_000, size=n)
    out = []
    for i in range(n):
        given, family = FIRST_NAMES[first[i]], SURNAMES[last[i]]
        out.append({
            "customer_id": ids[i],
            "name": f"{given} {family}",
            "age": int(age[i]),
            "city": CITIES[city[i]][0],
            "phone": f"+91{phone[i]}",
            "email": f"{given}.{family}{i + 1}@example.in".lower(),
            "preferred_language": "hi" if hindi[i] else "en",
            "preferred_channel": str(channel[i]),
            "monthly_income": float(income[i]),
            "credit_limit": float(credit_limit[i]),
            "opened_at": (as_of - timedelta(days=int(tenure_days[i]))).isoformat(),
        })
    return out
