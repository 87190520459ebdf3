"""Realistic sample sales drawn from what the champion knows: its pincodes and their cities, each
region's product and channel mix, the cities' income levels, the weekday pattern of each channel and
the festival calendar (more loans and cards in the Diwali season, insurance in the tax quarter).

Serving cannot import the training generator (it needs the full training stack); this sampler draws
single sales from the same catalogue and the model's own regions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from finscore.products.demand.catalog import CHANNELS, CITIES, PRODUCTS, festival_intensity, tax_season, week_start

CITY_INCOME = {city: income for city, _, _, _, income in CITIES}
WEEKDAY_WEIGHTS = {"online": (0.12, 0.12, 0.12, 0.13, 0.14, 0.19, 0.18),
                   "offline": (0.16, 0.16, 0.16, 0.16, 0.17, 0.16, 0.03)}
FESTIVAL_LIFT = {"loan": 0.6, "credit_card": 0.8, "insurance": 0.1}
TAX_LIFT = {"loan": 0.0, "credit_card": 0.0, "insurance": 0.5}


def sample_sales(regions: list[dict[str, Any]], city_of: dict[str, str], count: int, today: date,
                 rng: np.random.Generator) -> list[dict[str, Any]]:
    """COUNT sales in the week of TODAY (up to today) at pincodes of REGIONS (the manifest's region
    details), larger regions drawing more of them."""
    weights = np.array([max(float(region["avg_demand_per_pincode"]), 1e-6) * len(region["pincodes"])
                        for region in regions])
    monday = week_start(today)
    lift = {product: (1.0 + FESTIVAL_LIFT[product] * festival_intensity(monday))
            * (1.0 + TAX_LIFT[product] * tax_season(monday)) for product in PRODUCTS}
    sales = []
    for _ in range(count):
        region = regions[int(rng.choice(len(regions), p=weights / weights.sum()))]
        pincode = region["pincodes"][int(rng.integers(len(region["pincodes"])))]
        mix = np.array([region["products"]["distribution"].get(product, 0.0) * lift[product] for product in PRODUCTS])
        product = PRODUCTS[int(rng.choice(len(PRODUCTS), p=mix / mix.sum()))] if mix.sum() > 0 else PRODUCTS[0]
        online = float(region["channels"]["distribution"].get("online", 0.5))
        channel = CHANNELS[0] if rng.random() < online else CHANNELS[1]
        days = (today - monday).days + 1
        weekday = np.asarray(WEEKDAY_WEIGHTS[channel][:days])
        day = monday + timedelta(days=int(rng.choice(days, p=weekday / weekday.sum())))
        city = city_of.get(pincode, "")
        income = CITY_INCOME.get(city, 45_000) * float(rng.lognormal(-0.06, 0.35))
        sales.append({
            "date": day.isoformat(), "pincode": pincode, "city": city, "product": product, "channel": channel,
            "agent_id": f"AG{pincode}{int(rng.integers(0, 4)):02d}" if channel == "offline" else None,
            "customer_age": int(np.clip(round(rng.normal(36.0, 9.0)), 18, 80)),
            "customer_income": float(round(income, -2)),
            "record_id": f"S{today:%Y%m%d}-{int(rng.integers(0, 16**10)):010x}",
        })
    return sales
