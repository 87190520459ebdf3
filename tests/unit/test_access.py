"""The customer-data check: a token's scopes when the caller sent one, the API key id otherwise."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from finscore.api.access import has_scope, require_customer_data_scope, token_scopes
from finscore.errors import Forbidden
from finscore.resources import CUSTOMER_DATA_SCOPE, SCORE_SCOPE

KEYS = frozenset({"trusted-key"})


def _event(*, key_id: str | None = None, scope: str | None = None) -> APIGatewayProxyEvent:
    context = {"identity": {"apiKeyId": key_id}}
    if scope is not None:
        context["authorizer"] = {"claims": {"scope": scope, "token_use": "access", "client_id": "machine"}}
    return APIGatewayProxyEvent({"requestContext": context})


def test_a_token_scope_string_is_split_on_spaces():
    assert token_scopes({"scope": "finscore/score  finscore/customers.read"}) == {
        "finscore/score", "finscore/customers.read"}
    assert token_scopes({"scope": ""}) == frozenset()
    assert token_scopes({}) is None and token_scopes(None) is None


@pytest.mark.parametrize("scope, allowed", [
    ("finscore/customers.read", True),
    ("finscore/score finscore/customers.read", True),
    ("finscore/score", False),
    ("finscore/customers.readonly finscore/customers", False),
    ("", False),
])
def test_a_token_holds_the_scope_only_when_it_names_it(scope, allowed):
    assert has_scope(_event(scope=scope), CUSTOMER_DATA_SCOPE, frozenset()) is allowed


def test_without_a_token_the_api_key_id_decides():
    assert has_scope(_event(key_id="trusted-key"), CUSTOMER_DATA_SCOPE, KEYS)
    assert not has_scope(_event(key_id="other-key"), CUSTOMER_DATA_SCOPE, KEYS)
    assert not has_scope(_event(), CUSTOMER_DATA_SCOPE, KEYS)


def test_with_a_token_the_api_key_grants_nothing_more():
    # Given a trusted key but a token without the scope: the token says what the caller may do.
    assert not has_scope(_event(key_id="trusted-key", scope=SCORE_SCOPE.identifier), CUSTOMER_DATA_SCOPE, KEYS)


def test_the_refusal_is_a_403_naming_the_parameter(monkeypatch):
    from finscore.settings import reset_settings

    monkeypatch.setenv("CUSTOMER_DATA_KEY_IDS", "trusted-key")
    reset_settings()
    with pytest.raises(Forbidden) as refused:
        require_customer_data_scope(_event(scope="finscore/score"), "contact")
    assert refused.value.details[0].field == "contact"
    require_customer_data_scope(_event(scope="finscore/customers.read"), "contact")
    require_customer_data_scope(_event(key_id="trusted-key"), "contact")


def test_the_caller_is_named_by_its_token_else_its_key():
    from finscore.api.access import caller_name

    assert caller_name(_event(key_id="trusted-key", scope="finscore/admin")) == "machine"
    assert caller_name(_event(key_id="trusted-key")) == "trusted-key"
    assert caller_name(_event()) == "unknown"
