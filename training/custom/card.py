"""The model card of a custom model version: what it was trained on, what it uses and refuses, how it
measures on held-out rows against its baseline, and what it cannot promise. Stored beside the model
as model_card.json (for clients) and model_card.md (for people)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from training.custom.evaluation import BOOTSTRAP_SAMPLES, LOWER_IS_BETTER, THRESHOLD_RULE
from training.custom.leakage import RULE as LEAKAGE_RULE

if TYPE_CHECKING:
    from training.custom.product import CustomProduct, FittedCustom

SHOWN_REJECTS = 20
BINARY_SHOWN = ("roc_auc", "pr_auc", "brier", "log_loss", "ks", "ece", "calibration_gap")
REGRESSION_SHOWN = ("r2", "mae", "rmse")


def model_card(product: CustomProduct, fitted: FittedCustom, metrics: Mapping[str, Any]) -> dict[str, Any]:
    definition = product.definition
    rejects = product.rejects()
    card: dict[str, Any] = {
        "model": definition.key,
        "task": definition.task,
        "target": definition.target,
        "outcome": product.outcome() or None,
        "data": {
            "reference": product.reference,
            "rows": product.row_counts(fitted),
            "rejects": [{"file": reject.source, "row": reject.row, "reason": reject.reason}
                        for reject in rejects[:SHOWN_REJECTS]],
            "rejects_shown": min(len(rejects), SHOWN_REJECTS),
            "split": ("by time on " + definition.as_of_column) if definition.as_of_column
            else "seeded shuffle, 70/15/15",
        },
        "columns": product.column_reports(fitted),
        "leakage": {"rule": LEAKAGE_RULE, "columns": fitted.leakage},
        "chosen": {"candidate": fitted.chosen.name, "algorithm": fitted.chosen.algorithm,
                   "parameters": fitted.chosen.parameters, "selection": fitted.selection},
        "metrics": {"split": "test (held out: never used for fitting, choice, calibration or threshold)",
                    "bootstrap": f"95% percentile intervals over {BOOTSTRAP_SAMPLES} resamples of the test rows",
                    "candidates": fitted.evaluation["candidates"],
                    "comparison": fitted.evaluation["comparison"]},
        "calibration": {"table": fitted.evaluation["calibration_table"]},
        "importance": fitted.evaluation["importance"],
        "limitations": limitations(product, fitted),
    }
    if definition.task == "binary":
        a, b = fitted.platt[fitted.chosen.name]
        card["calibration"].update(method="platt", a=a, b=b, fitted_on="validation")
        card["threshold"] = {"value": fitted.thresholds[fitted.chosen.name], "rule": THRESHOLD_RULE,
                             "confusion_matrix_on_test": metrics.get("confusion_matrix")}
    return card


def limitations(product: CustomProduct, fitted: FittedCustom) -> list[str]:
    notes = [
        "Trained on the rows given: it describes the population and period they come from, and says nothing "
        "reliable about customers or times unlike them.",
        "The leakage guard catches columns that give the answer away on their own; a column that leaks only in "
        "combination with others, or one recorded after the outcome but weakly related to it, is not caught. "
        "Columns known only after the outcome must be excluded by the user.",
        "Free-text and ID-like columns are not used.",
        "Reasons compare a value with the training split's typical value; they say what moved this score, "
        "not what causes the outcome.",
    ]
    comparison = fitted.evaluation["comparison"]
    if not comparison["chosen_not_worse"]:
        notes.append(comparison["note"])
    if not fitted.baseline.eligible:
        notes.append(f"The baseline {fitted.baseline.note}.")
    rows = product.row_counts(fitted)
    if rows.get("test", 0) < 500:
        notes.append(f"Only {rows.get('test', 0)} held-out rows: the metric intervals are wide.")
    if product.definition.monotone:
        notes.append("Monotone columns are checked against their training range at scoring time; values far "
                     "outside it are refused.")
    return notes


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def _interval(interval: Any) -> str:
    return f"[{interval[0]:.4f}, {interval[1]:.4f}]" if interval else "-"


def card_markdown(card: Mapping[str, Any]) -> str:
    """CARD as a Markdown document."""
    rows = card["data"]["rows"]
    lines = [f"# Model card: {card['model']}", "",
             f"- Task: {card['task']}; target `{card['target']}`" + (f" (positive: {card['outcome']})"
                                                                      if card.get("outcome") else ""),
             f"- Data: {card['data']['reference']}",
             f"- Rows: {rows.get('in')} in, {rows.get('rejected')} rejected, {rows.get('used')} used "
             f"(train {rows.get('train')}, validation {rows.get('validation')}, test {rows.get('test')}; "
             f"{card['data']['split']})",
             f"- Chosen: {card['chosen']['candidate']} ({card['chosen']['algorithm']}): "
             f"{card['chosen']['selection']['why']}", "",
             "## Held-out metrics (test)", "", card["metrics"]["bootstrap"], "",
             "| metric | chosen | interval | baseline | interval |", "|---|---|---|---|---|"]
    candidates = card["metrics"]["candidates"]
    chosen, baseline = candidates[card["chosen"]["candidate"]]["test"], candidates["baseline"]["test"]
    for metric in BINARY_SHOWN if card["task"] == "binary" else REGRESSION_SHOWN:
        better = "lower is better" if metric in LOWER_IS_BETTER else ""
        lines.append(f"| {metric}{' (' + better + ')' if better else ''} | {_value(chosen.get(metric))} | "
                     f"{_interval(chosen['intervals'].get(metric))} | {_value(baseline.get(metric))} | "
                     f"{_interval(baseline['intervals'].get(metric))} |")
    comparison = card["metrics"]["comparison"]
    lines += ["", f"Chosen minus baseline, {comparison['metric']}: {comparison['difference']:+.4f} "
                  f"(interval {_interval(comparison['interval'])}). {comparison['note']}.", ""]
    if "threshold" in card:
        matrix = card["threshold"]["confusion_matrix_on_test"] or {}
        lines += ["## Threshold", "", f"{card['threshold']['value']:.4f}: {card['threshold']['rule']}.", "",
                  f"On test: TP {matrix.get('tp')}, FP {matrix.get('fp')}, TN {matrix.get('tn')}, FN {matrix.get('fn')}.",
                  ""]
    lines += ["## Calibration (test, equal-size bins)", "", "| rows | predicted from | to | mean predicted | observed |",
              "|---|---|---|---|---|"]
    lines += [f"| {row['rows']} | {row['from']:.4f} | {row['to']:.4f} | {row['mean_predicted']:.4f} | "
              f"{row['observed_rate']:.4f} |" for row in card["calibration"]["table"]]
    lines += ["", "## Columns", "", "| column | kind | used | reason | single-feature score |", "|---|---|---|---|---|"]
    lines += [f"| {column['name']} | {column['kind']} | {'yes' if column['used'] else 'no'} | {column['reason']} | "
              f"{_value(column.get('single_feature_score'))} |" for column in card["columns"]]
    lines += ["", f"Leakage rule: {card['leakage']['rule']}.", "", "## Importance (permutation on test)", ""]
    lines += [f"- {name}: {value:+.4f}" for name, value in card["importance"].items()]
    if card["data"]["rejects"]:
        lines += ["", f"## Rejected rows (first {card['data']['rejects_shown']})", ""]
        lines += [f"- {reject['file'] + ' ' if reject['file'] else ''}row {reject['row']}: {reject['reason']}"
                  for reject in card["data"]["rejects"]]
    lines += ["", "## Limitations", ""] + [f"- {note}" for note in card["limitations"]]
    return "\n".join(lines) + "\n"
