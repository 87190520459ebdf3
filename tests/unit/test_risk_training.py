"""risk training: the generator, record validation, the stratified split, the parity rule and the gate."""

from __future__ import annotations

import json

import numpy as np
import pytest

from finscore.products.risk.features import FEATURE_NAMES
from training.pipeline import load_product
from training.risk import trainer
from training.risk.generator import generate_portfolio


@pytest.fixture(scope="module")
def portfolio():
    return generate_portfolio(customers=400, seed=3)


def test_the_same_seed_generates_the_same_portfolio(portfolio):
    again = generate_portfolio(customers=400, seed=3)
    assert again.customers == portfolio.customers and again.transactions == portfolio.transactions
    assert again.labels == portfolio.labels
    assert generate_portfolio(customers=400, seed=4).transactions != portfolio.transactions


def test_the_portfolio_looks_like_a_bank_book(portfolio):
    valid, rejects = trainer.validate(trainer.portfolio_records(portfolio))
    assert rejects == [] and len(valid) == 400
    categories = {txn["category"] for txn in portfolio.transactions}
    assert {"salary", "emi_payment", "auto_debit_failed", "atm_withdrawal", "lending_app_transfer",
            "utility_payment"} <= categories
    assert all(txn["date"] <= portfolio.as_of.isoformat() for txn in portfolio.transactions)
    assert 0.04 <= np.mean(list(portfolio.labels.values())) <= 0.18


def test_the_label_is_not_a_feature(portfolio):
    # Given the portfolio, When every label is flipped, Then the features are unchanged
    records = trainer.portfolio_records(portfolio)
    flipped = [{**record, "delinquent": 1 - record["delinquent"]} for record in records]
    original, _ = trainer.validate(records)
    changed, _ = trainer.validate(flipped)
    np.testing.assert_array_equal(trainer.feature_matrix(original), trainer.feature_matrix(changed))
    assert "delinquent" not in FEATURE_NAMES
    assert not any("delinquent" in txn or "label" in txn for txn in portfolio.transactions)


def test_bad_records_are_rejected_whole_with_reasons(portfolio):
    customers = portfolio.customers[:3]
    transactions = [txn for txn in portfolio.transactions if txn["customer_id"] in {c["customer_id"] for c in customers}]
    transactions.append({**transactions[0], "customer_id": "GHOST"})
    broken = dict(transactions[5], amount=-5)
    transactions[5] = broken
    labels = {customers[0]["customer_id"]: 1, customers[1]["customer_id"]: 0}
    records = trainer.training_records([{**customers[0], "age": 12}, customers[1], customers[2]], transactions, labels)
    valid, rejects = trainer.validate(records)
    by_row = {reject.row: reject.reason for reject in rejects}
    owner = broken["customer_id"]
    assert "customer: age" in by_row[0]
    assert "delinquent" in by_row[2]
    assert "GHOST" in by_row[3]  # transactions of an unknown customer are reported, not dropped
    if owner == customers[1]["customer_id"]:
        assert "amount" in by_row[1] and valid == []
    assert len(valid) + len(rejects) == 4


def test_the_split_is_stratified_seeded_and_70_15_15():
    records = [{"delinquent": int(i % 10 == 0), "i": i} for i in range(2_000)]
    train, validation, test = trainer.split(records, seed=5)
    assert (len(train), len(validation), len(test)) == (1_400, 300, 300)
    for part in (train, validation, test):
        assert np.mean([row["delinquent"] for row in part]) == pytest.approx(0.1)
    assert {row["i"] for row in train + validation + test} == set(range(2_000))
    assert trainer.split(records, seed=5) == (train, validation, test)


@pytest.mark.parametrize(
    ("diffs", "agreement", "passed"),
    [
        (np.zeros(1_000), 1.0, True),
        (np.r_[np.zeros(995), np.full(5, 5e-3)], 1.0, True),  # 99.5% within 1e-4, all within 1e-2
        (np.r_[np.zeros(994), np.full(6, 5e-3)], 1.0, False),  # too many rows beyond 1e-4
        (np.r_[np.zeros(999), [2e-2]], 1.0, False),  # one row beyond 1e-2
        (np.zeros(1_000), 0.99, False),  # levels disagree too often
    ],
)
def test_parity_rule(diffs, agreement, passed):
    result = trainer.judge_parity(len(diffs), diffs, agreement, "lightgbm")
    assert result.passed is passed
    assert result.max_abs_diff == pytest.approx(diffs.max())
    assert "0.0001" in result.rule and "99.5%" in result.rule and "0.01" in result.rule
    assert set(result.per_model) == {"lightgbm"}


def test_the_risk_spec_names_its_trainer():
    assert load_product("risk").trainer is trainer


def test_the_candidate_carries_metrics_report_and_serving_contract(risk_candidate):
    manifest, artifacts = risk_candidate.manifest, risk_candidate.artifacts
    assert manifest.primary_metric == "roc_auc" and manifest.parity.passed
    for metric in ("roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold_for_80_recall"):
        assert metric in manifest.metrics
    assert manifest.metrics["roc_auc"] > 0.6  # even a tiny model ranks far better than chance
    # The 80%-recall threshold is chosen on validation; on test it flags most delinquents, not exactly 80%.
    assert 0.5 <= manifest.metrics["recall_at_80_threshold"] <= 1
    assert set(manifest.metrics["confusion_matrix"]) == {"tn", "fp", "fn", "tp"}
    assert sum(manifest.metrics["confusion_matrix"].values()) == manifest.training_data.split["test"]
    assert manifest.feature_names == list(FEATURE_NAMES)
    assert manifest.thresholds["calibration"]["method"] == "platt"
    assert manifest.thresholds["level_cutoffs"] == list(trainer.LEVEL_CUTOFFS)
    assert artifacts["model.onnx"].role == "serving"
    assert artifacts[manifest.extra["native"]["artifact"]].role == "native"
    assert {name: artifacts[name].role for name in trainer.REPORT_ARTIFACTS} == dict.fromkeys(trainer.REPORT_ARTIFACTS, "report")
    assert artifacts["roc.png"].data.startswith(b"\x89PNG") and artifacts["pr.png"].data.startswith(b"\x89PNG")
    report = json.loads(artifacts["report.json"].data)
    assert report["metrics"]["roc_auc"] == manifest.metrics["roc_auc"]
    assert set(report["levels"]) == {"low", "medium", "high", "critical"}
    assert set(report["feature_importance"]) == set(FEATURE_NAMES)
    assert "baseline.json" in artifacts


def test_the_training_gate_registers_and_promotes_then_keeps_an_equal_champion(aws, risk_candidate):
    from finscore.models.registry import ModelRegistry
    from finscore.models.store import ModelStore
    from training.pipeline import promotion_gate

    store, registry = ModelStore(aws["MODELS_BUCKET"]), ModelRegistry(aws["REGISTRY_TABLE"])
    first = promotion_gate(load_product("risk"), risk_candidate, store=store, registry=registry, tolerance=0.01)
    assert first.promote and "no champion" in first.reason
    published = store.publish(risk_candidate.manifest, risk_candidate.artifacts)
    registry.register(published)
    registry.promote("risk", published.version)
    again = promotion_gate(load_product("risk"), risk_candidate, store=store, registry=registry, tolerance=0.0)
    # The champion is re-served on the same held-out rows: identical model, identical ROC-AUC.
    assert again.promote and again.candidate_value == pytest.approx(again.champion_value)
    assert again.candidate_value == pytest.approx(risk_candidate.manifest.metrics["roc_auc"], abs=1e-6)


def test_a_calibration_that_would_invert_the_ranking_is_refused():
    raw = np.linspace(0.05, 0.95, 200)
    # Delinquents are the customers the model scored LOWEST: the Platt slope comes out negative.
    labels = (raw < 0.3).astype(int)
    with pytest.raises(ValueError, match="Platt slope"):
        trainer.fit_platt(raw, labels)
    a, _ = trainer.fit_platt(raw, 1 - labels)
    assert a > 0


def test_no_reason_is_cited_against_its_own_statement_on_the_held_out_set(risk_candidate):
    from finscore.products.risk.explain import adverse_reasons, load_native_model, shap_values
    from finscore.products.risk.features import feature_matrix
    from finscore.products.risk.reasons import REASONS

    manifest, artifacts = risk_candidate.manifest, risk_candidate.artifacts
    native = load_native_model(manifest, lambda name: artifacts[name].data)
    assert set(manifest.extra["feature_medians"]) == set(FEATURE_NAMES)
    rows = [{name: float(row[name]) for name in FEATURE_NAMES} for row in risk_candidate.test]
    contributions = shap_values(native, feature_matrix(rows))
    cited = 0
    for row, values in zip(rows, contributions):
        reasons = adverse_reasons(dict(zip(FEATURE_NAMES, values[:-1])), row, native.references)
        for reason in reasons:
            cited += 1
            spec = REASONS[reason.feature]
            assert reason.value == row[reason.feature] and reason.impact > 0
            assert spec.adverse(reason.value, reason.reference), reason
            assert reason.text == spec.render(reason.value, reason.reference)
            # The statements the texts make, checked on the features themselves.
            if reason.code == "R14":
                assert row["has_credit_limit"] == 1 and row["credit_utilisation"] > 0.5
            if reason.code == "R16":
                assert row["failed_auto_debits_90d"] >= 1 and reason.text.startswith(f"{row['failed_auto_debits_90d']:.0f} ")
            if reason.code == "R06":
                assert row["balance_trend"] < 0
            if reason.code == "R05":
                assert row["inflow_ratio_recent"] < 1
            if reason.code == "R03":
                assert row["salaried"] == 0
                assert row["income_volatility"] > native.references["income_volatility"]
    assert cited > len(rows) / 2  # the rule leaves reasons to cite: most customers get at least one
