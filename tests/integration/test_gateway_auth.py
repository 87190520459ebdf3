"""Callers through the local gateway and the real handlers: API keys by default, and with
FINSCORE_AUTH=cognito tokens of the embedded Cognito with the route's scope."""

from __future__ import annotations

import json
import time

import pytest

from finscore import resources
from finscore.products import all_functions
from local.cognito import TokenVerifier, create_user_pool, fetch_jwks, issue_token
from local.gateway import LocalGateway
from tests.handlers import HandlerFunction

SCORE = resources.SCORE_SCOPE.identifier
CUSTOMERS = resources.CUSTOMER_DATA_SCOPE.identifier
INTERVENTIONS = resources.INTERVENTIONS_SCOPE.identifier


@pytest.fixture
def functions(customer):
    return {spec.name: HandlerFunction(spec.name) for spec in all_functions() if spec.serves_rest}


@pytest.fixture
def pool(aws):
    return create_user_pool()


def _call(gateway, method, path, *, key="api-key", token=None, body=None):
    headers = {"x-api-key": key} if key else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, answer = gateway.handle(method, path, headers, json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(answer)


def test_by_default_the_api_key_is_the_lock(functions, customer):
    gateway = LocalGateway(0, "api-key", "admin-key", functions)
    assert _call(gateway, "GET", f"/v1/risk/customers/{customer}", key=None)[0] == 403
    status, detail = _call(gateway, "GET", f"/v1/risk/customers/{customer}")
    assert status == 200 and "*" in detail["phone"]
    # The admin key's id is the local run's customer-data key (cdk.json customerDataApiKeyIds in AWS).
    status, detail = _call(gateway, "GET", f"/v1/risk/customers/{customer}?contact=full", key="admin-key")
    assert status == 200 and "*" not in detail["phone"]
    assert _call(gateway, "GET", f"/v1/risk/customers/{customer}?contact=full")[0] == 403


@pytest.fixture
def cognito_gateway(functions, pool):
    return LocalGateway(0, "api-key", "admin-key", functions, TokenVerifier(pool, fetch_jwks(pool)))


def test_with_cognito_a_request_without_a_token_is_401(cognito_gateway, customer):
    status, answer = _call(cognito_gateway, "GET", f"/v1/risk/customers/{customer}")
    assert status == 401 and answer["error"]["code"] == "unauthorized"


def test_with_cognito_the_wrong_scope_is_403_and_the_right_one_200(cognito_gateway, pool, customer):
    scorer = issue_token(pool, (SCORE,))
    status, answer = _call(cognito_gateway, "GET", f"/v1/risk/customers/{customer}", token=scorer)
    assert status == 403 and CUSTOMERS in answer["error"]["message"]
    status, score = _call(cognito_gateway, "POST", "/v1/risk/score", token=scorer, body={"customer_id": customer})
    assert status == 200 and 0 <= score["risk_score"] <= 100

    reader = issue_token(pool, (CUSTOMERS,))
    status, detail = _call(cognito_gateway, "GET", f"/v1/risk/customers/{customer}?contact=full", token=reader)
    assert status == 200 and "*" not in detail["phone"]
    # Reading customers is not reaching out to them.
    status, _ = _call(cognito_gateway, "POST", "/v1/risk/messages", token=reader,
                      body={"customer_id": customer, "channel": "sms"})
    assert status == 403
    status, message = _call(cognito_gateway, "POST", "/v1/risk/messages", token=issue_token(pool, (INTERVENTIONS,)),
                            body={"customer_id": customer, "channel": "sms"})
    assert status == 200 and message["text"]


def test_with_cognito_the_admin_key_grants_no_scope(cognito_gateway, pool, customer):
    # The token decides: the admin key beside a score-only token cannot roll a model back.
    scorer = issue_token(pool, (SCORE,))
    assert _call(cognito_gateway, "POST", "/v1/models/risk/rollback", key="admin-key", token=scorer)[0] == 403


def test_with_cognito_an_expired_or_forged_token_is_401(functions, pool, customer):
    token = issue_token(pool, (CUSTOMERS,))
    later = LocalGateway(0, "api-key", "admin-key", functions,
                         TokenVerifier(pool, fetch_jwks(pool), clock=lambda: time.time() + 7200))
    status, answer = _call(later, "GET", f"/v1/risk/customers/{customer}", token=token)
    assert status == 401 and "expired" in answer["error"]["message"]

    header, payload, signature = token.split(".")
    forged = ".".join((header, payload, signature[::-1]))
    gateway = LocalGateway(0, "api-key", "admin-key", functions, TokenVerifier(pool, fetch_jwks(pool)))
    status, answer = _call(gateway, "GET", f"/v1/risk/customers/{customer}", token=forged)
    assert status == 401 and answer["error"]["code"] == "unauthorized"
