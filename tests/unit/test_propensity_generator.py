"""propensity generator: determinism, well-formed bars, market stylised facts, purchases that follow their drivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest

from training.propensity.generator import (
    CAP_CATEGORIES,
    RISK_TOLERANCES,
    SECTORS,
    WARM_UP_DAYS,
    Market,
    bars_by_stock,
    generate_market,
)


@dataclass(frozen=True)
class Panel:
    """The bars as trading days x stocks arrays, with the index of each date and stock."""

    dates: list[str]
    stock_ids: list[str]
    opens: np.ndarray
    highs: np.ndarray
    lows: np.ndarray
    closes: np.ndarray
    volumes: np.ndarray

    @property
    def day_index(self) -> dict[str, int]:
        return {day: index for index, day in enumerate(self.dates)}

    @property
    def stock_index(self) -> dict[str, int]:
        return {stock: index for index, stock in enumerate(self.stock_ids)}


@pytest.fixture(scope="module")
def market() -> Market:
    return generate_market()


@pytest.fixture(scope="module")
def panel(market) -> Panel:
    grouped = bars_by_stock(market)
    stock_ids = list(grouped)
    columns = {field: np.array([[bar[field] for bar in grouped[stock]] for stock in stock_ids]).T
               for field in ("open", "high", "low", "close", "volume")}
    return Panel(dates=[bar["date"] for bar in grouped[stock_ids[0]]], stock_ids=stock_ids, opens=columns["open"],
                 highs=columns["high"], lows=columns["low"], closes=columns["close"], volumes=columns["volume"])


def _lag1_autocorrelation(series: np.ndarray) -> np.ndarray:
    """Lag-1 autocorrelation of each column."""
    centred = series - series.mean(axis=0)
    return (centred[1:] * centred[:-1]).sum(axis=0) / (centred ** 2).sum(axis=0)


def _purchase_positions(market: Market, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    days, stocks = panel.day_index, panel.stock_index
    return (np.array([days[p["date"]] for p in market.purchases]),
            np.array([stocks[p["stock_id"]] for p in market.purchases]))


def test_the_same_seed_generates_the_same_market():
    small = {"users": 60, "stocks": 25, "days": 100}
    first, again = generate_market(seed=3, **small), generate_market(seed=3, **small)
    assert first == again and first.purchases
    other = generate_market(seed=4, **small)
    assert other.bars != first.bars and other.purchases != first.purchases and other.users != first.users


def test_the_defaults_cover_the_requested_universe(market):
    assert len(market.stocks) == 120 and len(market.users) == 400
    assert len(market.bars) == 120 * 320
    assert market.end == date(2026, 11, 27) and market.start.weekday() < 5
    assert [s["stock_id"] for s in market.stocks] == [f"STK{i:04d}" for i in range(1, 121)]
    assert len({s["name"] for s in market.stocks}) == 120
    assert {s["sector"] for s in market.stocks} == set(SECTORS)
    assert {s["market_cap_category"] for s in market.stocks} == set(CAP_CATEGORIES)
    assert {u["risk_tolerance"] for u in market.users} == set(RISK_TOLERANCES)
    assert all(1 <= len(u["preferred_sectors"]) <= 3 and set(u["preferred_sectors"]) <= set(SECTORS)
               and len(set(u["preferred_sectors"])) == len(u["preferred_sectors"]) for u in market.users)


def test_there_is_one_bar_per_stock_per_weekday_in_date_order(market, panel):
    grouped = bars_by_stock(market)
    assert set(grouped) == {s["stock_id"] for s in market.stocks}
    calendar = [date.fromisoformat(day) for day in panel.dates]
    assert len(calendar) == 320 and calendar[0] == market.start and calendar[-1] == market.end
    assert all(day.weekday() < 5 for day in calendar)
    assert all(earlier < later for earlier, later in zip(calendar, calendar[1:]))
    # Consecutive trading days skip only weekends.
    assert all((later - earlier).days in (1, 3) for earlier, later in zip(calendar, calendar[1:]))
    assert all([bar["date"] for bar in bars] == panel.dates for bars in grouped.values())


def test_every_bar_is_internally_consistent(market):
    for bar in market.bars:
        assert 0 < bar["low"] <= min(bar["open"], bar["close"]) <= max(bar["open"], bar["close"]) <= bar["high"]
        assert all(round(bar[field], 2) == bar[field] for field in ("open", "high", "low", "close"))
        assert isinstance(bar["volume"], int) and bar["volume"] > 0


def test_the_open_is_near_the_previous_close(panel):
    gap = np.abs(np.log(panel.opens[1:] / panel.closes[:-1]))
    assert np.median(gap) < 0.01 and np.median(gap) > 0


def test_volatility_clusters_while_returns_stay_unpredictable(panel):
    returns = np.diff(np.log(panel.closes), axis=0)
    assert _lag1_autocorrelation(np.abs(returns)).mean() > 0.05
    assert abs(_lag1_autocorrelation(returns).mean()) < 0.04


def test_small_caps_are_more_volatile_and_trade_fewer_shares(market, panel):
    cap = np.array([s["market_cap_category"] for s in market.stocks])
    volatility = np.diff(np.log(panel.closes), axis=0).std(axis=0)
    volume = np.median(panel.volumes, axis=0)
    assert volatility[cap == "small"].mean() > volatility[cap == "mid"].mean() > volatility[cap == "large"].mean()
    assert np.median(volume[cap == "small"]) < np.median(volume[cap == "mid"]) < np.median(volume[cap == "large"])


def test_stocks_of_a_sector_move_together(market, panel):
    sector = np.array([s["sector"] for s in market.stocks])
    correlation = np.corrcoef(np.diff(np.log(panel.closes), axis=0).T)
    same = sector[:, None] == sector[None, :]
    off_diagonal = ~np.eye(len(sector), dtype=bool)
    within, across = correlation[same & off_diagonal].mean(), correlation[~same].mean()
    assert across > 0.05  # the market factor
    assert within > across + 0.05


def test_log_volume_reverts_to_its_level(panel):
    log_volume = np.log(panel.volumes)
    slopes = []
    for column in log_volume.T:
        previous, current = column[:-1] - column[:-1].mean(), column[1:] - column[1:].mean()
        slopes.append((previous * current).sum() / (previous ** 2).sum())
    assert 0.3 < np.mean(slopes) < 0.95


def test_volume_spikes_on_large_moves(panel):
    returns = np.abs(np.diff(np.log(panel.closes), axis=0))
    log_volume = np.log(panel.volumes[1:])
    standardised = (returns - returns.mean(axis=0)) / returns.std(axis=0)
    relative = log_volume - log_volume.mean(axis=0)
    assert relative[standardised > 2].mean() > relative[standardised < 0].mean() + 0.2


def test_purchases_start_after_the_warm_up_on_trading_days_with_bars(market, panel):
    assert 5_000 < len(market.purchases) < 30_000
    users = {u["user_id"] for u in market.users}
    first_allowed = panel.dates[WARM_UP_DAYS]
    bars = {(bar["stock_id"], bar["date"]): bar for bar in market.bars}
    for purchase in market.purchases:
        assert purchase["date"] >= first_allowed and purchase["user_id"] in users
        bar = bars[(purchase["stock_id"], purchase["date"])]
        assert bar["low"] <= purchase["price"] <= bar["high"]
        assert isinstance(purchase["quantity"], int) and purchase["quantity"] >= 1
    assert [p["date"] for p in market.purchases] == sorted(p["date"] for p in market.purchases)
    # A buyer picks different stocks on one day.
    keys = [(p["user_id"], p["stock_id"], p["date"]) for p in market.purchases]
    assert len(keys) == len(set(keys))


def test_a_shorter_history_still_has_no_purchases_in_its_warm_up():
    short = generate_market(users=50, stocks=10, days=WARM_UP_DAYS)
    assert short.purchases == [] and len(short.bars) == 10 * WARM_UP_DAYS


def test_investors_buy_mostly_in_their_preferred_sectors(market):
    sector = {s["stock_id"]: s["sector"] for s in market.stocks}
    share = {name: sum(s["sector"] == name for s in market.stocks) / len(market.stocks) for name in SECTORS}
    preferred = {u["user_id"]: set(u["preferred_sectors"]) for u in market.users}
    observed = np.mean([sector[p["stock_id"]] in preferred[p["user_id"]] for p in market.purchases])
    by_chance = np.mean([sum(share[name] for name in preferred[p["user_id"]]) for p in market.purchases])
    assert observed > 2 * by_chance


def test_cautious_investors_buy_calmer_stocks(market, panel):
    day, stock = _purchase_positions(market, panel)
    returns = np.diff(np.log(panel.closes), axis=0)  # row t-1 is the return of day t
    # 20-day volatility as of the day before each purchase.
    volatility = np.array([returns[d - 21:d - 1, s].std() for d, s in zip(day, stock)])
    tolerance = {u["user_id"]: u["risk_tolerance"] for u in market.users}
    risk = np.array([tolerance[p["user_id"]] for p in market.purchases])
    assert volatility[risk == "low"].mean() < 0.9 * volatility[risk == "high"].mean()
    cap = {s["stock_id"]: s["market_cap_category"] for s in market.stocks}
    small = np.array([cap[p["stock_id"]] == "small" for p in market.purchases])
    assert small[risk == "low"].mean() < small[risk == "high"].mean()


def test_recent_winners_are_bought_more_than_recent_losers(market, panel):
    day, stock = _purchase_positions(market, panel)
    log_close = np.log(panel.closes)
    top = bottom = 0
    for d in np.unique(day):
        # 5-day momentum known at the close of the day before.
        momentum = log_close[d - 1] - log_close[d - 6]
        low, high = np.quantile(momentum, [0.2, 0.8])
        bought = momentum[stock[day == d]]
        top += int((bought >= high).sum())
        bottom += int((bought <= low).sum())
    assert top > 1.2 * bottom


def test_purchases_bunch_at_the_ends_of_the_week(market, panel):
    weekday = np.array([date.fromisoformat(p["date"]).weekday() for p in market.purchases])
    trading = np.array([date.fromisoformat(day).weekday() for day in panel.dates[WARM_UP_DAYS:]])
    per_day = np.array([(weekday == w).sum() / (trading == w).sum() for w in range(5)])
    assert min(per_day[0], per_day[4]) > max(per_day[1:4])


def test_some_investors_buy_weekly_and_some_monthly(market):
    counts = {u["user_id"]: 0 for u in market.users}
    for purchase in market.purchases:
        counts[purchase["user_id"]] += 1
    per_user = np.array(list(counts.values()))
    assert np.quantile(per_user, 0.9) > 3 * np.quantile(per_user, 0.1)


def test_bars_by_stock_sorts_each_stocks_bars_by_date():
    market = generate_market(users=10, stocks=3, days=30, seed=5)
    shuffled = Market(stocks=market.stocks, bars=market.bars[::-1], users=market.users, purchases=market.purchases,
                      start=market.start, end=market.end)
    grouped = bars_by_stock(shuffled)
    assert list(grouped) == ["STK0001", "STK0002", "STK0003"]
    for stock_id, bars in grouped.items():
        assert [bar["date"] for bar in bars] == sorted(bar["date"] for bar in market.bars if bar["stock_id"] == stock_id)
        assert {bar["stock_id"] for bar in bars} == {stock_id}
