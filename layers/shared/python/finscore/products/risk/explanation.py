"""GET /v1/risk/customers/{customer_id}/explanation: SHAP contributions and adverse reason codes.

Runs in the risk_explain container-image function, the one place the native model (XGBoost or
LightGBM) is loaded; it is cached per execution environment like the serving champion. The heavy
libraries are imported only when the first explanation is asked for, so the OpenAPI build and tests
can import the handler cheaply.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from finscore.errors import Conflict, FieldIssue, NotFound
from finscore.models.champion import ChampionCache, serving_champion
from finscore.products.risk import PRODUCT
from finscore.products.risk.repository import CustomerStore
from finscore.products.risk.api_models import ExplanationResponse, ReasonCodeModel
from finscore.products.risk.settings import RiskExplainSettings
from finscore.settings import load_settings

MAX_REASONS = 4


def _load_native(manifest: Any, read: Any) -> Any:
    from finscore.products.risk.explain import load_native_model

    return load_native_model(manifest, read)


@lru_cache(maxsize=1)
def native_champion() -> ChampionCache:
    """The execution environment's cache of the champion's native model."""
    return serving_champion(PRODUCT, _load_native, load_settings(RiskExplainSettings))


@lru_cache(maxsize=1)
def _customers() -> CustomerStore:
    return CustomerStore(load_settings(RiskExplainSettings).customers_table)


def reset() -> None:
    """Forget the cached native model and stores (tests that change the environment)."""
    native_champion.cache_clear()
    _customers.cache_clear()


def explain_customer(customer_id: str) -> ExplanationResponse:
    from finscore.products.risk.explain import explain

    customer = _customers().get(customer_id)
    if customer is None:
        raise NotFound(f"Unknown customer {customer_id}", [FieldIssue("customer_id", "no such customer")])
    features = customer.get("features")
    if not features:
        raise Conflict(f"Customer {customer_id} has no behavioural features yet; add transactions first",
                       [FieldIssue("customer_id", "no features in the feature store")])
    loaded = native_champion().get()
    explanation = explain(loaded.model, {name: float(value) for name, value in features.items()},
                          max_reasons=MAX_REASONS)
    same_model = customer.get("model_version") == loaded.version
    return ExplanationResponse(
        customer_id=customer_id,
        model_version=loaded.version,
        risk_score=customer.get("risk_score") if same_model else None,
        risk_level=customer.get("risk_level") if same_model else None,
        base_value=round(float(explanation.base_value), 6),
        contributions={name: round(float(value), 6) for name, value in explanation.contributions.items()},
        reasons=[
            ReasonCodeModel(code=reason.code, feature=reason.feature, value=float(reason.value),
                            reference=reason.reference, direction=reason.direction,
                            impact=round(float(reason.impact), 6), text=reason.text)
            for reason in explanation.reasons
        ],
    )
