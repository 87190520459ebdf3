"""`finscore custom` end to end under moto: the real command uploads a local file to the data bucket,
registers it over HTTP through the local gateway (API and admin keys checked), follows the retrain
function's run, prints the card, shows, lists, scores and retires — with the exit codes a script reads."""

from __future__ import annotations

import csv
import json

import pytest

from finscore.s3 import Bucket
from local.cli import main
from local.gateway import LocalGateway
from tests.custom_tables import credit_table
from tests.handlers import HandlerFunction
from tests.integration.test_custom_files import csv_bytes


@pytest.fixture
def gateway(trainer):
    gateway = LocalGateway(0, "api-key", "admin-key", {"custom_api": HandlerFunction("custom_api")}).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def finscore(aws, gateway, capsys):
    """`finscore custom ...` against the gateway: (exit code, stdout, stderr)."""

    def run(*arguments: str, bucket: bool = False) -> tuple[int, str, str]:
        where = ["--api", f"{gateway.url}/v1", "--api-key", "api-key", "--admin-key", "admin-key"]
        code = main(["custom", *arguments, *where, *(["--bucket", aws["DATA_BUCKET"]] if bucket else [])])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def create_credit(finscore, path, *extra: str) -> tuple[int, str, str]:
    return finscore("create", "credit", "--file", str(path), "--target", "default", "--task", "binary",
                    "--positive-class", "yes", "--id-column", "customer_id", "--monotone", "utilisation=1",
                    *extra, bucket=True)


def test_create_uploads_trains_and_prints_the_card_then_show_list_score_and_delete(aws, finscore, tmp_path):
    table = tmp_path / "applications.csv"
    table.write_bytes(csv_bytes(credit_table(1_500, seed=4)))

    code, out, err = create_credit(finscore, table)

    assert code == 0, out + err
    assert Bucket(aws["DATA_BUCKET"]).head("training/custom/credit/applications.csv") is not None
    assert "credit is ready after" in out and "# Model card: custom-credit" in out
    # Not a terminal: the progress is plain lines, one per status, ending with the finished one.
    assert "credit: ready" in out and "\r" not in out

    code, out, _ = finscore("show", "credit")
    assert code == 0
    assert "credit: ready" in out and "roc_auc" in out and "baseline" in out
    assert "account_status_after:" in out and "leakage" in out  # the refused leak, by name

    code, out, _ = finscore("list")
    assert code == 0 and out.split("\n")[1].split()[:2] == ["credit", "ready"]

    records = tmp_path / "records.csv"
    with records.open("w", newline="") as sink:
        writer = csv.DictWriter(sink, ["customer_id", "age", "income", "credit_score", "utilisation"])
        writer.writeheader()
        writer.writerow({"customer_id": "C-1", "age": 34, "income": "", "credit_score": 612, "utilisation": 0.95})
        writer.writerow({"customer_id": "C-2", "age": "forty", "credit_score": 771, "utilisation": 0.1})
    code, out, _ = finscore("score", "credit", "--file", str(records))
    assert code == 2  # one record was refused: bad input, reported beside the good one's answer
    assert "1 scored, 1 failed" in out and "#0 C-1  probability" in out and "#1 not scored" in out
    assert "age:" in out

    code, out, _ = finscore("score", "credit", "--file", str(records), "--json")
    assert json.loads(out)["results"][0]["id"] == "C-1"

    code, out, _ = finscore("delete", "credit")
    assert code == 0 and "credit: retired" in out
    code, _, err = finscore("score", "credit", "--file", str(records))
    assert code == 2 and "retired" in err and "409" in err


def test_a_table_that_cannot_train_exits_1_with_its_reasons(finscore, tmp_path):
    records = credit_table(400, seed=2)
    for record in records:
        record["default"] = "no"  # one class only
    table = tmp_path / "one-class.jsonl"
    table.write_text("".join(json.dumps(record) + "\n" for record in records))

    code, out, err = create_credit(finscore, table)

    assert code == 1, out + err
    assert "credit: failed" in out and "credit failed after" in out
    assert "positive_class: 'yes' does not occur in the target 'default'" in out.split("failed after", 1)[1]


def test_a_definition_the_api_refuses_exits_2_with_its_words(finscore, tmp_path):
    table = tmp_path / "applications.csv"
    table.write_bytes(csv_bytes(credit_table(50, seed=1)))

    code, out, err = finscore("create", "credit", "--file", str(table), "--target", "default", "--task", "regression",
                              "--positive-class", "yes", bucket=True)

    assert code == 2
    assert "422" in err and "positive_class: " in err and "binary" in err


def test_bad_usage_exits_2_before_anything_is_sent(aws, finscore, tmp_path):
    table = tmp_path / "table.txt"
    table.write_text("a,b\n1,2\n")

    assert finscore("create", "credit", "--file", str(table), "--target", "b", "--task", "binary", bucket=True)[0] == 2
    code, _, err = finscore("create", "Credit!", "--file", str(table), "--target", "b", "--task", "binary", bucket=True)
    assert code == 2 and "not a model name" in err
    with pytest.raises(SystemExit) as exited:
        finscore("create", "credit", "--file", str(table), "--target", "b", "--task", "binary", "--monotone", "b=2")
    assert exited.value.code == 2
    assert list(Bucket(aws["DATA_BUCKET"]).keys("training/custom/")) == []


def test_unknown_model_is_a_404_in_words(finscore):
    code, _, err = finscore("show", "nothing-here")
    assert code == 2 and "No custom model 'nothing-here'" in err and "404" in err

