"""Synthetic weekly sales of loans, credit cards and insurance across Indian pincodes, seeded.

Structure a demand model has to find, and a naive forecast misses:
- cities (catalogue) with their own income level and product mix: metros buy more cards and buy
  online, smaller cities take more loans and insurance through agents; pincodes vary around their city;
- a weekly pattern inside each week (online sales peak at the weekend, agents rest on Sunday);
- the Diwali festival season (loans and cards up to +80% in the weeks before Diwali), insurance in
  the tax-saving quarter (January-March), a bump for Akshaya Tritiya, a mild yearly cycle;
- trends per pincode and product that rise then fall (or the other way) from a change point;
- agents: each offline pincode has a few, of different effectiveness, who join and leave;
- noise: gamma-Poisson (over-dispersed) counts.

`generate_panel` gives weekly counts (pincodes x series x weeks) with the customers' age and income
sums, which is all training needs; `sale_records` expands chosen weeks of it into individual sales
(the sales table's rows, the sample-data route, users' files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Sequence

import numpy as np

from finscore.products.demand.catalog import (
    CITIES,
    PRODUCTS,
    SERIES,
    festival_intensity,
    spring_festival,
    tax_season,
    week_start,
)

# The generated history ends in the week starting here, so that the same seed gives the same data.
LAST_WEEK = date(2026, 11, 23)
DEFAULT_WEEKS = 104
# Product mix by city tier (loan, credit_card, insurance) and the online share.
TIER_MIX = {1: (0.34, 0.42, 0.24), 2: (0.42, 0.30, 0.28), 3: (0.50, 0.18, 0.32)}
TIER_ONLINE = {1: 0.62, 2: 0.45, 3: 0.30}
# Pincodes per city are drawn in proportion to these weights.
TIER_WEIGHT = {1: 3.0, 2: 1.6, 3: 1.0}
# Mean weekly sales of a pincode, by tier.
TIER_VOLUME = {1: 34.0, 2: 24.0, 3: 16.0}
FESTIVAL_LIFT = {"loan": 0.6, "credit_card": 0.8, "insurance": 0.1}
TAX_LIFT = {"loan": 0.0, "credit_card": 0.0, "insurance": 0.5}
SPRING_LIFT = {"loan": 0.3, "credit_card": 0.1, "insurance": 0.0}
DISPERSION = 6.0  # gamma shape: smaller is noisier
# Day-of-week weights (Monday first) of a week's sales by channel.
WEEKDAY_WEIGHTS = {"online": (0.12, 0.12, 0.12, 0.13, 0.14, 0.19, 0.18), "offline": (0.16, 0.16, 0.16, 0.16, 0.17, 0.16, 0.03)}


@dataclass
class SalesPanel:
    """Weekly sales: COUNTS (pincodes, len(SERIES), weeks) and per pincode-week the sums of the
    customers' ages and monthly incomes; PINCODES holds each pincode's pincode, city and state."""

    pincodes: list[dict[str, Any]]
    weeks: list[date]
    counts: np.ndarray
    ages: np.ndarray
    incomes: np.ndarray
    # What sale_records needs to expand counts into sales; absent for a panel built from users' sales.
    profile: dict[str, Any] | None = None


def _pincodes(count: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    weights = np.array([TIER_WEIGHT[city[3]] for city in CITIES])
    per_city = np.maximum(1, np.round(weights / weights.sum() * count)).astype(int)
    while per_city.sum() > count and per_city.max() > 1:
        per_city[int(np.argmax(per_city))] -= 1
    while per_city.sum() < count:
        per_city[int(rng.integers(len(CITIES)))] += 1
    pincodes = []
    for (city, state, prefix, tier, income), wanted in zip(CITIES, per_city.tolist()):
        suffixes = rng.choice(np.arange(1, 1000), size=min(wanted, 999), replace=False)
        for suffix in sorted(suffixes.tolist()):
            pincodes.append({"pincode": f"{prefix}{suffix:03d}", "city": city, "state": state, "tier": tier,
                             "city_income": income})
    return pincodes


def generate_panel(pincodes: int = 300, weeks: int = DEFAULT_WEEKS, seed: int = 7,
                   last_week: date = LAST_WEEK) -> SalesPanel:
    """PINCODES pincodes' weekly sales over WEEKS weeks ending with the week starting LAST_WEEK."""
    rng = np.random.default_rng(seed)
    places = _pincodes(pincodes, rng)
    count = len(places)
    days = [week_start(last_week) - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]
    tiers = np.array([place["tier"] for place in places])
    volume = np.array([TIER_VOLUME[tier] for tier in tiers]) * rng.lognormal(0.0, 0.45, count)
    mix = np.array([rng.dirichlet(np.array(TIER_MIX[tier]) * 25.0) for tier in tiers])  # (count, products)
    online = np.clip(np.array([TIER_ONLINE[tier] for tier in tiers]) + rng.normal(0.0, 0.08, count), 0.08, 0.92)
    income = np.array([place["city_income"] for place in places]) * rng.lognormal(0.0, 0.22, count)
    age = np.clip(rng.normal(36.0, 3.5, count) + (tiers - 2) * 1.5, 26.0, 50.0)

    t = np.arange(weeks, dtype=np.float64)
    # Trends that rise then fall (or fall then rise) from a change point, per pincode and product.
    change = rng.uniform(0.25, 0.85, (count, len(PRODUCTS))) * weeks
    before = rng.normal(0.0, 0.008, (count, len(PRODUCTS)))
    after = -np.sign(before) * np.abs(rng.normal(0.006, 0.006, (count, len(PRODUCTS))))
    log_trend = np.where(t[None, None, :] <= change[..., None], before[..., None] * t[None, None, :],
                         before[..., None] * change[..., None] + after[..., None] * (t[None, None, :] - change[..., None]))
    festival = np.array([festival_intensity(day) for day in days])
    tax = np.array([tax_season(day) for day in days])
    spring = np.array([spring_festival(day) for day in days])
    yearly = 0.08 * np.sin(2.0 * np.pi * (t + rng.uniform(0, 52)) / 52.0)

    # Agents: 2-5 per pincode, each with an effectiveness, active from a start week to an end week.
    agents = rng.integers(2, 6, count)
    agent_rows = []
    offline_effect = np.zeros((count, weeks))
    for index in range(count):
        skill = rng.lognormal(0.0, 0.35, agents[index])
        starts = np.where(rng.random(agents[index]) < 0.7, 0, rng.integers(0, weeks, agents[index]))
        ends = np.where(rng.random(agents[index]) < 0.7, weeks, rng.integers(0, weeks, agents[index]) + starts)
        active = (t[None, :] >= starts[:, None]) & (t[None, :] < ends[:, None])
        working = active.sum(axis=0)
        offline_effect[index] = np.where(working > 0, (skill[:, None] * active).sum(axis=0) /
                                         np.maximum(working, 1) * np.sqrt(working / agents[index]), 0.15)
        agent_rows.append({"ids": [f"AG{places[index]['pincode']}{number:02d}" for number in range(agents[index])],
                           "skill": skill, "active": active})

    means = np.zeros((count, len(SERIES), weeks))
    for position, (product, channel) in enumerate(SERIES):
        p = PRODUCTS.index(product)
        share = online if channel == "online" else 1.0 - online
        seasonal = (1.0 + FESTIVAL_LIFT[product] * festival[None, :]) * (1.0 + TAX_LIFT[product] * tax[None, :]) \
            * (1.0 + SPRING_LIFT[product] * spring[None, :]) * (1.0 + yearly[None, :])
        means[:, position] = (volume * mix[:, p] * share)[:, None] * np.exp(log_trend[:, p]) * seasonal
        if channel == "offline":
            means[:, position] *= offline_effect
    lam = rng.gamma(DISPERSION, means / DISPERSION)
    counts = rng.poisson(lam).astype(np.int64)
    customers = counts.sum(axis=1)
    ages = customers * age[:, None] + rng.normal(0.0, 9.0, (count, weeks)) * np.sqrt(customers)
    incomes = customers * income[:, None] * (1.0 + rng.normal(0.0, 0.35, (count, weeks)) / np.sqrt(np.maximum(customers, 1)))
    public = [{key: place[key] for key in ("pincode", "city", "state")} for place in places]
    return SalesPanel(public, days, counts, np.round(ages, 1), np.round(incomes, 0),
                      {"age": age, "income": income, "agents": agent_rows})


def sale_records(panel: SalesPanel, weeks: Sequence[int] | None = None, seed: int = 7,
                 pincodes: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """The individual sales of the chosen WEEKS (indexes; default all) and PINCODES (indexes; default
    all) of a generated PANEL: a day in the week by the channel's weekday pattern, an agent for
    offline sales (the more effective, the likelier), the customer's age and income."""
    if panel.profile is None:
        raise ValueError("Only a generated panel can be expanded into sales")
    rng = np.random.default_rng(seed)
    chosen_weeks = range(len(panel.weeks)) if weeks is None else weeks
    chosen_pincodes = range(len(panel.pincodes)) if pincodes is None else pincodes
    records: list[dict[str, Any]] = []
    for p in chosen_pincodes:
        place = panel.pincodes[p]
        agents = panel.profile["agents"][p]
        for w in chosen_weeks:
            for s, (product, channel) in enumerate(SERIES):
                sold = int(panel.counts[p, s, w])
                if not sold:
                    continue
                offsets = rng.choice(7, size=sold, p=WEEKDAY_WEIGHTS[channel])
                ages = np.clip(np.round(rng.normal(panel.profile["age"][p], 9.0, sold)), 18, 80).astype(int)
                incomes = np.round(panel.profile["income"][p] * rng.lognormal(-0.06, 0.35, sold), -2)
                if channel == "offline":
                    working = agents["skill"] * agents["active"][:, w]
                    weights = working / working.sum() if working.sum() > 0 else np.full(len(working), 1 / len(working))
                    sellers = rng.choice(len(weights), size=sold, p=weights)
                for n in range(sold):
                    day = panel.weeks[w] + timedelta(days=int(offsets[n]))
                    records.append({
                        "date": day.isoformat(), "pincode": place["pincode"], "city": place["city"],
                        "product": product, "channel": channel,
                        "agent_id": agents["ids"][int(sellers[n])] if channel == "offline" else None,
                        "customer_age": int(ages[n]), "customer_income": float(incomes[n]),
                    })
    return records


def panel_of_sales(sales: Sequence[dict[str, Any]]) -> SalesPanel:
    """Users' individual sales (validated SaleRecord dumps) as a weekly panel from their first week to
    their last; a pincode's city is the one most of its sales name."""
    if not sales:
        return SalesPanel([], [], np.zeros((0, len(SERIES), 0)), np.zeros((0, 0)), np.zeros((0, 0)))
    days = [sale["date"] if isinstance(sale["date"], date) else date.fromisoformat(str(sale["date"])) for sale in sales]
    first, last = week_start(min(days)), week_start(max(days))
    weeks = [first + timedelta(weeks=index) for index in range((last - first).days // 7 + 1)]
    cities: dict[str, dict[str, int]] = {}
    for sale in sales:
        votes = cities.setdefault(sale["pincode"], {})
        votes[sale["city"]] = votes.get(sale["city"], 0) + 1
    order = sorted(cities)
    index = {pincode: position for position, pincode in enumerate(order)}
    series_index = {pair: position for position, pair in enumerate(SERIES)}
    counts = np.zeros((len(order), len(SERIES), len(weeks)), dtype=np.int64)
    ages = np.zeros((len(order), len(weeks)))
    incomes = np.zeros((len(order), len(weeks)))
    for sale, day in zip(sales, days):
        p, w = index[sale["pincode"]], (week_start(day) - first).days // 7
        counts[p, series_index[(sale["product"], sale["channel"])], w] += 1
        ages[p, w] += float(sale["customer_age"])
        incomes[p, w] += float(sale["customer_income"])
    pincodes = [{"pincode": pincode, "city": max(cities[pincode].items(), key=lambda item: (item[1], item[0]))[0]}
                for pincode in order]
    return SalesPanel(pincodes, weeks, counts, ages, incomes)


