"""The embedded Cognito: the CDK app's pool, scopes and clients in moto, its tokens, and the checks the
local gateway makes of them as API Gateway's Cognito authorizer would."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto import mock_aws

from finscore import resources
from finscore.aws import client
from local.cognito import (
    InvalidToken,
    LocalUserPool,
    TokenVerifier,
    auth_mode,
    create_user_pool,
    fetch_jwks,
    granted_scopes,
    issue_token,
)
from local.gateway import LocalGateway

SCORE = resources.SCORE_SCOPE.identifier
CUSTOMERS = resources.CUSTOMER_DATA_SCOPE.identifier
ADMIN = resources.ADMIN_SCOPE.identifier


@pytest.fixture
def pool():
    with mock_aws():
        yield create_user_pool()


@pytest.fixture
def verifier(pool):
    return TokenVerifier(pool, fetch_jwks(pool))


def _claims(token: str) -> dict:
    """A token's payload, unchecked."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==").decode())


def test_the_pool_has_the_cdk_apps_scopes_and_clients(pool):
    cognito = client("cognito-idp")
    (server,) = cognito.list_resource_servers(UserPoolId=pool.user_pool_id, MaxResults=10)["ResourceServers"]
    assert server["Identifier"] == resources.AUTH_RESOURCE_SERVER
    assert {s["ScopeName"] for s in server["Scopes"]} == {scope.name for scope in resources.SCOPES}
    assert {name: set(c.scopes) for name, c in pool.clients.items()} == {
        spec.logical_id: {scope.identifier for scope in spec.scopes} for spec in resources.APP_CLIENTS}
    assert all(c.client_secret for c in pool.clients.values())
    # Created once: a second run finds the same pool and clients.
    assert create_user_pool() == pool


def test_a_token_carries_the_scopes_asked_for(pool, verifier):
    claims = verifier.verify(issue_token(pool, (SCORE, CUSTOMERS)))
    assert granted_scopes(claims) == {SCORE, CUSTOMERS}
    assert claims["client_id"] == pool.clients[resources.MACHINE_CLIENT.logical_id].client_id
    assert granted_scopes(verifier.verify(issue_token(pool, (SCORE,)))) == {SCORE}


def test_admin_comes_from_its_own_client_only(pool, verifier):
    claims = verifier.verify(issue_token(pool, (ADMIN,)))
    assert granted_scopes(claims) == {ADMIN}
    assert claims["client_id"] == pool.clients[resources.ADMIN_CLIENT.logical_id].client_id
    with pytest.raises(ValueError, match="No app client"):
        issue_token(pool, (SCORE, ADMIN))


def test_an_expired_token_is_refused(pool):
    token = issue_token(pool, (SCORE,))
    expires = _claims(token)["exp"]
    assert TokenVerifier(pool, fetch_jwks(pool), clock=lambda: expires - 1).verify(token)
    with pytest.raises(InvalidToken, match="expired"):
        TokenVerifier(pool, fetch_jwks(pool), clock=lambda: expires).verify(token)


def test_a_token_signed_with_another_key_is_refused(pool, verifier):
    claims = _claims(issue_token(pool, (SCORE,)))
    forged = jwt.encode({"alg": "RS256", "kid": "dummy"}, {**claims, "cognito:groups": [ADMIN]},
                        RSAKey.generate_key(2048, parameters={"kid": "dummy"}))
    with pytest.raises(InvalidToken, match="signed"):
        verifier.verify(forged)
    with pytest.raises(InvalidToken):
        verifier.verify("not.a.token")


def test_an_id_token_or_another_pools_or_clients_token_is_refused(pool, verifier):
    cognito = client("cognito-idp")
    stranger = cognito.create_user_pool_client(UserPoolId=pool.user_pool_id, ClientName="stranger",
                                               ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"])
    cognito.admin_create_user(UserPoolId=pool.user_pool_id, Username="person", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool.user_pool_id, Username="person", Password="Pa55word!!long",
                                    Permanent=True)
    tokens = cognito.admin_initiate_auth(
        UserPoolId=pool.user_pool_id, ClientId=stranger["UserPoolClient"]["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH", AuthParameters={"USERNAME": "person", "PASSWORD": "Pa55word!!long"},
    )["AuthenticationResult"]
    with pytest.raises(InvalidToken, match="client"):
        verifier.verify(tokens["AccessToken"])
    with pytest.raises(InvalidToken, match="id token"):
        verifier.verify(tokens["IdToken"])
    # moto signs every pool's tokens with one key: the issuer tells them apart.
    other = LocalUserPool("us-east-1_other", "us-east-1", pool.clients)
    with pytest.raises(InvalidToken, match="another user pool"):
        TokenVerifier(other, fetch_jwks(pool)).verify(issue_token(pool, (SCORE,)))


def test_only_the_resource_servers_scopes_are_granted():
    claims = {"scope": "aws.cognito.signin.user.admin finscore/score", "cognito:groups": [ADMIN, "operators"]}
    assert granted_scopes(claims) == {SCORE, ADMIN}


def test_the_mode_is_the_api_key_unless_asked(monkeypatch):
    monkeypatch.delenv("FINSCORE_AUTH", raising=False)
    assert auth_mode() == "key"
    monkeypatch.setenv("FINSCORE_AUTH", "Cognito")
    assert auth_mode() == "cognito"
    monkeypatch.setenv("FINSCORE_AUTH", "oauth")
    with pytest.raises(ValueError, match="FINSCORE_AUTH"):
        auth_mode()


# The local gateway with FINSCORE_AUTH=cognito: tokens first, as API Gateway's authorizer, then the key.

class RecordingFunction:
    def __init__(self):
        self.events = []

    def invoke(self, event):
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


@pytest.fixture
def gateway(verifier):
    functions = {name: RecordingFunction() for name in ("platform_api", "risk_api", "recommend_api")}
    return LocalGateway(port=0, api_key="good-key", admin_key="admin-key", functions=functions, verifier=verifier)


def _call(gateway, method, path, token=None, key="good-key"):
    headers = {"x-api-key": key} if key else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, headers, body = gateway.handle(method, path, headers, b"{}" if method != "GET" else b"")
    return status, headers, json.loads(body)


def test_no_token_is_401_in_the_error_shape(gateway):
    status, headers, body = _call(gateway, "POST", "/v1/recommendations")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert body["error"]["details"][0]["field"] == "Authorization"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert gateway.functions["recommend_api"].events == []


def test_a_token_without_the_routes_scope_is_403(pool, gateway):
    status, headers, body = _call(gateway, "GET", "/v1/risk/customers/C1", issue_token(pool, (SCORE,)))
    assert status == 403 and body["error"]["code"] == "forbidden" and CUSTOMERS in body["error"]["message"]
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]
    assert gateway.functions["risk_api"].events == []


def test_a_token_with_the_scope_reaches_the_function_with_its_claims(pool, gateway):
    status, _, _ = _call(gateway, "GET", "/v1/risk/customers/C1", issue_token(pool, (SCORE, CUSTOMERS)))
    assert status == 200
    (event,) = gateway.functions["risk_api"].events
    claims = event["requestContext"]["authorizer"]["claims"]
    assert set(claims["scope"].split()) == {SCORE, CUSTOMERS}
    assert claims["token_use"] == "access" and all(isinstance(value, str) for value in claims.values())


def test_an_expired_or_forged_token_is_401(pool, gateway):
    token = issue_token(pool, (SCORE,))
    header, payload, signature = token.split(".")
    claims = {**_claims(token), "cognito:groups": [SCORE, ADMIN]}
    tampered = ".".join((header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), signature))
    status, _, body = _call(gateway, "POST", "/v1/models/recommend/rollback", tampered)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    # Two hours on, the same token has expired.
    gateway.verifier = TokenVerifier(pool, fetch_jwks(pool), clock=lambda: time.time() + 7200)
    status, _, body = _call(gateway, "POST", "/v1/recommendations", token)
    assert status == 401 and "expired" in body["error"]["message"]


def test_the_api_key_is_still_required_beside_the_token(pool, gateway):
    status, _, body = _call(gateway, "POST", "/v1/recommendations", issue_token(pool, (SCORE,)), key=None)
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_admin_routes_take_the_admin_scope_with_any_key(pool, gateway):
    assert _call(gateway, "POST", "/v1/models/recommend/rollback", issue_token(pool, (SCORE,)))[0] == 403
    assert _call(gateway, "POST", "/v1/models/recommend/rollback", issue_token(pool, (ADMIN,)))[0] == 200


def test_public_routes_need_no_token(gateway):
    assert _call(gateway, "GET", "/v1/health", key=None)[0] == 200
