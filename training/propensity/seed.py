"""The propensity product's sample data for the local run: the generated market's stocks with their
features as of the last day, the bars those features need, and every investor's history summary.

Seeding again with the same arguments finds its marker and writes nothing. The champion is not
needed to seed (no score is stored), but the hook takes it like every product's.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from finscore import resources
from finscore.models.champion import LoadedModel
from finscore.products.propensity.features import HISTORY_BARS, VOLUME_WINDOW, investor_summary, stock_snapshot
from finscore.products.propensity.repository import BarStore, InvestorStore, StockStore
from finscore.products.propensity.spec import BARS_TABLE, INVESTORS_TABLE, STOCKS_TABLE
from finscore.s3 import Bucket
from training.propensity.generator import generate_market

MARKER_KEY = "seed/propensity.json"
# The bars a stock's features need, kept per stock: moto writes a few thousand items a second.
KEPT_BARS = HISTORY_BARS + VOLUME_WINDOW


def seed(names: dict[str, str], champion: LoadedModel | None = None, investors: int = 400, stocks: int = 120,
         seed: int = 7) -> dict[str, Any]:
    """Seed the propensity tables from NAMES ({ENV_VAR: resource name})."""
    started = time.perf_counter()
    marker = Bucket(names[resources.DATA_BUCKET.env_var])
    wanted = {"investors": investors, "stocks": stocks, "seed": seed, "kept_bars": KEPT_BARS}
    previous = marker.read_json(MARKER_KEY)
    if previous and all(previous.get(key) == value for key, value in wanted.items()):
        return {**previous, "skipped": True}

    market = generate_market(users=investors, stocks=stocks, seed=seed)
    bars = defaultdict(list)
    for bar in market.bars:
        bars[bar["stock_id"]].append(bar)
    kept = {stock_id: sorted(history, key=lambda bar: bar["date"])[-KEPT_BARS:] for stock_id, history in bars.items()}
    stock_items = [{**stock, **stock_snapshot(kept[stock["stock_id"]])} for stock in market.stocks]
    sector_of = {stock["stock_id"]: stock["sector"] for stock in market.stocks}
    purchases = defaultdict(list)
    for purchase in market.purchases:
        purchases[purchase["user_id"]].append({**purchase, "sector": sector_of[purchase["stock_id"]]})
    investor_items = [{"user_id": user["user_id"], "risk_tolerance": user["risk_tolerance"],
                       **investor_summary(purchases[user["user_id"]], market.end)} for user in market.users]
    StockStore(names[STOCKS_TABLE.env_var]).put_many(stock_items)
    written_bars = BarStore(names[BARS_TABLE.env_var]).put_many(bar for history in kept.values() for bar in history)
    InvestorStore(names[INVESTORS_TABLE.env_var]).put_many(investor_items)
    report = {**wanted, "bars": written_bars, "investors": len(investor_items),
              "as_of": market.end.isoformat(), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_json(MARKER_KEY, report)
    return report
