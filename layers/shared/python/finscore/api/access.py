"""What the caller of a route may see, from the identity API Gateway puts in the event.

A caller with a Cognito access token has the scopes of its token: API Gateway's authorizer checked the
token and puts its claims at requestContext.authorizer.claims, where "scope" is one space-separated
string. A caller without one (the local run's default, API keys only) is known by its API key id.
"""

from __future__ import annotations

from typing import Any

from finscore.errors import FieldIssue, Forbidden
from finscore.resources import CUSTOMER_DATA_SCOPE, Scope
from finscore.settings import ApiSettings, load_settings


def caller_key_id(event: Any) -> str | None:
    """The API key id of the request (API Gateway's requestContext.identity.apiKeyId), if any."""
    return event.request_context.identity.api_key_id


def caller_name(event: Any) -> str:
    """Who called, for audit trails: the user or app client of its token, else its IAM identity or API key id."""
    claims = event.request_context.authorizer.claims or {}
    # A client-credentials token names its app client only; a signed-in user's names the user too.
    if claims:
        return str(claims.get("username") or claims.get("client_id") or claims.get("sub") or "unknown")
    identity = event.request_context.identity
    return identity.user_arn or identity.api_key_id or identity.caller or "unknown"


def admin_actor(event: Any) -> str:
    """Who called an admin route, for the registry's and the custom models' records: admin:<caller>."""
    return f"admin:{caller_name(event)}"


def token_scopes(claims: dict[str, Any] | None) -> frozenset[str] | None:
    """The scopes of an access token's CLAIMS; None when the request came without a token."""
    if not claims:
        return None
    return frozenset(str(claims.get("scope") or "").split())


def has_scope(event: Any, scope: Scope, key_ids: frozenset[str]) -> bool:
    """Whether the caller holds SCOPE: through its token when it sent one, else through its API key
    being one of KEY_IDS."""
    scopes = token_scopes(event.request_context.authorizer.claims)
    if scopes is not None:
        return scope.identifier in scopes
    return caller_key_id(event) in key_ids


def require_customer_data_scope(event: Any, parameter: str) -> None:
    """403 unless the caller holds the customer-data scope: a token with it, or without a token an API
    key that is one of CUSTOMER_DATA_KEY_IDS (cdk.json customerDataApiKeyIds)."""
    if not has_scope(event, CUSTOMER_DATA_SCOPE, load_settings(ApiSettings).customer_data_key_ids):
        raise Forbidden("This caller may not read customers' contact details; ask for them masked",
                        [FieldIssue(parameter, f"needs a token with the {CUSTOMER_DATA_SCOPE.identifier} scope "
                                               "or an API key with the customer-data scope")])
