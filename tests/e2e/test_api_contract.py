"""The API keeps the contract it publishes: schemathesis against the local stack, bounded and seeded.

Each run generates requests from /v1/openapi.json (examples, boundary values and random data, valid
and invalid) and checks every answer: no 5xx, a status the operation documents, the documented
content type, headers and body schema, required headers enforced, unsupported methods refused. One
run uses the API key, one the admin key (admin routes included). Retraining is left out of the admin
run: every valid request would start a real training run on the shared stack.

These tests write random valid data (transactions, bars, interventions), so they run after every
other end-to-end test (tests/e2e/conftest.py orders them last).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.stack import ADMIN_KEY, API_KEY, ROOT

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "unsupported_method",
])
SEED = 20261202
EXAMPLES_PER_OPERATION = 12
# A cap on the run, not a speed check: a hung run fails instead of holding CI.
RUN_TIMEOUT_S = 900


def run_schemathesis(stack, key: str, report: Path, *extra: str) -> tuple[int, str, dict]:
    command = [
        str(ROOT / ".venv" / "bin" / "schemathesis"), "run", f"{stack.url}/v1/openapi.json",
        "--checks", CHECKS,
        "--header", f"x-api-key: {key}",
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", str(SEED),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",
        "--request-timeout", "60",
        "--suppress-health-check", "all",
        "--report", "ndjson", "--report-ndjson-path", str(report),
        "--no-color",
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, cwd=ROOT)
    return result.returncode, result.stdout + result.stderr, summarise(report)


def summarise(report: Path) -> dict:
    """Operations tested, requests sent, failed checks and errors, from schemathesis's event stream."""
    operations, requests, failures, errors = set(), 0, [], []
    for line in report.read_text().splitlines():
        event = json.loads(line)
        if "NonFatalError" in event:
            errors.append(event["NonFatalError"].get("value"))
        recorder = event.get("ScenarioFinished", {}).get("recorder")
        if not recorder:
            continue
        requests += len(recorder.get("interactions") or {})
        if recorder.get("interactions"):
            operations.add(recorder["label"])
        for checks in (recorder.get("checks") or {}).values():
            failures += [(recorder["label"], check["name"], check.get("failure_info", {}).get("failure", {}).get("title"))
                         for check in checks if check["status"] != "success"]
    return {"operations": operations, "requests": requests, "failures": failures, "errors": errors}


@pytest.mark.e2e
def test_the_api_keeps_its_contract_with_the_api_key(stack, tmp_path):
    code, output, summary = run_schemathesis(stack, API_KEY, tmp_path / "events.ndjson")
    assert not summary["failures"] and not summary["errors"] and code == 0, output[-6000:]
    # Every operation was exercised, each with more than its one example.
    documented = {f"{method.upper()} {path}" for path, operations in stack.request("GET", "/v1/openapi.json")[1]["paths"].items()
                  for method in operations}
    assert summary["operations"] == documented, documented - summary["operations"]
    assert summary["requests"] > 3 * len(documented)


@pytest.mark.e2e
def test_the_api_keeps_its_contract_with_the_admin_key(stack, tmp_path):
    code, output, summary = run_schemathesis(stack, ADMIN_KEY, tmp_path / "events.ndjson",
                                             "--exclude-path-regex", "/retrain$")
    assert not summary["failures"] and not summary["errors"] and code == 0, output[-6000:]
    assert any("promote" in label for label in summary["operations"]), summary["operations"]
