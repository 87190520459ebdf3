"""The local gateway enforces API keys like API Gateway and passes REST proxy events to the handlers."""

from __future__ import annotations

import json

import pytest

from local.gateway import LocalGateway


class RecordingFunction:
    def __init__(self):
        self.events = []

    def invoke(self, event):
        self.events.append(event)
        return {"statusCode": 200, "multiValueHeaders": {"Content-Type": ["application/json"]}, "body": '{"ok": true}'}


@pytest.fixture
def gateway():
    functions = {"platform_api": RecordingFunction(), "recommend_api": RecordingFunction()}
    return LocalGateway(port=0, api_key="good-key", admin_key="admin-key", functions=functions)


def test_health_needs_no_key(gateway):
    status, _, _ = gateway.handle("GET", "/v1/health", {}, b"")
    assert status == 200


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}])
def test_keyed_routes_refuse_a_missing_or_wrong_key(gateway, headers):
    status, _, body = gateway.handle("POST", "/v1/recommendations", headers, b"{}")
    assert status == 403
    assert json.loads(body)["error"]["code"] == "forbidden"
    assert gateway.functions["recommend_api"].events == []


def test_admin_routes_refuse_the_ordinary_key(gateway):
    status, _, _ = gateway.handle("POST", "/v1/models/recommend/rollback", {"x-api-key": "good-key"}, b"")
    assert status == 403
    status, _, _ = gateway.handle("POST", "/v1/models/recommend/rollback", {"X-Api-Key": "admin-key"}, b"")
    assert status == 200


def test_the_event_is_a_rest_proxy_event_for_the_matching_function(gateway):
    status, headers, body = gateway.handle(
        "GET", "/v1/models/recommend?verbose=1", {"x-api-key": "good-key"}, b""
    )

    event = gateway.functions["platform_api"].events[0]
    assert status == 200 and headers["Content-Type"] == "application/json" and json.loads(body) == {"ok": True}
    assert event["resource"] == "/v1/models/{product}"
    assert event["path"] == "/v1/models/recommend"
    assert event["pathParameters"] == {"product": "recommend"}
    assert event["queryStringParameters"] == {"verbose": "1"}
    assert event["httpMethod"] == "GET"
    assert event["requestContext"]["identity"]["apiKeyId"] == "local"


def test_an_unknown_route_is_404_in_the_error_shape(gateway):
    status, _, body = gateway.handle("GET", "/v1/nowhere", {"x-api-key": "good-key"}, b"")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "route_not_found"
