"""The records of the propensity product: one scoring row (the API body, a batch file's row) and one
daily bar (market data in). Names and spellings clients commonly use are accepted and normalised."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from finscore.products.propensity.catalog import (
    CAP_CATEGORIES,
    RISK_TOLERANCES,
    SECTORS,
    cap_name,
    risk_name,
    sector_name,
    weekday_number,
)

Sector = Annotated[Literal[SECTORS], BeforeValidator(sector_name)]  # type: ignore[valid-type]
CapCategory = Annotated[Literal[CAP_CATEGORIES], BeforeValidator(cap_name)]  # type: ignore[valid-type]
RiskTolerance = Annotated[Literal[RISK_TOLERANCES], BeforeValidator(risk_name)]  # type: ignore[valid-type]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Price = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
Volume = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]
Ratio = Annotated[float, Field(ge=-1, le=1000, allow_inf_nan=False)]


class ScoreRecord(BaseModel):
    """One (investor, stock) pair to score: the seed's request body. Fields left out are taken from the
    stock's stored market data and the investor's stored history; what neither has stays missing."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    user_id: Annotated[Identifier, Field(description="The investor", examples=["U00042"])]
    stock_id: Annotated[Identifier, Field(description="The stock (ticker or id)", examples=["STK0007"])]
    close_price: Annotated[Price | None, Field(description="Close of the day", examples=[101.5])] = None
    open_price: Annotated[Price | None, Field(description="Open of the day", examples=[99.8])] = None
    high_price: Annotated[Price | None, Field(description="High of the day", examples=[102.3])] = None
    low_price: Annotated[Price | None, Field(description="Low of the day", examples=[99.1])] = None
    volume: Annotated[Volume | None, Field(description="Shares traded in the day", examples=[1_850_000])] = None
    avg_volume_30d: Annotated[Annotated[float, Field(gt=0, le=1e13, allow_inf_nan=False)] | None,
                              Field(description="Mean daily volume of the 30 trading days before",
                                    examples=[1_200_000])] = None
    sector: Annotated[Sector | None, Field(description=" | ".join(SECTORS) + " (common other names accepted)",
                                           examples=["technology"])] = None
    market_cap_category: Annotated[CapCategory | None, Field(description="small | mid | large ('Large Cap' too)",
                                                             examples=["large"])] = None
    day_of_week: Annotated[Annotated[int, BeforeValidator(weekday_number), Field(ge=0, le=6)] | None,
                           Field(description="0 Monday .. 6 Sunday, or the day's name", examples=[2])] = None
    days_since_last_purchase: Annotated[Annotated[float, Field(ge=0, le=36_500, allow_inf_nan=False)] | None,
                                        Field(description="Days since the investor's last purchase",
                                              examples=[12])] = None
    portfolio_diversity_score: Annotated[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None,
                                         Field(description="0 (one sector) to 1 (spread evenly)",
                                               examples=[0.62])] = None
    risk_tolerance: Annotated[RiskTolerance | None, Field(description="low | medium | high (conservative, moderate "
                                                                      "and aggressive too)", examples=["medium"])] = None
    momentum_5d: Annotated[Ratio | None, Field(description="Return over the last 5 trading days")] = None
    momentum_20d: Annotated[Ratio | None, Field(description="Return over the last 20 trading days")] = None
    momentum_60d: Annotated[Ratio | None, Field(description="Return over the last 60 trading days")] = None
    volatility_20d: Annotated[Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None,
                              Field(description="Standard deviation of the last 20 daily log returns")] = None
    purchase_frequency: Annotated[Annotated[float, Field(ge=0, le=1_000, allow_inf_nan=False)] | None,
                                  Field(description="The investor's purchases per 30 days (last 90 days)")] = None
    sector_affinity: Annotated[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None,
                               Field(description="Share of the investor's purchases in the stock's sector")] = None


class BarRecord(BaseModel):
    """One daily bar of one stock; a stock seen for the first time also needs its sector and category."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    stock_id: Identifier
    date: Annotated[date, Field(description="Trading day (ISO date)")]
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Volume
    name: Annotated[str | None, Field(max_length=200, description="Company name")] = None
    sector: Sector | None = None
    market_cap_category: CapCategory | None = None


def bar_problems(bar: BarRecord) -> list[str]:
    """What is inconsistent in a bar whose fields are each valid."""
    problems = []
    if bar.high < max(bar.open, bar.close, bar.low):
        problems.append("high: must be at least open, close and low")
    if bar.low > min(bar.open, bar.close):
        problems.append("low: must be at most open and close")
    return problems
