"""Checking a Cognito access token where API Gateway has no Cognito authorizer: a WebSocket $connect.

RS256 is verified with the standard library alone (RSASSA-PKCS1-v1_5 over SHA-256), so the serving
layer needs no cryptography package; the user pool's public keys (JWKS) are fetched once per
execution environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import urllib.request
from functools import lru_cache
from typing import Any, Callable, Mapping

# DER prefix of a SHA-256 DigestInfo (RFC 8017, 9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# Seconds a token's exp and iat may be off by between Cognito's clock and this one.
CLOCK_SKEW_S = 60
JWKS_TIMEOUT_S = 5


class TokenRefused(Exception):
    """The token is not a valid access token of this issuer and client, with the scope asked for."""


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _integer(text: str) -> int:
    return int.from_bytes(_b64(text), "big")


def rs256_valid(signing_input: bytes, signature: bytes, modulus: int, exponent: int) -> bool:
    """Whether SIGNATURE is the RSASSA-PKCS1-v1_5 SHA-256 signature of SIGNING_INPUT under (MODULUS, EXPONENT)."""
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= modulus:
        return False
    encoded = pow(value, exponent, modulus).to_bytes(size, "big")
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return encoded == expected


def verify_access_token(token: str, *, issuer: str, client_id: str, scope: str,
                        keys: Callable[[], Mapping[str, Mapping[str, str]]], now: float | None = None) -> dict[str, Any]:
    """The claims of TOKEN when it is an unexpired access token signed by one of the KEYS (kid -> JWK, asked
    for only once the token parses), issued by ISSUER to CLIENT_ID with SCOPE among its scopes; TokenRefused
    saying why otherwise."""
    try:
        header_text, claims_text, signature_text = token.split(".")
        header = json.loads(_b64(header_text))
        claims = json.loads(_b64(claims_text))
        signature = _b64(signature_text)
    except (ValueError, TypeError) as exc:
        raise TokenRefused("not a JSON Web Token") from exc
    if header.get("alg") != "RS256":
        raise TokenRefused("the token is not signed with RS256")
    key = keys().get(str(header.get("kid")))
    if key is None or key.get("kty") != "RSA":
        raise TokenRefused("the token is signed by a key the user pool does not publish")
    if not rs256_valid(f"{header_text}.{claims_text}".encode(), signature, _integer(key["n"]), _integer(key["e"])):
        raise TokenRefused("the token's signature does not verify")
    moment = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise TokenRefused("the token was issued by another user pool")
    if claims.get("token_use") != "access":
        raise TokenRefused("not an access token")
    if claims.get("client_id") != client_id:
        raise TokenRefused("the token was issued to another app client")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] + CLOCK_SKEW_S < moment:
        raise TokenRefused("the token has expired")
    if scope not in str(claims.get("scope", "")).split():
        raise TokenRefused(f"the token lacks the {scope} scope")
    return claims


@lru_cache(maxsize=4)
def published_keys(issuer: str) -> dict[str, dict[str, str]]:
    """The user pool's signing keys (kid -> JWK) from ISSUER/.well-known/jwks.json, fetched once."""
    if not issuer.startswith("https://"):
        raise TokenRefused("the token issuer must be an https URL")
    with urllib.request.urlopen(f"{issuer}/.well-known/jwks.json", timeout=JWKS_TIMEOUT_S) as answer:  # noqa: S310
        return {key["kid"]: key for key in json.loads(answer.read())["keys"]}
