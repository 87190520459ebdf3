"""The local gateway enforces API keys like API Gateway and passes REST proxy events to the handlers."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from benchmarks.gateway_load import burst
from finscore.api.limits import MAX_BODY_BYTES, MAX_URL_LENGTH
from local.gateway import LocalGateway


class RecordingFunction:
    def __init__(self):
        self.events = []

    def invoke(self, event):
        self.events.append(event)
        return {"statusCode": 200, "multiValueHeaders": {"Content-Type": ["application/json"]}, "body": '{"ok": true}'}


class SlowFunction(RecordingFunction):
    """One request at a time, each taking a moment, as a Lambda execution environment serves them."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def invoke(self, event):
        with self._lock:
            time.sleep(0.01)
            return super().invoke(event)


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


# Over HTTP: what API Gateway refuses before a function runs, refused by the local gateway the same way.

@pytest.fixture
def served(gateway):
    gateway.start()
    yield gateway
    gateway.stop()


def raw_exchange(gateway, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], dict]:
    """Send HEAD (and BODY) on a fresh connection; the status, headers and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=30) as connection:
        connection.sendall(head + body)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, dict(response.getheaders()), json.loads(response.read())


def test_a_url_past_the_limit_is_414_in_the_error_shape(served):
    for url in (f"/v1/health?q={'x' * MAX_URL_LENGTH}", f"/v1/health?q={'x' * 100_000}"):
        status, headers, body = raw_exchange(served, f"GET {url} HTTP/1.1\r\nHost: local\r\n\r\n".encode())

        assert status == 414 and body["error"]["code"] == "url_too_long" and body["error"]["details"] == []
        assert headers["Connection"] == "close"
    assert served.functions["platform_api"].events == []


def test_a_url_at_the_limit_is_served(served):
    url = "/v1/health?q=" + "x" * (MAX_URL_LENGTH - len("/v1/health?q="))
    status, _, _ = raw_exchange(served, f"GET {url} HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n".encode())
    assert status == 200


def test_a_body_past_the_limit_is_413_before_it_is_read(served):
    # Given a request that declares 10 MB and sends only its first bytes
    head = (f"POST /v1/recommendations HTTP/1.1\r\nHost: local\r\nx-api-key: good-key\r\n"
            f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n").encode()

    # When the gateway answers, it has not waited for the rest of the body
    status, headers, body = raw_exchange(served, head, b'{"age": 30')

    assert status == 413 and body["error"]["code"] == "request_too_large"
    assert headers["Connection"] == "close"
    assert served.functions["recommend_api"].events == []


def test_a_whole_oversized_body_gets_its_413_not_a_reset(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("POST", "/v1/recommendations", body=b"x" * (MAX_BODY_BYTES + 1),
                       headers={"x-api-key": "good-key", "Content-Type": "application/json"})
    response = connection.getresponse()

    assert response.status == 413 and json.loads(response.read())["error"]["code"] == "request_too_large"
    connection.close()


def test_a_client_expecting_100_continue_is_told_413_instead(served):
    head = (f"POST /v1/recommendations HTTP/1.1\r\nHost: local\r\nx-api-key: good-key\r\n"
            f"Expect: 100-continue\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n").encode()
    status, _, body = raw_exchange(served, head)
    assert status == 413 and body["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("framing, status, code", [
    ("Transfer-Encoding: chunked\r\n", 411, "length_required"),
    ("Content-Length: twelve\r\n", 400, "invalid_content_length"),
    ("Content-Length: -1\r\n", 400, "invalid_content_length"),
    ("Content-Length: 2\r\nContent-Length: 3\r\n", 400, "invalid_content_length"),
])
def test_a_body_of_unknown_length_is_refused_in_the_error_shape(served, framing, status, code):
    head = f"POST /v1/recommendations HTTP/1.1\r\nHost: local\r\nx-api-key: good-key\r\n{framing}\r\n".encode()
    answered, _, body = raw_exchange(served, head, b"2\r\n{}\r\n0\r\n\r\n")
    assert (answered, body["error"]["code"]) == (status, code)
    assert served.functions["recommend_api"].events == []


def test_a_post_without_a_body_reaches_the_function_with_none(served):
    status, _, _ = raw_exchange(served, b"POST /v1/recommendations HTTP/1.1\r\nHost: local\r\nx-api-key: good-key\r\n"
                                        b"Connection: close\r\n\r\n")
    assert status == 200 and served.functions["recommend_api"].events[0]["body"] is None


def test_an_unsupported_method_is_405_with_allow(served):
    status, headers, body = raw_exchange(served, b"TRACE /v1/health HTTP/1.1\r\nHost: local\r\n\r\n")

    assert status == 405 and body["error"]["code"] == "method_not_allowed" and body["error"]["details"] == []
    assert set(headers["Allow"].split(", ")) == {"GET", "OPTIONS"}


def test_a_method_the_route_does_not_have_is_405_with_allow(gateway):
    status, headers, body = gateway.handle("DELETE", "/v1/recommendations", {"x-api-key": "good-key"}, b"")
    assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"
    assert set(headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_a_malformed_request_line_is_400_in_the_error_shape(served):
    status, _, body = raw_exchange(served, b"GET /v1/health HTTP/1.1 extra\r\n\r\n")
    assert status == 400 and set(body["error"]) == {"code", "message", "details"}


def test_64_clients_connecting_at_once_are_all_answered(served):
    # Given a function that takes a moment, so that connections pile up while it works
    served.functions["platform_api"] = SlowFunction()
    assert served._server.request_queue_size >= 64

    errors = burst(served.url, 64)

    assert errors == {} and len(served.functions["platform_api"].events) == 64


def test_keep_alive_clients_are_served_one_request_after_another(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    for _ in range(3):
        connection.request("POST", "/v1/recommendations", body=b"{}", headers={"x-api-key": "good-key"})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read()) == {"ok": True}
    connection.close()
    assert len(served.functions["recommend_api"].events) == 3


def test_a_preflight_is_answered_only_for_the_configured_origins(gateway, monkeypatch):
    from finscore.settings import reset_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "http://127.0.0.1:5173")
    reset_settings()
    status, headers, _ = gateway.handle("OPTIONS", "/v1/recommendations", {"Origin": "http://127.0.0.1:5173"}, b"")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5173"
    _, headers, _ = gateway.handle("OPTIONS", "/v1/recommendations", {"Origin": "https://elsewhere.example"}, b"")
    assert "Access-Control-Allow-Origin" not in headers
