"""Seeds the embedded AWS with risk customers, transactions, features and champion scores for the local run.

A slice of the generated portfolio: every customer with their features and the champion's score (so
the high-risk listing, search and explanations work at once), and the stored transactions of
TRANSACTIONS_FOR of them (half the riskiest, half the first of the rest), because DynamoDB in moto
writes only a few thousand items a second. Seeding again with the same
arguments and champion finds its marker and writes nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from functools import lru_cache
from typing import Any

from finscore import resources
from finscore.data_bucket import DataBucket
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.risk import PRODUCT
from finscore.risk.features import compute_features, feature_matrix
from finscore.risk.interventions import iso, utc_now
from finscore.risk.model import load_risk_model, score_matrix
from finscore.risk.repository import SCORE_PARTITION, CustomerStore, TransactionStore

MARKER_KEY = "seed/risk.json"
DEFAULT_TRANSACTIONS_FOR = 100


@lru_cache(maxsize=2)
def _portfolio(customers: int, seed: int) -> Any:
    """The generated portfolio, kept: generation is deterministic and tests seed the same one many times."""
    from training.risk.generator import generate_portfolio

    return generate_portfolio(customers=customers, seed=seed)


def seed_risk(names: dict[str, str], customers: int = 2000, seed: int = 7,
              transactions_for: int = DEFAULT_TRANSACTIONS_FOR) -> dict[str, Any]:
    """Seed the risk tables from NAMES ({ENV_VAR: resource name}); returns what was written."""
    started = time.perf_counter()
    store = ModelStore(names[resources.MODELS_BUCKET.env_var])
    version = ModelRegistry(names[resources.REGISTRY_TABLE.env_var]).champion_version(PRODUCT)
    if version is None:
        raise RuntimeError("seed_risk needs a risk champion: train and promote one first")
    marker = DataBucket(names[resources.DATA_BUCKET.env_var])
    wanted = {"customers": customers, "seed": seed, "transactions_for": transactions_for, "model_version": version}
    previous = marker.read_json(MARKER_KEY)
    if previous and all(previous.get(key) == value for key, value in wanted.items()):
        return {**previous, "skipped": True}

    manifest = store.read_manifest(PRODUCT, version)
    model = load_risk_model(manifest, lambda name: store.read_artifact(manifest, name))
    portfolio = _portfolio(customers, seed)
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for transaction in portfolio.transactions:
        by_customer[transaction["customer_id"]].append(transaction)
    features = [compute_features(customer, by_customer[customer["customer_id"]]) for customer in portfolio.customers]
    scores = score_matrix(model, feature_matrix(features))
    now = iso(utc_now())
    items = []
    for customer, customer_features, score in zip(portfolio.customers, features, scores, strict=True):
        dates = [t["date"] for t in by_customer[customer["customer_id"]]]
        items.append({
            **customer,
            "features": customer_features,
            "features_as_of": max(dates) if dates else "",
            "features_updated_at": now,
            "transaction_count": len(dates),
            "probability": float(score.probability),
            "risk_score": float(score.risk_score),
            "risk_level": score.risk_level,
            "model_version": version,
            "scored_at": now,
            "score_partition": SCORE_PARTITION,
        })
    CustomerStore(names[resources.RISK_CUSTOMERS_TABLE.env_var]).put_many(items)
    riskiest = [item["customer_id"] for item in sorted(items, key=lambda item: -item["risk_score"])]
    chosen = set(riskiest[:transactions_for // 2])
    chosen |= set([item["customer_id"] for item in items if item["customer_id"] not in chosen][:transactions_for - len(chosen)])
    transactions = [t for customer_id in sorted(chosen) for t in by_customer[customer_id]]
    TransactionStore(names[resources.RISK_TRANSACTIONS_TABLE.env_var]).put_many(transactions)
    levels: dict[str, int] = defaultdict(int)
    for item in items:
        levels[item["risk_level"]] += 1
    report = {**wanted, "transactions": len(transactions), "customers_with_transactions": len(chosen),
              "levels": dict(levels), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_json(MARKER_KEY, report)
    return report
