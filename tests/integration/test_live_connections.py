"""live_connections fed events/live_connections/*.json under moto: connections remembered and forgotten."""

from __future__ import annotations

import pytest

from finscore.aws import client
from finscore.products.risk.live import service
from tests.handlers import FakeContext, load_event, load_handler

FUNCTION = "live_connections"


@pytest.fixture(autouse=True)
def _fresh_repository():
    service.reset()
    yield
    service.reset()


def call(case: str) -> dict:
    return load_handler(FUNCTION).lambda_handler(load_event(FUNCTION, case), FakeContext())


def connection_item(aws, connection_id: str) -> dict | None:
    answer = client("dynamodb").get_item(TableName=aws["LIVE_CONNECTIONS_TABLE"],
                                         Key={"connection_id": {"S": connection_id}})
    return answer.get("Item")


def test_connect_remembers_the_connection_until_it_expires(aws):
    assert call("connect") == {"statusCode": 200}
    item = connection_item(aws, "Kp3vXcOFvHcCIhw=")
    assert item is not None
    # Expires after API Gateway's two-hour connection limit, so a lost $disconnect is cleaned by TTL.
    assert int(item["expires_at"]["N"]) - int(item["connected_at"]["N"]) > 2 * 3600


def test_disconnect_forgets_it_and_repeating_it_is_harmless(aws):
    call("connect")
    assert call("disconnect") == {"statusCode": 200}
    assert connection_item(aws, "Kp3vXcOFvHcCIhw=") is None
    assert call("disconnect") == {"statusCode": 200}


def test_an_unexpected_route_is_refused_without_a_write(aws):
    assert call("unexpected-route")["statusCode"] == 400
    assert connection_item(aws, "Kp3vXcOFvHcCIhw=") is None


def test_a_missing_table_variable_fails_naming_it(aws, monkeypatch):
    monkeypatch.delenv("LIVE_CONNECTIONS_TABLE")
    from finscore.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="LIVE_CONNECTIONS_TABLE"):
        call("connect")


def test_with_a_token_issuer_connect_refuses_a_dashboard_without_a_valid_token(aws, monkeypatch):
    # Given the AWS setting: $connect admits only access tokens of the user pool's dashboard client
    monkeypatch.setenv("LIVE_TOKEN_ISSUER", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example")
    monkeypatch.setenv("LIVE_TOKEN_CLIENT_ID", "dashboardclient")
    event = load_event(FUNCTION, "connect")
    # When a browser connects without a token, or with one that is not a JSON Web Token
    for query in (None, {"token": "not-a-token"}):
        event["queryStringParameters"] = query
        answer = load_handler(FUNCTION).lambda_handler(event, FakeContext())
        # Then the handshake is refused and no connection is remembered
        assert answer["statusCode"] == 401
        assert connection_item(aws, "Kp3vXcOFvHcCIhw=") is None
