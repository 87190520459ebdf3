"""`finscore run` (what `make run` starts) over real HTTP: keys, routes, errors, the embedded AWS, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import boto3
import pytest

from finscore import resources
from finscore.products import all_functions
from local.apigw import find_route
from local.embedded_aws import port_in_use
from tests.e2e.stack import ADMIN_KEY, API_KEY, ROOT, SMARTBANK, start_stack


def test_the_banner_prints_the_key_and_a_working_curl_line(stack):
    output = stack.log.read_text()
    assert API_KEY in output
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith("curl "))
    command = "\n".join(lines[start:start + 2])
    assert f"{stack.url}/v1/" in command and API_KEY in command
    # Run as printed (a shell line continued onto a second line), it scores.
    answer = subprocess.run(["bash", "-c", command + " -w '\\n%{http_code}'"], capture_output=True, text=True,
                            timeout=30)
    body, status = answer.stdout.rsplit("\n", 1)
    assert status == "200", answer.stdout + answer.stderr
    assert json.loads(body)["model_version"]


def test_health_answers_without_a_key(stack):
    status, body = stack.request("GET", "/v1/health", key=None)
    checks = {check["name"]: check for check in body["checks"]}
    assert status == 200 and body["status"] == "ok"
    assert checks["model:recommend"]["ok"] and "verified" in checks["model:recommend"]["reason"]


def test_recommendations_for_the_smartbank_body(stack):
    status, body = stack.request("POST", "/v1/recommendations", SMARTBANK)

    assert status == 200, body
    assert isinstance(body["cluster"], int) and body["segment"]
    assert 0 <= body["financial_health_score"] <= 100
    assert set(body["recommendations"]) == {"account", "savings", "loan", "digital_service"}
    assert set(body["confidence_scores"]) == set(body["recommendations"])
    assert all(0 <= score <= 1 for score in body["confidence_scores"].values())
    _, models = stack.request("GET", "/v1/models")
    champion = next(m for m in models["models"] if m["product"] == "recommend")["champion_version"]
    assert body["model_version"] == champion


@pytest.mark.parametrize("key", [None, "not-the-key"])
def test_keyed_routes_refuse_without_a_valid_key(stack, key):
    status, body = stack.request("POST", "/v1/recommendations", SMARTBANK, key=key)
    assert status in (401, 403) and body["error"]["code"] == "forbidden"


def test_admin_routes_need_the_admin_key(stack):
    assert stack.request("POST", "/v1/models/recommend/rollback", {}, key=API_KEY)[0] == 403
    status, body = stack.request("POST", "/v1/models/recommend/rollback", {}, key=ADMIN_KEY)
    assert status == 409 and body["error"]["code"] == "conflict"


def test_bad_input_names_every_bad_field(stack):
    bad = {**SMARTBANK, "age": "thirty", "credit_score": 9000}
    del bad["income"]
    status, body = stack.request("POST", "/v1/recommendations", bad)
    assert status == 422
    assert {"age", "credit_score", "income"} <= {d["field"] for d in body["error"]["details"]}


def test_malformed_json_is_400(stack):
    status, body = stack.request("POST", "/v1/recommendations", raw=b'{"age": 30,')
    assert status == 400 and body["error"]["code"] == "malformed_json"


def test_no_route_answers_5xx_to_bad_input(stack):
    bad_bodies = [b"", b"not json", b"[]", b'{"unexpected": true}', b'{"version": 42}', b"\xff\xfe"]
    for spec in all_functions():
        for method, template, _ in spec.all_routes:
            path = resources.API_BASE_PATH + template.replace("{product}", "recommend")
            assert find_route(method, path) is not None
            for body in bad_bodies if method == "POST" else [None]:
                status, answer = stack.request(method, path, raw=body, key=ADMIN_KEY)
                assert status < 500, (method, path, body, answer)


def test_the_openapi_document_and_docs_are_served_without_a_key(stack):
    status, document = stack.request("GET", "/v1/openapi.json", key=None)
    assert status == 200 and "/v1/recommendations" in document["paths"]
    status, page = stack.request("GET", "/v1/docs", key=None)
    assert status == 200 and "swagger-ui" in page


def test_the_embedded_aws_answers_any_sdk(stack):
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {resources.local_name(b.logical_id) for b in resources.BUCKETS} <= buckets
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=resources.local_name("ModelsBucket"))["Contents"]]
    assert any(key.startswith("recommend/") and key.endswith("/manifest.json") for key in keys)


def finscore_invoke(function: str, event: str, *options: str, **environment: str) -> dict:
    """`finscore invoke FUNCTION -e events/FUNCTION/EVENT.json` as a user runs it; the response it prints."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "finscore"), "invoke", function, "-e",
         str(ROOT / "events" / function / f"{event}.json"), *options],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **environment},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout[result.stdout.index("{"):])


def test_finscore_invoke_runs_an_event_against_the_running_stack(stack):
    response = finscore_invoke("recommend_api", "recommend", FINSCORE_AWS_PORT=str(stack.aws_port))
    assert response["statusCode"] == 200
    assert set(json.loads(response["body"])["recommendations"]) == {"account", "savings", "loan", "digital_service"}


def test_finscore_invoke_finds_the_running_stack_by_its_home(stack, home):
    # No port given: the stack's record in its FINSCORE_HOME names it, and its seeded customers are there.
    state = json.loads((home / "stack.json").read_text())
    assert state["aws_port"] == stack.aws_port and state["api_port"] == stack.api_port

    response = finscore_invoke("risk_api", "customer-detail", FINSCORE_HOME=str(home))

    assert response["statusCode"] == 200, response["body"]


def test_finscore_invoke_with_a_throwaway_aws_finds_the_sample_data(stack, home):
    # Its own embedded AWS on a free port; the models come from the session home's cache.
    response = finscore_invoke("propensity_api", "score-ids-only", "--throwaway-aws", FINSCORE_HOME=str(home))
    assert response["statusCode"] == 200, response["body"]
    assert "close_price" in json.loads(response["body"])["filled_from_store"]


def test_a_later_run_reuses_the_model_and_ctrl_c_stops_everything(stack, home):
    session_record = (home / "stack.json").read_text()
    later = start_stack(home)
    try:
        assert "Reusing the trained recommend model" in later.log.read_text()
        assert later.request("POST", "/v1/recommendations", SMARTBANK)[0] == 200
        assert json.loads((home / "stack.json").read_text())["aws_port"] == later.aws_port
    finally:
        later.process.send_signal(signal.SIGINT)
        assert later.process.wait(timeout=60) == 0
    assert not port_in_use(later.api_port) and not port_in_use(later.aws_port)
    # A stopped run leaves no record behind; the session's stack, still running, gets its own back.
    assert not (home / "stack.json").exists()
    (home / "stack.json").write_text(session_record)


def _finscore_token(home, *scopes: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "finscore"), "token", *(f"--scope={scope}" for scope in scopes)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "FINSCORE_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_run_with_cognito_wants_a_token_with_the_routes_scope(stack, home):
    session_record = (home / "stack.json").read_text()
    secured = start_stack(home, FINSCORE_AUTH="cognito")
    try:
        status, answer = secured.request("POST", "/v1/recommendations", SMARTBANK)
        assert status == 401 and answer["error"]["code"] == "unauthorized"

        scorer = {"Authorization": f"Bearer {_finscore_token(home, 'finscore/score')}"}
        assert secured.request("POST", "/v1/recommendations", SMARTBANK, headers=scorer)[0] == 200
        status, answer = secured.request("GET", "/v1/risk/customers/C000001", headers=scorer)
        assert status == 403 and "finscore/customers.read" in answer["error"]["message"]
        assert secured.request("GET", "/v1/health", key=None)[0] == 200
    finally:
        secured.process.send_signal(signal.SIGINT)
        assert secured.process.wait(timeout=60) == 0
    (home / "stack.json").write_text(session_record)
