"""Cognito access tokens checked without a cryptography package (the WebSocket $connect)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from finscore.api.tokens import TokenRefused, rs256_valid, verify_access_token

ISSUER = "https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_Example"
CLIENT = "dashboardclient"
SCOPE = "finscore/customers.read"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    jwk = {"kid": "k1", "kty": "RSA", "alg": "RS256", "e": _b64(numbers.e.to_bytes(3, "big")),
           "n": _b64(numbers.n.to_bytes(256, "big"))}
    return key, {"k1": jwk}


def _token(key, header=None, **claims) -> str:
    body = {"iss": ISSUER, "token_use": "access", "client_id": CLIENT, "scope": f"finscore/score {SCOPE}",
            "exp": time.time() + 600, "username": "operator", **claims}
    signing_input = f"{_b64(json.dumps(header or {'alg': 'RS256', 'kid': 'k1'}).encode())}.{_b64(json.dumps(body).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _verify(token: str, keys) -> dict:
    return verify_access_token(token, issuer=ISSUER, client_id=CLIENT, scope=SCOPE, keys=lambda: keys)


def test_a_valid_token_gives_its_claims(signer):
    key, keys = signer
    assert _verify(_token(key), keys)["username"] == "operator"


@pytest.mark.parametrize(("claims", "why"), [
    ({"iss": "https://cognito-idp.ap-south-1.amazonaws.com/other"}, "another user pool"),
    ({"token_use": "id"}, "not an access token"),
    ({"client_id": "machineclient"}, "another app client"),
    ({"exp": time.time() - 3600}, "expired"),
    ({"scope": "finscore/score"}, "lacks the finscore/customers.read scope"),
])
def test_a_token_for_someone_else_or_past_its_time_is_refused(signer, claims, why):
    key, keys = signer
    with pytest.raises(TokenRefused, match=why):
        _verify(_token(key, **claims), keys)


def test_a_tampered_or_foreign_token_is_refused(signer):
    key, keys = signer
    header, claims, signature = _token(key).split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "==")) | {"username": "admin"}
    with pytest.raises(TokenRefused, match="signature"):
        _verify(f"{header}.{_b64(json.dumps(forged).encode())}.{signature}", keys)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TokenRefused, match="signature"):
        _verify(_token(other), keys)
    with pytest.raises(TokenRefused, match="key the user pool does not publish"):
        _verify(_token(key, header={"alg": "RS256", "kid": "unknown"}), keys)
    with pytest.raises(TokenRefused, match="RS256"):
        _verify(_token(key, header={"alg": "none", "kid": "k1"}), keys)
    with pytest.raises(TokenRefused, match="not a JSON Web Token"):
        _verify("not-a-token", keys)


def test_rs256_checks_the_whole_encoding(signer):
    key, _ = signer
    numbers = key.public_key().public_numbers()
    signature = key.sign(b"message", padding.PKCS1v15(), hashes.SHA256())
    assert rs256_valid(b"message", signature, numbers.n, numbers.e)
    assert not rs256_valid(b"messagE", signature, numbers.n, numbers.e)
    assert not rs256_valid(b"message", signature[:-1], numbers.n, numbers.e)
