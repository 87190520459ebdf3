"""`finscore custom`: its arguments become the PUT body, a run is followed on a terminal and off it, and
answers are printed for people; API errors map to exit codes with the API's words."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from local import custom_command
from local.cli import main
from local.custom_client import ApiError


def parse(*arguments: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    custom_command.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["custom", *arguments])


def test_create_arguments_become_the_definition_the_api_takes():
    arguments = parse("create", "credit", "--file", "t.csv", "--target", "default", "--task", "binary",
                      "--positive-class", "yes", "--id-column", "customer_id", "--exclude", "a,b", "--exclude", "c",
                      "--monotone", "utilisation=1", "credit_score=-1", "--monotone", "income=+1",
                      "--as-of-column", "application_date", "--allow", "x")

    assert custom_command.definition_of(arguments) == {
        "target": "default", "task": "binary", "positive_class": "yes", "id_column": "customer_id",
        "exclude": ["a", "b", "c"], "monotone": {"utilisation": 1, "credit_score": -1, "income": 1},
        "as_of_column": "application_date", "allow": ["x"]}


def test_what_is_not_given_is_left_to_the_api():
    arguments = parse("create", "spend", "--file", "t.csv", "--target", "spend", "--task", "regression")
    assert custom_command.definition_of(arguments) == {"target": "spend", "task": "regression"}


@pytest.mark.parametrize("bad", [["--monotone", "utilisation=2"], ["--monotone", "=1"], ["--exclude", ","],
                                 ["--task", "multiclass"]])
def test_bad_arguments_are_usage_errors(bad, capsys):
    arguments = ["custom", "create", "credit", "--file", "t.csv", "--target", "default", "--task", "binary", *bad]
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


class FakeApi:
    """Answers GET /custom-models/{name} with the statuses given, one per call."""

    def __init__(self, *statuses: str, training_id: str = "run-1"):
        self.answers = [{"name": "credit", "status": status, "training_id": training_id} for status in statuses]
        self.calls = 0

    def describe(self, name):
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def follow(api, tty, timeout_s=60.0, every=1.0):
    out, clock = io.StringIO(), Clock()
    progress = custom_command.Progress("credit", out, tty)
    status, elapsed = custom_command.follow(api, "credit", "run-1", progress, timeout_s=timeout_s, clock=clock,
                                            sleep=lambda seconds: clock.sleep(every))
    return status, elapsed, out.getvalue()


def test_on_a_terminal_one_line_shows_the_status_and_the_seconds():
    status, elapsed, shown = follow(FakeApi("queued", "training", "training", "ready"), tty=True)

    assert status["status"] == "ready" and elapsed == 3.0
    assert shown == ("\rcredit: queued 0 s\033[K\rcredit: training 1 s\033[K\rcredit: training 2 s\033[K"
                     "\rcredit: ready 3 s\033[K\n")


def test_off_a_terminal_a_line_per_status_and_one_now_and_then():
    api = FakeApi("queued", *["training"] * 70, "failed")
    status, _, shown = follow(api, tty=False, timeout_s=600)

    assert status["status"] == "failed"
    assert shown.splitlines() == ["credit: queued 0 s", "credit: training 1 s", "credit: training 31 s",
                                  "credit: training 61 s", "credit: failed 71 s"]


def test_the_wait_ends_at_the_timeout_or_when_another_run_takes_over():
    status, elapsed, _ = follow(FakeApi("training"), tty=False, timeout_s=10)
    assert status["status"] == "training" and elapsed == 10.0

    status, _, _ = follow(FakeApi("queued", training_id="run-2"), tty=False)
    assert status["training_id"] == "run-2"


STATUS = {
    "name": "credit", "status": "ready", "updated_at": "2026-12-03T10:00:00+00:00", "champion_version": "v2",
    "reasons": [], "model": {
        "version": "v2", "model": {"chosen": "boosting", "algorithm": "xgboost", "task": "binary",
                                   "outcome": "default = yes"},
        "rows": {"in": 5000, "rejected": 3, "used": 4997, "train": 3498, "validation": 750, "test": 749},
        "metrics": {"roc_auc": 0.81234, "brier": 0.1502, "intervals": {"roc_auc": [0.78, 0.84], "brier": [0.14, 0.16]}},
        "baseline": {"roc_auc": 0.79, "brier": 0.155, "intervals": {"roc_auc": [0.76, 0.82], "brier": None}},
        "comparison": {"rows": 749, "note": "boosting was chosen on validation and is not worse"},
        "thresholds": {"decision": 0.41},
        "columns": [{"name": "age", "used": True}, {"name": "notes", "used": False, "reason": "free text"}],
    },
}


def test_show_prints_the_chosen_model_and_its_metrics_beside_the_baselines():
    shown = custom_command.format_status(STATUS).splitlines()

    assert shown[0] == "credit: ready  (updated 2026-12-03T10:00:00+00:00)"
    assert shown[1] == "Version v2: boosting (xgboost), binary default = yes"
    assert "4997 used of 5000 (3 rejected); split 3498/750/749" in shown[2]
    roc = next(line for line in shown if line.strip().startswith("roc_auc")).split()
    assert roc == ["roc_auc", "0.8123", "[0.7800,", "0.8400]", "0.7900", "[0.7600,", "0.8200]"]
    brier = next(line for line in shown if line.strip().startswith("brier")).split()
    assert brier == ["brier", "0.1502", "[0.1400,", "0.1600]", "0.1550"]
    assert "Decision threshold: 0.4100 (chosen on validation)" in shown
    assert shown[-1] == "  - notes: free text"


def test_show_of_a_failed_run_gives_its_reasons_by_column_file_and_row():
    status = {"name": "credit", "status": "failed", "updated_at": "t", "reasons": [
        {"issue": "target: one class only", "field": "default"},
        {"issue": "age: not a number", "file": "s3://b/training/custom/credit/t.csv", "row": 7},
        {"issue": "training failed"}]}

    shown = custom_command.format_status(status).splitlines()

    assert shown[1:5] == ["Reasons:", "  - default: target: one class only", "  - t.csv row 7: age: not a number",
                          "  - training failed"]
    assert shown[-1] == "No serving version yet."


def test_scores_are_printed_with_their_reasons_and_refused_records_with_why():
    answer = {"name": "credit", "model_version": "v2", "threshold": 0.41, "scored": 2, "failed": 1,
              "results": [{"index": 0, "id": "C-1", "probability": 0.73, "decision": True,
                           "reasons": [{"text": "utilisation is 0.95 (typical: 0.5): raises it"}]},
                          {"index": 2, "id": None, "value": 1234.5, "reasons": []}],
              "errors": [{"index": 1, "message": "1 field(s) cannot be scored",
                          "details": [{"field": "age", "issue": "not a number"}]}]}

    assert custom_command.format_scores(answer).splitlines() == [
        "credit v2: 2 scored, 1 failed (decision at probability >= 0.4100)",
        "#0 C-1  probability 0.7300  decision yes",
        "    - utilisation is 0.95 (typical: 0.5): raises it",
        "#2  value 1234.5000",
        "#1 not scored: 1 field(s) cannot be scored",
        "    - age: not a number",
    ]


def test_records_come_from_json_in_either_shape_and_from_tables(tmp_path):
    wrapped, bare, table = tmp_path / "r.json", tmp_path / "b.json", tmp_path / "r.csv"
    wrapped.write_text(json.dumps({"records": [{"age": 30}]}))
    bare.write_text(json.dumps([{"age": 30}]))
    table.write_text("customer_id,age,income\nC-1,30,\n")

    assert custom_command.read_records(wrapped) == [{"age": 30}] == custom_command.read_records(bare)
    # CSV values stay text, as the API takes them; an empty cell is an absent value.
    assert custom_command.read_records(table) == [{"customer_id": "C-1", "age": "30"}]
    text = tmp_path / "r.txt"
    text.write_text("age\n30\n")
    with pytest.raises(custom_command.UsageError, match="unsupported format .txt"):
        custom_command.read_records(text)


@pytest.mark.parametrize("error, code", [(ApiError(409, "conflict", "credit is training now"), 2),
                                         (ApiError(503, "service_unavailable", "S3 is down"), 1),
                                         (ApiError(0, "unreachable", "GET http://x got no answer"), 1)])
def test_api_errors_exit_2_for_a_refusal_and_1_otherwise_with_the_apis_words(error, code, monkeypatch):
    def refuse(arguments):
        raise error

    monkeypatch.setattr(custom_command, "connect", refuse)
    err = io.StringIO()

    assert custom_command.run(parse("list"), out=io.StringIO(), err=err) == code
    assert error.message in err.getvalue()


def test_an_error_answer_lists_each_bad_field():
    error = ApiError(422, "validation_failed", "1 field(s) of the definition failed validation",
                     [{"field": "positive_class", "issue": "only a binary task has a positive class"}])
    assert error.words().splitlines() == ["1 field(s) of the definition failed validation (422 validation_failed)",
                                          "  positive_class: only a binary task has a positive class"]
