"""Training a user's own table: the target and column checks, the leakage guard, the two candidates
and the choice, calibration, parity, and serving the result with the light CustomModel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from finscore.products.custom.definition import CustomDefinition
from finscore.products.custom.model import CustomModel
from finscore.products.custom.schema import parse_date
from tests.custom_tables import credit_table, linear_table, regression_table
from training.custom import CustomProduct, CustomTableError
from training.custom.product import PARITY_TOLERANCE, FittedCustom
from training.pipeline import Candidate, TrainingDataError, build_candidate

CREDIT = CustomDefinition(name="credit", target="default", task="binary", id_column="customer_id",
                          monotone={"credit_score": -1, "utilisation": 1})


@dataclass
class Trained:
    product: CustomProduct
    candidate: Candidate
    fitted: FittedCustom

    @property
    def manifest(self):
        return self.candidate.manifest

    def served(self) -> CustomModel:
        return CustomModel.load(self.manifest, lambda name: self.candidate.artifacts[name].data)

    def columns(self) -> dict[str, dict[str, Any]]:
        return {column["name"]: column for column in self.manifest.extra["columns"]}


def train(definition: CustomDefinition, records: list[dict[str, Any]], **options: Any) -> Trained:
    """The pipeline's candidate of DEFINITION on RECORDS, with the product's fitted models kept."""
    product = CustomProduct(definition, records)
    kept: dict[str, FittedCustom] = {}
    fit = product.fit

    def keeping(*args: Any, **kwargs: Any) -> FittedCustom:
        kept["fitted"] = fit(*args, **kwargs)
        return kept["fitted"]

    product.fit = keeping  # type: ignore[method-assign]
    candidate = build_candidate(product, data=records, progress=False, **options)
    return Trained(product, candidate, kept["fitted"])


@pytest.fixture(scope="session")
def credit() -> Trained:
    return train(CREDIT, credit_table(5_000))


@pytest.fixture(scope="session")
def linear() -> Trained:
    return train(CustomDefinition(name="linear", target="outcome", task="binary"), linear_table())


@pytest.fixture(scope="session")
def spend() -> Trained:
    return train(CustomDefinition(name="spend", target="spend", task="regression", id_column="account",
                                  as_of_column="opened"), regression_table())


def test_every_column_is_used_or_refused_by_name_with_its_reason(credit):
    columns = credit.columns()

    used = {name: column["kind"] for name, column in columns.items() if column["used"]}
    assert used == {"age": "numeric", "income": "numeric", "credit_score": "numeric", "utilisation": "numeric",
                    "employment": "categorical", "region": "categorical", "has_mortgage": "boolean",
                    "application_date": "date"}
    reasons = {name: column["reason"] for name, column in columns.items() if not column["used"]}
    assert reasons["customer_id"].startswith("the id column")
    assert reasons["row_number"].startswith("ID-like")
    assert reasons["product_code"].startswith("constant")
    assert reasons["notes"].startswith("free text")
    assert reasons["account_status_after"].startswith("leakage")
    assert "deterministic function of the target" in reasons["account_status_after"]
    assert reasons["recovered_amount"].startswith("leakage")  # present only for defaulters
    assert set(credit.manifest.extra["schema"]["ignored"]) >= {"customer_id", "row_number", "product_code", "notes",
                                                                 "account_status_after", "recovered_amount", "default"}
    assert "account_status_after" not in credit.fitted.schema.names


def test_the_leakage_report_scores_every_candidate_column(credit):
    report = {entry["column"]: entry for entry in credit.manifest.extra["leakage"]["columns"]}

    assert set(report) == {"age", "income", "credit_score", "utilisation", "employment", "region", "has_mortgage",
                           "application_date", "account_status_after", "recovered_amount"}
    leaks = {"account_status_after", "recovered_amount"}
    assert all(report[name]["leaks"] and report[name]["score"] >= 0.98 for name in leaks)
    assert all(not entry["leaks"] and entry["score"] < 0.8 for name, entry in report.items() if name not in leaks)


def test_a_column_that_is_the_target_give_or_take_leaks_in_a_regression(spend):
    reason = spend.columns()["statement_total"]["reason"]

    assert reason.startswith("leakage") and "r2" in reason
    assert "statement_total" not in spend.fitted.schema.names


def test_a_leaking_column_the_definition_allows_is_kept():
    records = credit_table(1_500, seed=2)
    definition = CREDIT.model_copy(update={"allow": ["account_status_after"], "monotone": {},
                                           "exclude": ["recovered_amount"]})

    trained = train(definition, records)

    assert trained.columns()["account_status_after"]["used"]
    entry = next(e for e in trained.manifest.extra["leakage"]["columns"] if e["column"] == "account_status_after")
    assert entry["allowed"] and not entry["leaks"] and "the definition allows it" in entry["reason"]


def test_rare_levels_are_pooled_and_missing_is_a_level(credit):
    employment = credit.fitted.schema.column("employment")
    region = credit.fitted.schema.column("region")

    assert {"student", "homemaker", "armed forces"}.isdisjoint(employment.levels)
    assert {"__other__", "__missing__", "salaried"} <= set(employment.levels)
    assert "region-11" not in region.levels and "__missing__" in region.levels
    assert employment.reference == "salaried"


def test_the_chosen_model_is_not_worse_than_its_baseline_on_the_same_test_rows(credit, linear, spend):
    for trained in (credit, linear, spend):
        comparison = trained.manifest.metrics["comparison"]
        baseline = trained.manifest.metrics["baseline"]
        metric = trained.manifest.primary_metric
        assert comparison["rows"] == trained.manifest.training_data.split["test"]
        assert comparison["baseline_value"] == baseline[metric]
        assert comparison["chosen_value"] == trained.manifest.metrics[metric]
        # Chosen on validation, so boosting may lose on test: then the card says so. It must not here.
        assert comparison["chosen_not_worse"], comparison
        assert trained.manifest.metrics["intervals"][metric][0] <= trained.manifest.metrics[metric]


def test_the_baseline_is_chosen_when_boosting_cannot_win(linear):
    assert linear.manifest.metrics["chosen"] == "baseline"
    assert linear.manifest.extra["model"]["algorithm"] == "logistic regression"
    assert linear.manifest.extra["selection"]["why"].startswith("boosting is")


def test_boosting_that_loses_on_the_held_out_rows_gives_way_to_the_baseline(monkeypatch):
    from sklearn.tree import DecisionTreeClassifier

    from training.custom import product as custom_product

    choose = custom_product.choose

    def boosting_that_memorised_validation(baseline, boosting, task, validation_y, validation_x):
        # Perfect on validation (it learned those very rows), much weaker on rows it never saw.
        _, selection = choose(baseline, boosting, task, validation_y, validation_x)
        boosting.model = DecisionTreeClassifier(random_state=0).fit(validation_x, validation_y)
        return boosting, {**selection, "chosen": "boosting"}

    monkeypatch.setattr(custom_product, "choose", boosting_that_memorised_validation)
    trained = train(CustomDefinition(name="linear", target="outcome", task="binary"), linear_table(1_500))

    metrics, selection = trained.manifest.metrics, trained.manifest.extra["selection"]
    assert metrics["chosen"] == "baseline" and trained.manifest.extra["model"]["chosen"] == "baseline"
    assert "the baseline is served" in selection["held_out_fallback"]
    assert metrics["comparison"]["chosen_not_worse"] and metrics["roc_auc"] == metrics["baseline"]["roc_auc"]
    assert metrics["comparison"]["note"] == selection["held_out_fallback"]


def test_boosting_is_chosen_when_it_is_clearly_better(credit):
    selection = credit.manifest.extra["selection"]

    assert selection["chosen"] == "boosting" and selection["validation_interval"][0] > 0


def test_binary_metrics_come_with_intervals_for_both_models(credit):
    metrics = credit.manifest.metrics

    for measured in (metrics, metrics["baseline"]):
        for name in ("roc_auc", "pr_auc", "brier", "log_loss", "ks"):
            low, high = measured["intervals"][name]
            assert low <= measured[name] <= high, name
        assert sum(measured["confusion_matrix"].values()) == metrics["test_rows"]
    assert 0 < credit.manifest.thresholds["decision"] < 1


def test_regression_metrics_come_with_intervals(spend):
    metrics = spend.manifest.metrics

    assert spend.manifest.primary_metric == "r2" and metrics["r2"] > 0.9
    for name in ("r2", "mae", "rmse"):
        low, high = metrics["intervals"][name]
        assert low <= metrics[name] <= high


def test_probabilities_are_calibrated_on_held_out_rows(credit):
    served = credit.served()
    test = credit.candidate.test
    probability = served.predict(served.schema.matrix(test))["probability"]
    labels = credit.product.labels(test)

    assert abs(probability.mean() - labels.mean()) < 0.03
    order = np.argsort(probability)
    for group in np.array_split(order, 5):
        assert abs(probability[group].mean() - labels[group].mean()) < 0.12
    table = credit.manifest.extra["calibration"]["table"]
    assert sum(row["rows"] for row in table) == len(test)
    gap = sum(row["rows"] * abs(row["mean_predicted"] - row["observed_rate"]) for row in table) / len(test)
    assert gap < 0.06
    # ...and the manifest reports the same, with intervals, for the chosen model and the baseline.
    metrics = credit.manifest.metrics
    assert metrics["ece"] == pytest.approx(gap, abs=1e-5) and metrics["intervals"]["ece"][0] <= metrics["ece"]
    assert metrics["calibration_gap"] == pytest.approx(probability.mean() - labels.mean(), abs=1e-6)
    assert "ece" in metrics["baseline"] and "calibration_gap" in metrics["baseline"]


def test_the_monotone_constraints_hold_in_the_served_model(credit):
    served = credit.served()
    records = credit.candidate.test[:50]
    for column, direction in CREDIT.monotone.items():
        low, high = served.schema.column(column).minimum, served.schema.column(column).maximum
        grid = np.linspace(low, high, 25)
        scores = np.stack([served.predict(served.schema.matrix([{**record, column: float(value)} for record in records]))
                           ["probability"] for value in grid])
        steps = np.diff(scores, axis=0) * direction
        assert (steps >= -1e-9).all(), column


def test_onnx_parity_holds(credit, linear, spend):
    for trained in (credit, linear, spend):
        parity = trained.manifest.parity
        assert parity.passed and parity.rows == len(trained.candidate.test) and parity.max_abs_diff < 1e-4


def test_serving_gives_the_probabilities_training_evaluated(credit, spend):
    for trained, output in ((credit, "probability"), (spend, "value")):
        served = trained.served()
        test = trained.candidate.test
        matrix = served.schema.matrix(test)
        evaluated = trained.product.scores(trained.fitted, trained.fitted.chosen, matrix)
        # The graph sums its trees in float32: the parity rule's tolerance, relative to the size of the value.
        assert (np.abs(served.predict(matrix)[output] - evaluated) <= PARITY_TOLERANCE * (1 + np.abs(evaluated))).all()
        measured = trained.product.gate_metrics(served.predict(matrix), test)[trained.manifest.primary_metric]
        assert measured == pytest.approx(trained.manifest.metrics[trained.manifest.primary_metric], abs=1e-4)


def test_decisions_follow_the_validation_threshold(credit):
    served = credit.served()
    outputs = served.predict(served.schema.matrix(credit.candidate.test))

    np.testing.assert_array_equal(outputs["decision"], outputs["probability"] >= credit.manifest.thresholds["decision"])


def test_reasons_are_true_statements_about_the_record(credit):
    served = credit.served()
    records = credit.candidate.test[:20]
    matrix = served.schema.matrix(records)

    explained = served.reasons(matrix, records)

    assert len(explained) == len(records)
    for record, reasons in zip(records, explained):
        assert 1 <= len(reasons) <= 4
        assert [abs(r["effect"]) for r in reasons] == sorted((abs(r["effect"]) for r in reasons), reverse=True)
        for reason in reasons:
            column = served.schema.column(reason["feature"])
            assert reason["reference"] == column.reference
            given = record.get(reason["feature"])
            assert reason["value"] == given or (given is None and reason["value"] is None)
            assert ("raises" in reason["text"]) == (reason["effect"] > 0)
            assert str(reason["reference"]) in reason["text"] and "default = yes" in reason["text"]


def test_the_time_split_keeps_the_newest_rows_for_test(spend):
    test_days = [parse_date(row["opened"]) for row in spend.candidate.test]
    every_day = [parse_date(row["opened"]) for row in spend.product.records]

    assert min(test_days) >= np.quantile(every_day, 0.84)
    # The as-of column orders the split; it is not a feature.
    assert "opened" not in spend.fitted.schema.names
    assert spend.columns()["opened"]["reason"].startswith("the as-of column")


def test_the_card_holds_data_columns_metrics_calibration_importance_and_limitations(credit):
    card = json.loads(credit.candidate.artifacts["model_card.json"].data)
    markdown = credit.candidate.artifacts["model_card.md"].data.decode()

    assert card["data"]["rows"]["in"] == 5_000 and card["data"]["rows"]["test"] == len(credit.candidate.test)
    assert {"baseline", "boosting"} == set(card["metrics"]["candidates"])
    assert card["calibration"]["method"] == "platt" and card["calibration"]["table"]
    assert set(card["importance"]) == set(credit.fitted.schema.names)
    assert card["limitations"] and card["threshold"]["value"] == credit.manifest.thresholds["decision"]
    for name in ("account_status_after", "notes", "row_number", "product_code", "customer_id"):
        assert f"| {name} |" in markdown
    assert "## Held-out metrics (test)" in markdown and "## Calibration" in markdown
    extra = credit.manifest.extra
    assert {"schema", "definition", "leakage", "candidates", "baseline", "comparison", "selection"} <= set(extra)


def test_dirty_rows_are_rejected_with_their_reasons():
    records = credit_table(600, seed=4)
    records[3]["default"] = "maybe"
    records[5]["default"] = None
    records[8]["income"] = "a lot"
    records[9]["application_date"] = "31/12/2024"
    records[10] = ["not", "a", "record"]

    product = CustomProduct(CREDIT)
    valid, rejects = product.validate(records)

    reasons = {reject.row: reject.reason for reject in rejects}
    assert set(reasons) == {3, 5, 8, 9, 10}
    assert "'maybe' is not one of the two classes" in reasons[3]
    assert "the target is missing" in reasons[5]
    assert "income: expected a number, got 'a lot'" in reasons[8]
    assert "application_date: expected an ISO date" in reasons[9]
    assert "expected an object" in reasons[10]
    assert len(valid) == 595 and {row["default"] for row in valid} == {0.0, 1.0}


@pytest.mark.parametrize(("definition", "records", "words"), [
    (CustomDefinition(name="xt", target="status", task="binary"),
     [{"status": ["good", "bad"][i % 2], "v": i % 7} for i in range(300)], "name the positive_class"),
    (CustomDefinition(name="xt", target="status", task="binary", positive_class="bad"),
     [{"status": ["good", "bad", "ugly"][i % 3], "v": i % 7} for i in range(300)], "more than two classes"),
    (CustomDefinition(name="xt", target="status", task="binary", positive_class="awful"),
     [{"status": ["good", "bad"][i % 2], "v": i % 7} for i in range(300)], "does not occur"),
    (CustomDefinition(name="xt", target="amount", task="regression"),
     [{"amount": f"about {i}", "v": i % 7} for i in range(300)], "is not numeric"),
    (CustomDefinition(name="xt", target="missing", task="regression"),
     [{"amount": i, "v": i % 7} for i in range(300)], "'missing' is not in the table"),
    (CustomDefinition(name="xt", target="amount", task="regression", monotone={"v": 1}),
     [{"amount": i, "v": ["a", "b"][i % 2] + "x"} for i in range(300)], "needs a numeric or yes/no column"),
])
def test_a_table_that_cannot_train_the_definition_is_refused_with_reasons(definition, records, words):
    with pytest.raises(CustomTableError) as refused:
        CustomProduct(definition).validate(records)

    assert any(words in reason for reason in refused.value.reasons), refused.value.reasons


def test_a_positive_class_picks_the_positive_label():
    records = [{"status": ["good", "bad", "Bad"][i % 3], "v": i % 7} for i in range(300)]

    valid, rejects = CustomProduct(CustomDefinition(name="xt", target="status", task="binary",
                                                    positive_class="bad")).validate(records)

    assert not rejects
    assert [row["status"] for row in valid[:3]] == [0.0, 1.0, 1.0]


def test_there_is_no_synthetic_data_for_a_users_table():
    with pytest.raises(TrainingDataError, match="user's own table"):
        build_candidate(CustomProduct(CREDIT), progress=False)


def test_a_table_whose_columns_do_not_predict_the_target_is_refused():
    rng = np.random.default_rng(0)
    records = [{"a": float(rng.normal()), "b": str(rng.choice(["x", "y", "z"])), "y": int(rng.random() < 0.3)}
               for _ in range(800)]

    with pytest.raises(CustomTableError) as refused:
        train(CustomDefinition(name="noise", target="y", task="binary"), records)

    assert refused.value.reasons[0].startswith("no signal") and "not better than chance" in refused.value.reasons[0]


def test_a_column_without_a_value_in_the_training_split_is_refused():
    records = credit_table(1_200, seed=6)
    for record in records:
        # Recorded only from the last quarter on: with the split by time, training never sees it.
        record["bureau_flag"] = ("yes" if record["utilisation"] > 0.5 else "no") \
            if record["application_date"] >= "2024-10-01" else None
    definition = CREDIT.model_copy(update={"as_of_column": "application_date", "monotone": {}})

    trained = train(definition, records)

    assert trained.columns()["bureau_flag"] == {**trained.columns()["bureau_flag"], "used": False,
                                                "reason": "no value in the training split"}
