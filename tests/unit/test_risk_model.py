"""The risk serving model: levels at their cut-offs, calibration, scoring and explanations."""

from __future__ import annotations

import numpy as np
import pytest

from finscore.products.risk.explain import adverse_reasons, explain, load_native_model
from finscore.products.risk.features import FEATURE_NAMES, feature_matrix
from finscore.products.risk.model import RiskModel, calibrate, check_cutoffs, raw_probabilities, risk_levels
from finscore.products.risk.reasons import REASONS


@pytest.mark.parametrize(
    ("score", "level"),
    [(0.0, "low"), (29.9, "low"), (30.0, "medium"), (59.9, "medium"), (60.0, "high"), (79.9, "high"),
     (80.0, "critical"), (100.0, "critical")],
)
def test_cutoffs_are_inclusive_lower_bounds(score, level):
    assert risk_levels(np.array([score]), (30, 60, 80))[0] == level


@pytest.mark.parametrize("cutoffs", [(30, 60), (60, 30, 80), (30, 30, 80), (30, 60, 101), (-1, 60, 80)])
def test_bad_cutoffs_are_refused(cutoffs):
    with pytest.raises(ValueError):
        check_cutoffs(cutoffs)


def test_platt_calibration_is_monotone_and_identity_at_a1_b0():
    raw = np.array([0.01, 0.2, 0.5, 0.9])
    np.testing.assert_allclose(calibrate(raw, 1.0, 0.0), raw, rtol=1e-9)
    shrunk = calibrate(raw, 0.7, -1.2)
    assert np.all(np.diff(shrunk) > 0)
    assert shrunk[2] == pytest.approx(1 / (1 + np.exp(1.2)))  # logit(0.5) = 0, so only b remains
    assert np.isfinite(calibrate(np.array([0.0, 1.0]), 0.8, -1.0)).all()


@pytest.fixture(scope="module")
def served(risk_candidate):
    candidate = risk_candidate
    return RiskModel.load(candidate.manifest, lambda name: candidate.artifacts[name].data)


def test_a_row_alone_is_scored_as_in_a_batch_and_its_level_follows_its_score(served, risk_candidate):
    matrix = feature_matrix(risk_candidate.test[:50])
    batch = served.predict(matrix)
    for row in range(len(matrix)):
        single = served.predict(matrix[row:row + 1])
        assert {name: single[name][0] for name in single} == {name: batch[name][row] for name in batch}
    assert (batch["risk_score"] == np.round(100 * batch["probability"], 1)).all()
    assert (batch["risk_level"] == risk_levels(batch["risk_score"], served.cutoffs)).all()


def test_the_manifest_cutoffs_are_the_default_and_can_be_overridden(served, risk_candidate):
    assert list(served.cutoffs) == risk_candidate.manifest.thresholds["level_cutoffs"]
    matrix = feature_matrix(risk_candidate.test[:1])
    assert served.with_cutoffs((0, 0.01, 0.02)).predict(matrix)["risk_level"][0] == "critical"
    assert served.with_cutoffs((99.97, 99.98, 99.99)).predict(matrix)["risk_level"][0] == "low"
    assert served.with_cutoffs(None) is served


def test_a_model_trained_on_other_features_is_refused(risk_candidate):
    manifest = risk_candidate.manifest.model_copy(update={"features": risk_candidate.manifest.features[:-1]})
    with pytest.raises(ValueError, match="features"):
        RiskModel.load(manifest, lambda name: risk_candidate.artifacts[name].data)


def test_explanations_give_at_most_four_adverse_reasons_by_impact(risk_candidate):
    native = load_native_model(risk_candidate.manifest, lambda name: risk_candidate.artifacts[name].data)
    served = RiskModel.load(risk_candidate.manifest, lambda name: risk_candidate.artifacts[name].data)
    probability = served.predict(feature_matrix(risk_candidate.test))["probability"]
    riskiest = risk_candidate.test[int(np.argmax(probability))]
    explanation = explain(native, riskiest)
    assert set(explanation.contributions) == set(FEATURE_NAMES)
    # SHAP values add up to the native model's log-odds.
    raw = float(risk_candidate_raw(served, riskiest))
    assert sum(explanation.contributions.values()) + explanation.base_value == pytest.approx(np.log(raw / (1 - raw)), abs=1e-3)
    reasons = explanation.reasons
    assert 1 <= len(reasons) <= 4
    impacts = [reason.impact for reason in reasons]
    assert all(impact > 0 for impact in impacts) and impacts == sorted(impacts, reverse=True)
    for reason in reasons:
        spec = REASONS[reason.feature]
        assert reason.code == spec.code and reason.text == spec.render(reason.value, reason.reference)
        assert reason.impact == explanation.contributions[reason.feature]
        assert reason.value == pytest.approx(riskiest[reason.feature])
        assert (reason.text[0].isupper() or reason.text[0].isdigit()) and "_" not in reason.text
    assert len(explain(native, riskiest, max_reasons=2).reasons) <= 2


def risk_candidate_raw(served, row):
    return raw_probabilities(served, feature_matrix([row]))[0]


def test_adverse_reasons_keep_only_risk_raising_features_on_their_adverse_side_in_order():
    contributions = {name: 0.0 for name in FEATURE_NAMES}
    contributions.update({"salary_delay_days": 0.2, "failed_auto_debits_90d": 0.9, "tenure_months": -0.5,
                          "low_balance_share": 0.4, "emi_to_income": 0.1, "balance_trend": 0.3,
                          "credit_utilisation": 0.05, "salaried": 0.6})
    features = {name: 1.0 for name in FEATURE_NAMES}
    features.update({"balance_trend": 0.4, "salaried": 0.0, "income_volatility": 0.1, "low_balance_share": 0.3})
    references = {"low_balance_share": 0.2, "emi_to_income": 1.5, "income_volatility": 0.3,
                  "salary_delay_days": 0.0, "failed_auto_debits_90d": 0.0, "balance_trend": 0.0, "salaried": 1.0,
                  "credit_utilisation": 0.5}
    reasons = adverse_reasons(contributions, features, references)
    # balance_trend rose (not "falling"), emi_to_income is below its median, income is regular (no R03).
    assert [reason.feature for reason in reasons] == ["failed_auto_debits_90d", "low_balance_share",
                                                      "salary_delay_days", "credit_utilisation"]
    assert reasons[0].code == "R16" and reasons[0].text == "1 auto-debit failed in the last 92 days"
    assert (reasons[1].value, reasons[1].reference, reasons[1].direction) == (0.3, 0.2, 1)
    assert adverse_reasons({name: -0.1 for name in FEATURE_NAMES}, features, references) == []