"""The demand product's sample data for the local run: the generated pincodes' weekly sales for the
weeks the features need, and the individual sales of the last week.

Seeding again with the same arguments finds its marker and writes nothing. The champion is not
needed to seed (no answer is stored), but the hook takes it like every product's.
"""

from __future__ import annotations

import time
from typing import Any

from finscore import resources
from finscore.models.champion import LoadedModel
from finscore.products.demand.catalog import SERIES
from finscore.products.demand.features import HISTORY_WEEKS
from finscore.products.demand.records import SaleRecord
from finscore.products.demand.repository import SalesStore, SeriesStore, series_attribute
from finscore.products.demand.spec import SALES_TABLE, SERIES_TABLE
from finscore.s3 import Bucket
from training.demand.generator import generate_panel, sale_records
from training.demand.trainer import default_rows

MARKER_KEY = "seed/demand.json"


def seed(names: dict[str, str], champion: LoadedModel | None = None, pincodes: int = default_rows, seed: int = 7,
         sales_weeks: int = 1) -> dict[str, Any]:
    """Seed the demand tables from NAMES ({ENV_VAR: resource name}) with the data the default model
    trains on (same pincodes and seed)."""
    started = time.perf_counter()
    marker = Bucket(names[resources.DATA_BUCKET.env_var])
    wanted = {"pincodes": pincodes, "seed": seed, "weeks": HISTORY_WEEKS, "sales_weeks": sales_weeks}
    previous = marker.read_json(MARKER_KEY)
    if previous and all(previous.get(key) == value for key, value in wanted.items()):
        return {**previous, "skipped": True}

    panel = generate_panel(pincodes=pincodes, seed=seed)
    weeks = len(panel.weeks)
    kept = range(max(weeks - HISTORY_WEEKS, 0), weeks)
    items = []
    for p, place in enumerate(panel.pincodes):
        for w in kept:
            counts = {series_attribute(product, channel): int(panel.counts[p, s, w])
                      for s, (product, channel) in enumerate(SERIES)}
            items.append({"pincode": place["pincode"], "week": panel.weeks[w].isoformat(), "city": place["city"],
                          **counts, "customers": sum(counts.values()), "age_sum": float(panel.ages[p, w]),
                          "income_sum": float(panel.incomes[p, w])})
    written = SeriesStore(names[SERIES_TABLE.env_var]).put_many(items)
    sales = [SaleRecord.model_validate(record).item()
             for record in sale_records(panel, weeks=range(weeks - sales_weeks, weeks), seed=seed)]
    stored = SalesStore(names[SALES_TABLE.env_var]).put_many(sales)
    report = {**wanted, "series_items": written, "sales": stored, "as_of": panel.weeks[-1].isoformat(),
              "seconds": round(time.perf_counter() - started, 1)}
    marker.write_json(MARKER_KEY, report)
    return report
