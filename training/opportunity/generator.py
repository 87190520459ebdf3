"""Synthetic opportunity data, seeded: neighbourhoods of Indian cities, their small businesses, what
people write about them, and the economy month by month.

- Locations: neighbourhoods of ten cities; each has a mood that drifts month to month (an AR(1)
  around its own level) and decides the mix of its review texts.
- Businesses: eight types, each with its own revenue (log-normal), age (gamma) and rating levels;
  a business's rating follows its own quality and a little of its neighbourhood's mood.
- Reviews: texts written from templates with real variety (praise, complaints, mixed, plain
  statements), chosen by the location's mood that month and scored with VADER, so the sentiment a
  model trains on is the one serving computes.
- Economy: monthly inflation_rate, interest_rate (they move together) and market_index history.
- Target: the opportunity score, a documented function of the factors with noise (`target`).

Training rows are (business, month) observations: the business as it was that month (its age, its
revenue with the month's variation), its location's sentiment that month and that month's economy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from finscore.products.opportunity.catalog import BUSINESS_TYPES
from finscore.products.opportunity.sentiment import compound_scores

CITIES: dict[str, tuple[str, ...]] = {
    "Mumbai": ("Andheri", "Bandra", "Dadar", "Powai", "Colaba"),
    "Delhi": ("Karol Bagh", "Lajpat Nagar", "Saket", "Dwarka", "Chandni Chowk"),
    "Bengaluru": ("Koramangala", "Indiranagar", "Jayanagar", "Whitefield", "Malleshwaram"),
    "Chennai": ("T. Nagar", "Adyar", "Velachery", "Mylapore"),
    "Hyderabad": ("Banjara Hills", "Gachibowli", "Kukatpally", "Secunderabad"),
    "Pune": ("Kothrud", "Viman Nagar", "Hinjewadi", "Shivajinagar"),
    "Kolkata": ("Salt Lake", "Park Street", "Gariahat"),
    "Ahmedabad": ("Navrangpura", "Satellite", "Maninagar"),
    "Jaipur": ("Malviya Nagar", "C-Scheme", "Vaishali Nagar"),
    "Lucknow": ("Hazratganj", "Gomti Nagar"),
}
LOCATIONS = tuple(f"{neighbourhood}, {city}" for city, places in CITIES.items() for neighbourhood in places)
# Per type: median annual revenue (INR), its log-normal spread, mean age (years), mean rating.
TYPE_PROFILES: dict[str, tuple[float, float, float, float]] = {
    "grocery": (1_800_000, 0.45, 9.0, 4.0), "restaurant": (3_500_000, 0.70, 5.0, 3.8),
    "cafe": (2_000_000, 0.60, 3.0, 4.1), "salon": (1_200_000, 0.50, 6.0, 4.0),
    "pharmacy": (4_000_000, 0.40, 11.0, 4.2), "clothing": (3_000_000, 0.60, 8.0, 3.9),
    "electronics_repair": (900_000, 0.60, 7.0, 3.7), "tailoring": (600_000, 0.50, 12.0, 4.1),
}
TYPE_SHARES = (0.20, 0.16, 0.10, 0.12, 0.10, 0.14, 0.09, 0.09)
# The generated history ends with this month, so the same seed gives the same data.
LAST_MONTH = date(2026, 11, 1)
MONTHS = 36
REVIEWS_PER_MONTH = (6, 18)
NOISE_SD = 3.0

ITEMS = ("food", "coffee", "groceries", "haircut", "medicines", "stitching", "repairs", "clothes", "service")
PRAISE = (
    "Absolutely love the {item} here, the staff are friendly and helpful!",
    "Great {item} and quick service. Highly recommend.",
    "Best {item} in the neighbourhood, always fresh and fairly priced.",
    "Wonderful experience, a clean shop and honest prices.",
    "Excellent {item}! I will definitely come back.",
    "Very happy with the {item}, good value for money.",
    "The owners are so kind and the {item} is amazing.",
    "Fantastic place, everyone here is polite and the {item} is superb.",
)
COMPLAINTS = (
    "Terrible {item}, overpriced and the staff were rude.",
    "Very disappointed. A long wait and poor {item}.",
    "Worst service I have had in years, never again.",
    "Dirty place and the {item} was stale.",
    "Awful experience, they overcharged me for bad {item}.",
    "Not worth it: slow, noisy and unhelpful.",
    "The {item} was horrible and nobody cared when I complained.",
    "Shops here keep closing; sad to see the street so empty and neglected.",
)
MIXED = (
    "The {item} was good but the wait was too long.",
    "Decent {item}, though parking is a nightmare.",
    "Friendly staff, but prices have gone up a lot.",
    "Nice place, but the service can be slow at peak hours.",
    "Good {item}, bad location, crowded lanes.",
    "The {item} is fine, not great, not bad.",
)
PLAIN = (
    "Visited for {item} on Sunday.",
    "The shop opens at 9 am and closes at 10 pm.",
    "They accept UPI and cards.",
    "Bought {item} here last week.",
)


@dataclass
class World:
    """Everything generated: locations (with monthly mood and review sentiment), businesses, the
    indicator history, and the reviews of every location and month."""

    months: list[date]
    locations: list[str]
    sentiment: np.ndarray            # (locations, months): mean VADER compound of that month's reviews
    reviews: list[list[list[str]]]   # [location][month] -> texts
    businesses: list[dict[str, Any]]
    indicators: list[dict[str, Any]]


def month_starts(last: date, count: int) -> list[date]:
    months = []
    year, month = last.year, last.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def review_texts(rng: np.random.Generator, mood: float, count: int) -> list[str]:
    """COUNT texts of a place whose mood (-1..1) sets how often people praise or complain."""
    weights = np.exp(np.array([2.2 * mood, -2.2 * mood, 0.4, -0.6]))
    kinds = rng.choice(4, size=count, p=weights / weights.sum())
    texts = []
    for kind in kinds.tolist():
        templates = (PRAISE, COMPLAINTS, MIXED, PLAIN)[kind]
        text = templates[int(rng.integers(len(templates)))]
        texts.append(text.format(item=ITEMS[int(rng.integers(len(ITEMS)))]))
    return texts


def indicator_history(rng: np.random.Generator, months: list[date]) -> list[dict[str, Any]]:
    """Monthly inflation (a mean-reverting walk, 2-10%), the policy rate following it with a lag, and
    a market index growing about 10% a year with shocks."""
    inflation, interest, index = 5.5, 6.5, 18_000.0
    history = []
    for month in months:
        inflation = float(np.clip(inflation + 0.15 * (5.5 - inflation) + rng.normal(0, 0.7), 2.0, 10.0))
        interest = float(np.clip(interest + 0.25 * (inflation + 1.0 - interest) + rng.normal(0, 0.2), 3.5, 10.0))
        index *= float(np.exp(0.008 - 0.01 * (interest - 6.5) + rng.normal(0, 0.03)))
        history.append({"effective_date": month.isoformat(), "inflation_rate": round(inflation, 2),
                        "interest_rate": round(interest, 2), "market_index": round(index, 1)})
    return history


def generate_world(businesses: int, seed: int, months: int = MONTHS) -> World:
    rng = np.random.default_rng(seed)
    calendar = month_starts(LAST_MONTH, months)
    locations = list(LOCATIONS)
    level = rng.normal(0.15, 0.45, len(locations)).clip(-0.9, 0.9)
    mood = np.empty((len(locations), months))
    current = level.copy()
    for m in range(months):
        current = (level + 0.8 * (current - level) + rng.normal(0, 0.25, len(locations))).clip(-1, 1)
        mood[:, m] = current
    reviews: list[list[list[str]]] = []
    sentiment = np.zeros((len(locations), months))
    cache: dict[str, float] = {}
    for l in range(len(locations)):
        per_month = []
        for m in range(months):
            texts = review_texts(rng, float(mood[l, m]), int(rng.integers(*REVIEWS_PER_MONTH)))
            missing = [text for text in dict.fromkeys(texts) if text not in cache]
            cache.update(zip(missing, compound_scores(missing)))
            sentiment[l, m] = float(np.mean([cache[text] for text in texts]))
            per_month.append(texts)
        reviews.append(per_month)
    types = rng.choice(len(BUSINESS_TYPES), size=businesses, p=np.asarray(TYPE_SHARES) / sum(TYPE_SHARES))
    homes = rng.integers(0, len(locations), businesses)
    quality = rng.normal(0, 1, businesses)
    rows = []
    for b in range(businesses):
        kind = BUSINESS_TYPES[int(types[b])]
        median, spread, mean_age, mean_rating = TYPE_PROFILES[kind]
        home = int(homes[b])
        revenue = median * float(np.exp(rng.normal(0, spread) + 0.15 * quality[b]))
        age = float(rng.gamma(2.0, mean_age / 2.0))
        rating = float(np.clip(mean_rating + 0.45 * quality[b] + 0.3 * level[home] + rng.normal(0, 0.2), 1.0, 5.0))
        rows.append({"business_id": f"BIZ{b:06d}", "location": locations[home], "business_type": kind,
                     "revenue": round(revenue, -2), "age": round(age, 1), "rating": round(rating, 1)})
    return World(calendar, locations, sentiment, reviews, rows, indicator_history(rng, calendar))


def target(sentiment_score: np.ndarray, revenue: np.ndarray, age: np.ndarray, rating: np.ndarray,
           inflation_rate: np.ndarray, interest_rate: np.ndarray) -> np.ndarray:
    """The opportunity score before noise, 0-100: 100 x the weighted sum of six terms in 0..1 —
    0.30 sentiment ((s + 1) / 2), 0.20 revenue ((log10 revenue - 5) / 2.5, clipped: INR 1 lakh -> 0,
    3.2 crore -> 1), 0.10 age (1 - exp(-age / 6)), 0.20 rating ((rating - 1) / 4), 0.10 inflation
    ((9 - inflation) / 7, clipped) and 0.10 interest rate ((10 - rate) / 7, clipped). Business type has
    no term of its own (it acts through revenue, age and rating)."""
    terms = (
        0.30 * (np.asarray(sentiment_score) + 1.0) / 2.0,
        0.20 * np.clip((np.log10(np.maximum(revenue, 1.0)) - 5.0) / 2.5, 0.0, 1.0),
        0.10 * (1.0 - np.exp(-np.asarray(age) / 6.0)),
        0.20 * (np.asarray(rating) - 1.0) / 4.0,
        0.10 * np.clip((9.0 - np.asarray(inflation_rate)) / 7.0, 0.0, 1.0),
        0.10 * np.clip((10.0 - np.asarray(interest_rate)) / 7.0, 0.0, 1.0),
    )
    return 100.0 * np.sum(terms, axis=0)


def training_rows(world: World, rows: int, seed: int) -> list[dict[str, Any]]:
    """ROWS (business, month) observations with the label opportunity_score = target + N(0, 3),
    clipped to 0-100."""
    rng = np.random.default_rng(seed + 1)
    location_index = {name: index for index, name in enumerate(world.locations)}
    picks = rng.integers(0, len(world.businesses), rows)
    months = rng.integers(0, len(world.months), rows)
    last = len(world.months) - 1
    out = []
    for b, m in zip(picks.tolist(), months.tolist()):
        business = world.businesses[b]
        economy = world.indicators[m]
        years_back = (last - m) / 12.0
        out.append({
            **business,
            "month": world.months[m].isoformat(),
            "age": round(max(business["age"] - years_back, 0.0), 1),
            "revenue": round(business["revenue"] * float(np.exp(rng.normal(0, 0.12))), -2),
            "sentiment_score": round(float(world.sentiment[location_index[business["location"]], m]), 4),
            "inflation_rate": economy["inflation_rate"],
            "interest_rate": economy["interest_rate"],
        })
    columns = {name: np.array([row[name] for row in out], dtype=np.float64)
               for name in ("sentiment_score", "revenue", "age", "rating", "inflation_rate", "interest_rate")}
    labels = np.clip(target(**columns) + rng.normal(0, NOISE_SD, rows), 0.0, 100.0)
    for row, label in zip(out, labels.tolist()):
        row["opportunity_score"] = round(label, 2)
    return out


def latest_day(month: date) -> date:
    """The last day of MONTH (a month's first day)."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
