"""The risk product's sample data for the local run: customers, transactions, features and champion scores.

A slice of the generated portfolio, its history ending at the last month end before today so that
features as of today see a live book: every customer with their features as of today and the
champion's score (so the high-risk listing, search and explanations work at once), and the stored transactions of
TRANSACTIONS_FOR of them (half the riskiest, half the first of the rest), because DynamoDB in moto
writes only a few thousand items a second. Seeding again with the same arguments and champion finds
its marker and writes nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from finscore import resources
from finscore.models.champion import LoadedModel
from finscore.products.columns import columns_of
from finscore.products.risk.features import FEATURE_NAMES, compute_features, today
from finscore.products.risk.interventions import iso, utc_now
from finscore.products.risk.repository import CounterStore, CustomerStore, TransactionStore
from finscore.products.risk.spec import COUNTERS_TABLE, CUSTOMER_SEARCH_TABLE, CUSTOMERS_TABLE, RISK, TRANSACTIONS_TABLE
from finscore.products.scoring import Scorer
from finscore.s3 import Bucket

MARKER_KEY = "seed/risk.json"
DEFAULT_TRANSACTIONS_FOR = 100


@lru_cache(maxsize=2)
def _portfolio(customers: int, seed: int, as_of: date) -> Any:
    """The generated portfolio, kept: generation is deterministic and tests seed the same one many times."""
    from training.risk.generator import generate_portfolio

    return generate_portfolio(customers=customers, seed=seed, as_of=as_of)


def seed(names: dict[str, str], champion: LoadedModel, customers: int = 2000, seed: int = 7,
         transactions_for: int = DEFAULT_TRANSACTIONS_FOR) -> dict[str, Any]:
    """Seed the risk tables from NAMES ({ENV_VAR: resource name}) with CHAMPION's scores."""
    started = time.perf_counter()
    marker = Bucket(names[resources.DATA_BUCKET.env_var])
    as_of = today()
    wanted = {"customers": customers, "seed": seed, "transactions_for": transactions_for,
              "model_version": champion.version, "as_of": as_of.isoformat()}
    previous = marker.read_json(MARKER_KEY)
    if previous and all(previous.get(key) == value for key, value in wanted.items()):
        return {**previous, "skipped": True}

    portfolio = _portfolio(customers, seed, as_of.replace(day=1) - timedelta(days=1))
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for transaction in portfolio.transactions:
        by_customer[transaction["customer_id"]].append(transaction)
    features = [compute_features(customer, by_customer[customer["customer_id"]], as_of)
                for customer in portfolio.customers]
    outputs = Scorer(RISK, champion).predict(columns_of(features, FEATURE_NAMES))
    now = iso(utc_now())
    items = []
    for index, (customer, customer_features) in enumerate(zip(portfolio.customers, features, strict=True)):
        dates = [t["date"] for t in by_customer[customer["customer_id"]]]
        items.append({
            **customer,
            "features": customer_features,
            "features_as_of": as_of.isoformat(),
            "last_transaction_at": max(dates) if dates else "",
            "features_updated_at": now,
            "transaction_count": len(dates),
            "probability": float(outputs["probability"][index]),
            "risk_score": float(outputs["risk_score"][index]),
            "risk_level": str(outputs["risk_level"][index]),
            "model_version": champion.version,
            "scored_at": now,
        })
    CustomerStore(names[CUSTOMERS_TABLE.env_var], search_table=names[CUSTOMER_SEARCH_TABLE.env_var]).put_many(items)
    # The whole portfolio was written with its scores: the counters are set to it, not added to.
    CounterStore(names[COUNTERS_TABLE.env_var]).set_score_counts(items)
    riskiest = [item["customer_id"] for item in sorted(items, key=lambda item: -item["risk_score"])]
    chosen = set(riskiest[:transactions_for // 2])
    chosen |= set([item["customer_id"] for item in items if item["customer_id"] not in chosen][:transactions_for - len(chosen)])
    transactions = [t for customer_id in sorted(chosen) for t in by_customer[customer_id]]
    TransactionStore(names[TRANSACTIONS_TABLE.env_var]).put_many(transactions)
    levels: dict[str, int] = defaultdict(int)
    for item in items:
        levels[item["risk_level"]] += 1
    report = {**wanted, "transactions": len(transactions), "customers_with_transactions": len(chosen),
              "levels": dict(levels), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_json(MARKER_KEY, report)
    return report
