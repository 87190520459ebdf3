"""Scoring logic with a fake champion: raw-feature checks, stored scores, batch isolation, auto-trigger."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from finscore.errors import NotFound, ValidationFailed
from finscore.models.champion import LoadedModel
from finscore.products.risk import scoring
from finscore.products.risk.features import FEATURE_NAMES, FEATURES, compute_features, today
from finscore.products.risk.interventions import InterventionContext
from finscore.products import scoring as product_scoring
from finscore.products.risk.model import risk_levels
from finscore.products.risk.repository import CounterStore, CustomerStore, InterventionStore, TransactionStore, shard_of
from finscore.products.risk.api_models import BatchScoreRequest, ScoreRequest
from finscore.products.risk.settings import InterventionPolicy

CUTOFFS = (30.0, 60.0, 80.0)
PROFILE = {
    "name": "Priya Sharma", "age": 34, "city": "Pune", "phone": "+919812345678",
    "email": "priya.sharma@example.in", "preferred_language": "hi", "preferred_channel": "sms",
    "monthly_income": 52000.0, "credit_limit": 150000.0, "opened_at": "2019-04-01",
}


@dataclass(frozen=True)
class FakeRiskModel:
    """Score = 30 points per failed auto-debit, capped at 99: easy to steer from a test."""

    cutoffs: tuple[float, ...] = CUTOFFS

    def with_cutoffs(self, cutoffs):
        return self if cutoffs is None else replace(self, cutoffs=tuple(cutoffs))

    def predict(self, matrix, columns=None):
        scores = np.minimum(99.0, 30.0 * matrix[:, FEATURE_NAMES.index("failed_auto_debits_90d")].astype(float))
        return {"probability": scores / 100.0, "risk_score": scores, "risk_level": risk_levels(scores, self.cutoffs)}


@pytest.fixture
def ctx(aws, monkeypatch):
    manifest = SimpleNamespace(feature_names=list(FEATURE_NAMES), outputs=[])
    loaded = LoadedModel(version="v-test", manifest=manifest, model=FakeRiskModel())
    monkeypatch.setattr(product_scoring, "champion", lambda name: SimpleNamespace(get=lambda: loaded))
    counters = CounterStore(aws["RISK_COUNTERS_TABLE"])
    customers = CustomerStore(aws["RISK_CUSTOMERS_TABLE"], counters=counters)
    base = compute_features(PROFILE, [])
    fresh = today().isoformat()
    customers.put_many([
        {**PROFILE, "customer_id": "C1", "features": {**base, "failed_auto_debits_90d": 3.0}, "features_as_of": fresh},
        {**PROFILE, "customer_id": "C2", "features": {**base, "failed_auto_debits_90d": 1.0}, "features_as_of": fresh},
        {**PROFILE, "customer_id": "C3"},  # no features yet: computed from its (no) transactions
    ])
    return scoring.RiskContext(
        customers=customers,
        transactions=TransactionStore(aws["RISK_TRANSACTIONS_TABLE"]),
        interventions=InterventionContext(
            customers=customers,
            interventions=InterventionStore(aws["INTERVENTIONS_TABLE"], aws["RISK_CUSTOMERS_TABLE"], counters),
            policy=InterventionPolicy.model_validate({"ENABLE_INTERVENTIONS": "true"}),
        ),
    )


def raw_features(**overrides) -> dict:
    return {**compute_features(PROFILE, []), **overrides}


def test_raw_features_must_match_the_manifest_names():
    features = raw_features()
    del features["tenure_months"]
    features["shoe_size"] = 9.0

    with pytest.raises(ValidationFailed) as error:
        scoring.check_raw_features(features, FEATURES)

    assert {issue.field for issue in error.value.details} == {"features.tenure_months", "features.shoe_size"}


def test_raw_features_outside_their_domain_are_refused_naming_field_and_range():
    features = {**raw_features(), "salary_missed_months": 99, "salaried": 7, "low_balance_share": 5,
                "discretionary_share": -2, "failed_auto_debits_90d": -1, "late_emi_payments_90d": 1.5,
                "tenure_months": 1e6}

    with pytest.raises(ValidationFailed) as error:
        scoring.check_raw_features(features, FEATURES)

    assert {issue.field: issue.issue for issue in error.value.details} == {
        "features.salary_missed_months": "must be between 0 and 3",
        "features.salaried": "must be 0 or 1",
        "features.low_balance_share": "must be between 0 and 1",
        "features.discretionary_share": "must be between 0 and 1",
        "features.failed_auto_debits_90d": "must be at least 0",
        "features.late_emi_payments_90d": "must be a whole number",
        "features.tenure_months": "must be between 0 and 600",
    }


def test_raw_feature_values_must_be_finite():
    with pytest.raises(ValueError):
        ScoreRequest(features=raw_features(balance_trend=float("nan")))
    with pytest.raises(ValueError):
        ScoreRequest(customer_id="C1", features=raw_features())


def test_a_score_by_id_is_stored_with_its_level_and_auto_triggers(ctx):
    response = scoring.score(ctx, ScoreRequest(customer_id="C1"))

    stored = ctx.customers.get("C1")
    assert (response.risk_score, response.risk_level) == (90.0, "critical")
    assert (stored["risk_score"], stored["risk_level"], stored["score_shard"]) == (90.0, "critical", shard_of("C1"))
    assert ctx.customers.counters.totals()["level_critical"] == 1
    assert stored["model_version"] == "v-test"
    assert response.intervention_id and stored["last_intervention_id"] == response.intervention_id


def test_scoring_the_same_stored_features_again_writes_nothing(ctx):
    # Given C2 scored once: its score is stored
    first = scoring.score(ctx, ScoreRequest(customer_id="C2"))
    stored = ctx.customers.get("C2")
    writes = []
    ctx.customers.save_score = lambda *args, **kwargs: writes.append(args)

    # When it is scored again with nothing changed
    again = scoring.score(ctx, ScoreRequest(customer_id="C2"))

    # Then the same score is answered, as of now, and the customer is left as it was
    assert (again.risk_score, again.risk_level, again.model_version) == (first.risk_score, first.risk_level, "v-test")
    assert again.scored_at >= stored["scored_at"] == first.scored_at
    assert writes == [] and ctx.customers.get("C2") == stored


def test_a_score_that_differs_from_the_stored_one_is_written(ctx):
    scoring.score(ctx, ScoreRequest(customer_id="C2"))
    # The stored score was set by another model (or other cut-offs): it is no longer the score.
    ctx.customers.put_many([{**ctx.customers.get("C2"), "model_version": "v-old", "risk_level": "low"}])

    response = scoring.score(ctx, ScoreRequest(customer_id="C2"))

    stored = ctx.customers.get("C2")
    assert (stored["model_version"], stored["risk_level"], stored["scored_at"]) == ("v-test", "medium",
                                                                                     response.scored_at)


def test_a_score_below_the_threshold_creates_no_intervention(ctx):
    response = scoring.score(ctx, ScoreRequest(customer_id="C2"))

    assert (response.risk_score, response.risk_level, response.intervention_id) == (30.0, "medium", None)


def test_configured_cutoffs_override_the_manifest(ctx):
    policy = InterventionPolicy.model_validate({"RISK_LEVEL_CUTOFFS": "10,20,25"})
    overridden = scoring.RiskContext(ctx.customers, ctx.transactions,
                                     InterventionContext(ctx.customers, ctx.interventions.interventions, policy))

    response = scoring.score(overridden, ScoreRequest(customer_id="C2"))

    assert response.cutoffs == [10.0, 20.0, 25.0] and response.risk_level == "critical"


def test_a_customer_without_features_gets_them_computed_and_stored(ctx):
    scoring.score(ctx, ScoreRequest(customer_id="C3"))

    stored = ctx.customers.get("C3")
    assert set(stored["features"]) == set(FEATURE_NAMES)
    assert stored["transaction_count"] == 0


def test_an_unknown_customer_is_404(ctx):
    with pytest.raises(NotFound):
        scoring.score(ctx, ScoreRequest(customer_id="C404"))


def test_a_bad_batch_record_fails_alone(ctx):
    request = BatchScoreRequest(records=[
        {"customer_id": "C1"},
        {"customer_id": "C404"},
        {"features": raw_features(failed_auto_debits_90d=2.0)},
        {"features": {"tenure_months": 3}},
        {"customer_id": "bad id!"},
        {"colour": "blue"},
    ])

    response = scoring.score_batch(ctx, request)

    assert [(r.index, r.risk_score) for r in response.results] == [(0, 90.0), (2, 60.0)]
    assert [(e.index, e.code) for e in response.errors] == [
        (1, "not_found"), (3, "validation_failed"), (4, "validation_failed"), (5, "validation_failed")]
    assert {d.field for d in response.errors[1].details} >= {"features.salaried", "features.balance_trend"}
    assert response.errors[2].details[0].field == "customer_id"
    assert response.results[0].intervention_id and response.results[1].intervention_id is None


def test_stored_features_older_than_the_max_age_are_recomputed_as_of_today(ctx):
    # C2's stored features say one failed auto-debit, as of a week ago; its stored transactions hold none.
    stale = (today() - timedelta(days=7)).isoformat()
    ctx.customers.put_many([{**ctx.customers.get("C2"), "features_as_of": stale}])

    response = scoring.score(ctx, ScoreRequest(customer_id="C2"))

    stored = ctx.customers.get("C2")
    assert response.risk_score == 0.0 and response.as_of == today().isoformat()
    assert stored["features_as_of"] == today().isoformat() and stored["features"]["failed_auto_debits_90d"] == 0
    # Scored on new features, the score is stored even where it equals the one held before.
    assert stored["scored_at"] == response.scored_at


def test_a_score_as_of_another_date_is_answered_not_stored(ctx):
    ctx.transactions.put_many([{"txn_id": "t1", "customer_id": "C1", "date": "2025-03-05", "amount": 4000.0,
                                "direction": "debit", "category": "auto_debit_failed", "channel": "auto_debit",
                                "balance_after": 100.0}])
    before = ctx.customers.get("C1")

    response = scoring.score(ctx, ScoreRequest(customer_id="C1", as_of="2025-04-01"))

    assert (response.as_of, response.risk_score, response.intervention_id) == ("2025-04-01", 30.0, None)
    assert ctx.customers.get("C1") == before
    with pytest.raises(ValidationFailed) as error:
        scoring.score(ctx, ScoreRequest(customer_id="C1", as_of="2025-03-01"))
    assert error.value.details[0].field == "as_of" and "2025-03-05" in error.value.details[0].issue
    with pytest.raises(ValueError, match="as_of applies to a customer_id"):
        ScoreRequest(features=raw_features(), as_of="2025-04-01")
