"""A seeded synthetic stock market for purchase propensity: listed stocks, daily bars, investors, purchases.

The product predicts whether a retail investor buys a given stock on a given trading day, so the
data has to carry the signals such a model would use, with their realistic noise:

Stocks
    Each stock belongs to one of SECTORS and one of CAP_CATEGORIES. A sector has its own annual
    drift and volatility (utilities and staples are calm, energy and technology are not); small caps
    are more volatile than large caps and trade far fewer shares. Larger sectors list more stocks.

Prices
    Daily close-to-close log returns are a drift, plus a market factor and a sector factor (so the
    stocks of a sector co-move, and everything moves with the market), plus an idiosyncratic shock
    whose variance follows a GARCH(1,1) recursion per stock: volatility clusters, so large moves
    follow large moves while the direction stays unpredictable. The market and sector factors
    cluster the same way. On news days (about one stock-day in a hundred) a jump is added, mostly
    overnight; jumps stay outside the variance recursion so they fatten the tails without inflating
    the volatility. Bars are consistent: the open is the previous close with a small gap (most of a
    news jump), the close carries the day's return, and the high and low reach beyond both by an
    intraday excursion scaled to the day's volatility.

Volume
    Log volume reverts (AR(1)) to a stock-specific level set by its market cap, and spikes on days
    with large absolute returns and on news days, so turnover is persistent but not explosive.

Investors
    Each has a risk tolerance (low, medium, high), one to three preferred sectors (technology is the
    most popular), a purchase frequency (weekly, fortnightly or monthly buyers, with jitter), a
    momentum trait (about three in four chase recent winners, the rest are contrarians), an
    attention-to-volume trait, a budget (higher with higher risk tolerance) and an unobserved taste
    for individual stocks.

Purchases
    Decisions on trading day d use only the bars up to day d-1 and the investor's own purchases
    before d. Whether an investor buys anything follows a discrete Weibull hazard that rises with
    the trading days since their last purchase, scaled by their frequency, and a day-of-week effect
    (more on Mondays and Fridays). A buyer picks one stock, occasionally two different ones, with
    probability proportional to exp(utility), where utility is: a strong preference for their own
    sectors; 5- and 20-day momentum as of d-1, signed by the momentum trait; the volume of d-1
    against its previous 30-day mean, weighted by attention; 20-day realised volatility and small
    caps, avoided by low and liked by high risk tolerance; a bonus for stocks already held; the
    stock's familiarity (large caps are better known); and the investor's hidden taste. The hidden
    taste, the traits and the sampling itself keep the signal learnable but well short of certain:
    gradient boosting on investor x stock x day features (preferred sector, holdings, purchase
    history, momentum, volume ratio, volatility) scores a held-out ROC-AUC of about 0.82.
    The price paid is that day's open plus noise, kept within the day's range; the quantity is the
    budget over the price, at least one share.

The first WARM_UP_DAYS trading days have bars but no purchases, so every purchase has that much
history before it. Trading days are Monday to Friday (no holiday calendar) ending at END unless told
otherwise, so the output depends only on the arguments. Everything is drawn with numpy, day by day
across all stocks and all investors at once: the defaults (about 38,000 bars and 13,000 purchases)
take well under a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from finscore.products.propensity.catalog import CAP_CATEGORIES, RISK_TOLERANCES, SECTORS

END = date(2026, 11, 27)
WARM_UP_DAYS = 60
TRADING_DAYS_PER_YEAR = 252

# Per sector: annual drift, annual volatility, weight among listed stocks, popularity with investors.
SECTOR_PROFILES = {
    "technology": (0.12, 0.32, 1.6, 2.2),
    "healthcare": (0.09, 0.27, 1.2, 1.3),
    "financials": (0.08, 0.25, 1.3, 1.2),
    "consumer_discretionary": (0.09, 0.29, 1.1, 1.2),
    "consumer_staples": (0.06, 0.17, 0.8, 0.8),
    "industrials": (0.08, 0.23, 1.1, 0.9),
    "energy": (0.06, 0.35, 0.7, 1.0),
    "utilities": (0.05, 0.16, 0.6, 0.6),
    "materials": (0.06, 0.27, 0.7, 0.6),
    "real_estate": (0.05, 0.23, 0.6, 0.7),
    "communication_services": (0.08, 0.28, 0.8, 1.1),
}
# Per cap category: share of listings, volatility multiplier, median daily volume, median first price,
# familiarity to retail investors (a utility offset).
CAP_PROFILES = {
    "small": (0.40, 1.55, 250_000, 18.0, -0.3),
    "mid": (0.35, 1.15, 1_200_000, 45.0, 0.0),
    "large": (0.25, 0.85, 6_000_000, 120.0, 0.4),
}
# Per risk tolerance: share of investors, utility per cross-sectional sd of 20-day volatility, utility of a
# small cap, budget multiplier.
RISK_PROFILES = {
    "low": (0.30, -0.8, -0.8, 0.8),
    "medium": (0.45, -0.1, -0.1, 1.0),
    "high": (0.25, 0.6, 0.4, 1.5),
}
# Purchase frequency groups: share of investors and mean trading days between purchases.
FREQUENCIES = ((0.30, 5.0), (0.35, 10.0), (0.35, 21.0))
# Monday to Friday: retail orders bunch at the start and the end of the week.
WEEKDAY_EFFECT = np.array([1.25, 0.95, 0.9, 0.95, 1.2])

MARKET_VOLATILITY = 0.16
SECTOR_VOLATILITY = 0.10
GARCH_ALPHA, GARCH_BETA = 0.15, 0.82
GARCH_BURN_IN = 100
NEWS_RATE = 1 / 100
NEWS_JUMP_SD = 3.0  # in units of the stock's daily volatility
VOLUME_PERSISTENCE = 0.7
HAZARD_SHAPE = 1.5
SECOND_PURCHASE_RATE = 0.12
PREFERRED_SECTOR_UTILITY = 1.8
HOLDING_UTILITY = 0.3
TASTE_SD = 0.5

NAME_STEMS = (
    "Apex", "Northwind", "Bluepeak", "Cedar", "Summit", "Harbor", "Ironwood", "Luminary", "Meridian", "Nova",
    "Orion", "Pinnacle", "Quarry", "Redstone", "Silverline", "Tidewater", "Union", "Vantage", "Westbrook",
    "Zenith", "Altura", "Brightwater", "Crescent", "Evergreen", "Falcon", "Granite", "Horizon", "Keystone",
    "Lakeside", "Mosaic", "Oakridge", "Prairie", "Riverbend", "Sterling", "Trident", "Vertex", "Wildrose",
)
SECTOR_SUFFIXES = {
    "technology": ("Systems", "Software", "Semiconductor", "Networks", "Labs"),
    "healthcare": ("Therapeutics", "Health", "Biosciences", "Medical", "Pharma"),
    "financials": ("Bancorp", "Financial", "Capital", "Insurance", "Trust"),
    "consumer_discretionary": ("Brands", "Retail", "Motors", "Apparel", "Leisure"),
    "consumer_staples": ("Foods", "Beverages", "Household", "Grocers", "Farms"),
    "industrials": ("Industries", "Aerospace", "Machinery", "Logistics", "Rail"),
    "energy": ("Energy", "Petroleum", "Resources", "Oilfield", "Midstream"),
    "utilities": ("Power", "Utilities", "Water", "Electric", "Gas"),
    "materials": ("Materials", "Chemicals", "Mining", "Steel", "Paper"),
    "real_estate": ("Realty", "Properties", "REIT", "Land", "Residential"),
    "communication_services": ("Media", "Telecom", "Studios", "Broadcasting", "Interactive"),
}


@dataclass(frozen=True)
class Market:
    """Stocks, one bar per stock per trading day (ordered by stock, then date), investors and their
    purchases (ordered by date, then investor), and the first and last trading days of the bars."""

    stocks: list[dict[str, Any]]
    bars: list[dict[str, Any]]
    users: list[dict[str, Any]]
    purchases: list[dict[str, Any]]
    start: date
    end: date


def trading_days(count: int, end: date = END) -> list[date]:
    """The COUNT weekdays up to and including END (or the last weekday before it), ascending."""
    day = end
    out: list[date] = []
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day -= timedelta(days=1)
    return out[::-1]


def generate_market(users: int = 400, stocks: int = 120, days: int = 320, seed: int = 7,
                    end: date | None = None) -> Market:
    """USERS investors trading STOCKS stocks over DAYS trading days up to END; same arguments, same market."""
    if users < 1 or stocks < 1 or days < 1:
        raise ValueError("users, stocks and days must be positive")
    rng = np.random.default_rng(seed)
    calendar = trading_days(days, end or END)
    sector, cap = _listings(rng, stocks)
    opens, highs, lows, closes, volumes = _bars(rng, sector, cap, days)
    investors = _investors(rng, users)
    purchases = _purchases(rng, investors, sector, cap, calendar, opens, highs, lows, closes, volumes)

    stock_ids = [f"STK{index + 1:04d}" for index in range(stocks)]
    stocks_out = [
        {"stock_id": stock_ids[i], "name": name, "sector": SECTORS[s], "market_cap_category": CAP_CATEGORIES[c]}
        for i, (name, s, c) in enumerate(zip(_names(rng, sector), sector.tolist(), cap.tolist()))
    ]
    dates = [day.isoformat() for day in calendar]
    bars_out = [
        {"stock_id": stock_ids[i], "date": dates[t], "open": o, "high": h, "low": lo, "close": c, "volume": v}
        for i in range(stocks)
        for t, o, h, lo, c, v in zip(range(days), opens[:, i].tolist(), highs[:, i].tolist(), lows[:, i].tolist(),
                                     closes[:, i].tolist(), volumes[:, i].tolist())
    ]
    user_ids = [f"U{index + 1:05d}" for index in range(users)]
    users_out = [
        {"user_id": user_ids[u], "risk_tolerance": RISK_TOLERANCES[investors.risk[u]],
         "preferred_sectors": [SECTORS[s] for s in investors.sectors[u]]}
        for u in range(users)
    ]
    day, user, stock, quantity, price = purchases
    purchases_out = [
        {"user_id": user_ids[u], "stock_id": stock_ids[s], "date": dates[t], "quantity": q, "price": p}
        for t, u, s, q, p in zip(day.tolist(), user.tolist(), stock.tolist(), quantity.tolist(), price.tolist())
    ]
    return Market(stocks=stocks_out, bars=bars_out, users=users_out, purchases=purchases_out,
                  start=calendar[0], end=calendar[-1])


def bars_by_stock(market: Market) -> dict[str, list[dict[str, Any]]]:
    """The bars of each stock of MARKET, sorted by date, keyed by stock_id (every listed stock present)."""
    grouped: dict[str, list[dict[str, Any]]] = {stock["stock_id"]: [] for stock in market.stocks}
    for bar in market.bars:
        grouped.setdefault(bar["stock_id"], []).append(bar)
    for bars in grouped.values():
        bars.sort(key=lambda bar: bar["date"])
    return grouped


def _listings(rng: np.random.Generator, stocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Sector and cap category index per stock; with at least len(SECTORS) stocks, every sector is listed."""
    weights = np.array([SECTOR_PROFILES[name][2] for name in SECTORS])
    covered = rng.permutation(len(SECTORS))[:stocks]
    rest = rng.choice(len(SECTORS), size=max(stocks - len(SECTORS), 0), p=weights / weights.sum())
    sector = rng.permutation(np.concatenate([covered, rest]))
    shares = np.array([CAP_PROFILES[name][0] for name in CAP_CATEGORIES])
    cap = rng.choice(len(CAP_CATEGORIES), size=stocks, p=shares)
    return sector, cap


def _names(rng: np.random.Generator, sector: np.ndarray) -> list[str]:
    used: set[str] = set()
    names = []
    for s in sector.tolist():
        suffixes = SECTOR_SUFFIXES[SECTORS[s]]
        name = f"{NAME_STEMS[rng.integers(len(NAME_STEMS))]} {suffixes[rng.integers(len(suffixes))]}"
        # Two listings never share a name: a clash becomes a holding company, then a numbered class.
        candidate, number = name, 1
        while candidate in used:
            number += 1
            candidate = f"{name} Holdings" if number == 2 else f"{name} {number - 1}"
        used.add(candidate)
        names.append(candidate)
    return names


def _garch_path(rng: np.random.Generator, days: int, daily_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shocks (days x series) with GARCH(1,1) variance around DAILY_SD**2, and their conditional sd."""
    long_run = daily_sd ** 2
    omega = long_run * (1.0 - GARCH_ALPHA - GARCH_BETA)
    variance = long_run.copy()
    shocks = np.empty((days, len(daily_sd)))
    sds = np.empty((days, len(daily_sd)))
    # A burn-in so the first bar starts in a calm or a turbulent spell, not at the long-run level.
    z = rng.standard_normal((GARCH_BURN_IN + days, len(daily_sd)))
    for t in range(-GARCH_BURN_IN, days):
        sd = np.sqrt(variance)
        shock = sd * z[t + GARCH_BURN_IN]
        if t >= 0:
            sds[t], shocks[t] = sd, shock
        variance = omega + GARCH_ALPHA * shock ** 2 + GARCH_BETA * variance
    return shocks, sds


def _bars(rng: np.random.Generator, sector: np.ndarray, cap: np.ndarray,
          days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Open, high, low, close (rounded to cents) and volume arrays, each trading days x stocks."""
    stocks = len(sector)
    sector_drift = np.array([SECTOR_PROFILES[name][0] for name in SECTORS])
    sector_vol = np.array([SECTOR_PROFILES[name][1] for name in SECTORS])
    cap_vol = np.array([CAP_PROFILES[name][1] for name in CAP_CATEGORIES])
    cap_volume = np.array([CAP_PROFILES[name][2] for name in CAP_CATEGORIES], dtype=float)
    cap_price = np.array([CAP_PROFILES[name][3] for name in CAP_CATEGORIES])

    # Each stock's total daily volatility, split into market, sector and idiosyncratic parts; small
    # caps carry a higher market beta as well as more idiosyncratic risk.
    daily_sd = sector_vol[sector] * cap_vol[cap] * rng.lognormal(0.0, 0.15, stocks) / np.sqrt(TRADING_DAYS_PER_YEAR)
    # Calm sectors (utilities, staples) move less with the market and with each other.
    sensitivity = sector_vol[sector] / 0.26
    small, large = cap == CAP_CATEGORIES.index("small"), cap == CAP_CATEGORIES.index("large")
    beta = np.clip(rng.normal(sensitivity * (1.0 + 0.15 * small - 0.1 * large), 0.2), 0.3, 2.0)
    gamma = np.clip(rng.normal(sensitivity, 0.2), 0.3, 1.8)
    market_sd = MARKET_VOLATILITY / np.sqrt(TRADING_DAYS_PER_YEAR)
    sector_sd = SECTOR_VOLATILITY / np.sqrt(TRADING_DAYS_PER_YEAR)
    idio_sd = np.sqrt(np.maximum(daily_sd ** 2 - (beta * market_sd) ** 2 - (gamma * sector_sd) ** 2,
                                 (0.4 * daily_sd) ** 2))
    total_sd = np.sqrt((beta * market_sd) ** 2 + (gamma * sector_sd) ** 2 + idio_sd ** 2)

    market, market_cond = _garch_path(rng, days, np.array([market_sd]))
    sector_factor, sector_cond = _garch_path(rng, days, np.full(len(SECTORS), sector_sd))
    news = rng.random((days, stocks)) < NEWS_RATE
    jumps = np.where(news, rng.normal(0.0, NEWS_JUMP_SD * total_sd, (days, stocks)), 0.0)
    idio, idio_cond = _garch_path(rng, days, idio_sd)
    drift = sector_drift[sector] / TRADING_DAYS_PER_YEAR + rng.normal(0.0, 0.04, stocks) / TRADING_DAYS_PER_YEAR
    returns = drift - 0.5 * total_sd ** 2 + beta * market + gamma * sector_factor[:, sector] + idio + jumps
    day_sd = np.sqrt((beta * market_cond) ** 2 + (gamma * sector_cond[:, sector]) ** 2 + idio_cond ** 2)

    # Most of a news jump happens overnight, so it shows in the open; the rest of the return is intraday.
    first_price = cap_price[cap] * rng.lognormal(0.0, 0.6, stocks)
    log_close = np.log(first_price) + np.cumsum(returns, axis=0)
    previous_close = np.vstack([np.log(first_price)[None, :], log_close[:-1]])
    log_open = previous_close + rng.normal(0.0, 0.25 * day_sd) + 0.7 * jumps
    upper = np.maximum(log_open, log_close) + np.abs(rng.normal(0.0, 0.45 * day_sd))
    lower = np.minimum(log_open, log_close) - np.abs(rng.normal(0.0, 0.45 * day_sd))
    opens = np.maximum(np.round(np.exp(log_open), 2), 0.01)
    closes = np.maximum(np.round(np.exp(log_close), 2), 0.01)
    # Rounding to cents must not put the open or close outside the range.
    highs = np.maximum(np.round(np.exp(upper), 2), np.maximum(opens, closes))
    lows = np.maximum(np.minimum(np.round(np.exp(lower), 2), np.minimum(opens, closes)), 0.01)

    # Log volume: AR(1) around the stock's level, pushed up by large absolute moves and by news.
    level = np.log(cap_volume[cap]) + rng.normal(0.0, 0.5, stocks)
    surprise = np.abs(returns - drift) / total_sd
    state = rng.normal(0.0, 0.3 / np.sqrt(1 - VOLUME_PERSISTENCE ** 2), stocks)
    log_volume = np.empty((days, stocks))
    noise = rng.normal(0.0, 0.3, (days, stocks))
    for t in range(days):
        state = VOLUME_PERSISTENCE * state + 0.3 * (surprise[t] - 0.8) + 0.8 * news[t] + noise[t]
        log_volume[t] = level + state
    volumes = np.maximum(np.rint(np.exp(log_volume)), 100).astype(np.int64)
    return opens, highs, lows, closes, volumes


@dataclass(frozen=True)
class _Investors:
    risk: np.ndarray  # index into RISK_TOLERANCES
    sectors: list[list[int]]  # preferred sector indices
    interval: np.ndarray  # mean trading days between purchases
    momentum: np.ndarray  # utility per unit of standardised momentum: > 0 chases, < 0 contrarian
    attention: np.ndarray  # utility per unit of standardised log volume ratio
    budget: np.ndarray  # typical amount spent on one purchase


def _investors(rng: np.random.Generator, users: int) -> _Investors:
    shares = np.array([RISK_PROFILES[name][0] for name in RISK_TOLERANCES])
    risk = rng.choice(len(RISK_TOLERANCES), size=users, p=shares)
    popularity = np.array([SECTOR_PROFILES[name][3] for name in SECTORS])
    counts = rng.choice([1, 2, 3], size=users, p=[0.4, 0.4, 0.2])
    sectors = [sorted(rng.choice(len(SECTORS), size=k, replace=False, p=popularity / popularity.sum()).tolist())
               for k in counts.tolist()]
    group_share = np.array([share for share, _ in FREQUENCIES])
    group_interval = np.array([interval for _, interval in FREQUENCIES])
    interval = group_interval[rng.choice(len(FREQUENCIES), size=users, p=group_share)] * rng.lognormal(0.0, 0.25, users)
    chaser = rng.random(users) < 0.75
    momentum = np.where(chaser, rng.lognormal(np.log(0.5), 0.4, users), -rng.lognormal(np.log(0.35), 0.4, users))
    attention = rng.lognormal(np.log(0.35), 0.6, users)
    budget_scale = np.array([RISK_PROFILES[name][3] for name in RISK_TOLERANCES])
    budget = 1_500.0 * budget_scale[risk] * rng.lognormal(0.0, 0.8, users)
    return _Investors(risk=risk, sectors=sectors, interval=interval, momentum=momentum, attention=attention,
                      budget=budget)


def _zscore(values: np.ndarray) -> np.ndarray:
    """Standardised across stocks, day by day (rows); a day with no dispersion scores zero."""
    scores = np.zeros_like(values)
    known = ~np.isnan(values).any(axis=1)
    if known.any():
        rows = values[known]
        centred = rows - rows.mean(axis=1, keepdims=True)
        spread = rows.std(axis=1, keepdims=True)
        scores[known] = np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)
    return scores


def _signals(closes: np.ndarray, volumes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per trading day (rows) and stock: momentum, log volume ratio and 20-day volatility, each
    standardised across stocks, using only that day's and earlier bars (NaN-free, zero when too early)."""
    days = len(closes)
    log_close = np.log(closes)
    nan_row = np.full((1, closes.shape[1]), np.nan)

    def lagged_change(lag: int) -> np.ndarray:
        change = np.full_like(log_close, np.nan)
        if days > lag:
            change[lag:] = log_close[lag:] - log_close[:-lag]
        return change

    momentum = 0.6 * _zscore(lagged_change(5)) + 0.4 * _zscore(lagged_change(20))
    returns = np.vstack([nan_row, np.diff(log_close, axis=0)])
    volatility = np.full_like(log_close, np.nan)
    if days > 20:
        windows = np.lib.stride_tricks.sliding_window_view(returns[1:], 20, axis=0)
        volatility[20:] = windows.std(axis=-1)
    volume = volumes.astype(float)
    ratio = np.full_like(volume, np.nan)
    if days > 30:
        # The day's volume against the mean of the 30 days before it.
        previous = np.lib.stride_tricks.sliding_window_view(volume[:-1], 30, axis=0).mean(axis=-1)
        ratio[30:] = np.log(volume[30:] / previous)
    return momentum, _zscore(ratio), _zscore(volatility)


def _purchases(rng: np.random.Generator, investors: _Investors, sector: np.ndarray, cap: np.ndarray,
               calendar: list[date], opens: np.ndarray, highs: np.ndarray, lows: np.ndarray, closes: np.ndarray,
               volumes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Day index, investor index, stock index, quantity and price of every purchase, ordered by day then investor."""
    users, stocks = len(investors.risk), len(sector)
    momentum, volume_ratio, volatility = _signals(closes, volumes)

    # Fixed parts of each investor's utility for each stock.
    preferred = np.zeros((users, stocks))
    for u, chosen in enumerate(investors.sectors):
        preferred[u] = np.isin(sector, chosen)
    volatility_taste = np.array([RISK_PROFILES[name][1] for name in RISK_TOLERANCES])[investors.risk]
    volatility_taste = volatility_taste + rng.normal(0.0, 0.15, users)
    small_cap_taste = np.array([RISK_PROFILES[name][2] for name in RISK_TOLERANCES])[investors.risk]
    familiarity = np.array([CAP_PROFILES[name][4] for name in CAP_CATEGORIES])[cap] + rng.normal(0.0, 0.3, stocks)
    small_cap = (cap == CAP_CATEGORIES.index("small"))[None, :]
    static = (PREFERRED_SECTOR_UTILITY * preferred + familiarity[None, :] + small_cap_taste[:, None] * small_cap
              + rng.normal(0.0, TASTE_SD, (users, stocks)))
    held = np.zeros((users, stocks), dtype=bool)

    # Weibull hazard over trading days since the last purchase, scaled so its mean gap is the
    # investor's interval; investors start at a random point of their cycle.
    scale = investors.interval / math.gamma(1.0 + 1.0 / HAZARD_SHAPE)
    since = np.floor(rng.random(users) * investors.interval).astype(float)
    weekday = np.array([day.weekday() for day in calendar])

    parts: list[tuple[np.ndarray, ...]] = []
    for d in range(WARM_UP_DAYS, len(calendar)):
        since += 1
        cumulative = (since / scale) ** HAZARD_SHAPE - ((since - 1) / scale) ** HAZARD_SHAPE
        probability = np.clip((1.0 - np.exp(-cumulative)) * WEEKDAY_EFFECT[weekday[d]], 0.0, 1.0)
        buyers = np.flatnonzero(rng.random(users) < probability)
        if len(buyers) == 0:
            continue
        # Everything known at the close of d-1.
        utility = (static[buyers] + investors.momentum[buyers, None] * momentum[d - 1][None, :]
                   + investors.attention[buyers, None] * volume_ratio[d - 1][None, :]
                   + volatility_taste[buyers, None] * volatility[d - 1][None, :]
                   + HOLDING_UTILITY * held[buyers])
        # Gumbel-max: the top one (or two) of utility + Gumbel noise is a draw proportional to
        # exp(utility), without replacement.
        perturbed = utility + rng.gumbel(size=utility.shape)
        ranked = np.argsort(-perturbed, axis=1)[:, :2]
        two = (rng.random(len(buyers)) < SECOND_PURCHASE_RATE) & (stocks > 1)
        user = np.concatenate([buyers, buyers[two]])
        stock = np.concatenate([ranked[:, 0], ranked[two, -1]])
        order = np.lexsort((stock, user))
        user, stock = user[order], stock[order]

        # Filled at the open, give or take, never outside the day's range.
        low, high = lows[d, stock], highs[d, stock]
        price = np.round(np.clip(opens[d, stock] + rng.normal(0.0, 0.2 * (high - low)), low, high), 2)
        quantity = np.maximum(np.rint(investors.budget[user] * rng.lognormal(0.0, 0.3, len(user)) / price), 1)
        parts.append((np.full(len(user), d), user, stock, quantity.astype(np.int64), price))
        held[user, stock] = True
        since[buyers] = 0

    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, np.zeros(0)
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(5))
