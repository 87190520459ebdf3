"""live_broadcast end to end on this machine: a dashboard connected to the local WebSocket API receives
what the handler pushes for events/live_broadcast/*.json, through boto3's apigatewaymanagementapi."""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from finscore.aws import client
from finscore.products.risk.live import push, service
from finscore.settings import reset_settings
from local.websocket import LocalWebSocketApi
from tests.handlers import FakeContext, load_event, load_handler


@pytest.fixture
def live(aws, monkeypatch):
    """The local WebSocket API with live_connections behind it; LIVE_ENDPOINT_URL set to its management URL."""
    service.reset()
    push.reset_clients()
    connections = load_handler("live_connections")
    api = LocalWebSocketApi(0, lambda event: connections.lambda_handler(event, FakeContext())).start()
    monkeypatch.setenv("LIVE_ENDPOINT_URL", api.management_url)
    reset_settings()
    yield api
    api.stop()
    service.reset()
    push.reset_clients()


def broadcast(case: str) -> dict:
    return load_handler("live_broadcast").lambda_handler(load_event("live_broadcast", case), FakeContext())


def stored_connections(aws) -> set[str]:
    items = client("dynamodb").scan(TableName=aws["LIVE_CONNECTIONS_TABLE"])["Items"]
    return {item["connection_id"]["S"] for item in items}


def test_a_connected_dashboard_receives_a_customer_becoming_high(aws, live):
    with connect(live.url) as dashboard:
        assert len(stored_connections(aws)) == 1  # $connect ran live_connections
        assert broadcast("customer-becomes-high") == {"batchItemFailures": []}
        message = json.loads(dashboard.recv(timeout=5))
    assert message == {"type": "risk_score", "customer_id": "CUST-000123", "risk_score": 72.4, "risk_level": "high",
                       "previous_level": "medium", "scored_at": "2026-03-14T09:30:12+00:00"}


def test_a_mixed_batch_pushes_only_the_news_in_order(aws, live):
    with connect(live.url) as dashboard:
        assert broadcast("mixed-batch") == {"batchItemFailures": []}
        first, second = json.loads(dashboard.recv(timeout=5)), json.loads(dashboard.recv(timeout=5))
    assert (first["type"], second["type"]) == ("risk_score", "intervention")
    assert second == {"type": "intervention", "intervention_id": "int-7f3c2a", "customer_id": "CUST-000123",
                      "status": "sent", "channel": "sms", "updated_at": "2026-03-14T09:30:15+00:00"}


def test_a_gone_connection_is_removed_and_the_batch_succeeds(aws, live):
    client("dynamodb").put_item(TableName=aws["LIVE_CONNECTIONS_TABLE"], Item={
        "connection_id": {"S": "closed-long-ago="}, "connected_at": {"N": "1"}, "expires_at": {"N": "99999999999"}})
    assert broadcast("intervention-status-change") == {"batchItemFailures": []}
    assert "closed-long-ago=" not in stored_connections(aws)


def test_disconnecting_forgets_the_connection(aws, live):
    with connect(live.url):
        assert len(stored_connections(aws)) == 1
    for _ in range(50):
        if not stored_connections(aws):
            break
        time.sleep(0.05)
    assert stored_connections(aws) == set()


def test_an_unreachable_endpoint_fails_the_records_with_connections(aws, live, monkeypatch):
    client("dynamodb").put_item(TableName=aws["LIVE_CONNECTIONS_TABLE"], Item={
        "connection_id": {"S": "someone="}, "connected_at": {"N": "1"}, "expires_at": {"N": "99999999999"}})
    monkeypatch.setenv("LIVE_ENDPOINT_URL", "http://127.0.0.1:9/local")
    reset_settings()
    answer = broadcast("mixed-batch")
    # The low-risk record is not news and succeeds; the two pushed ones are retried.
    assert [failure["itemIdentifier"] for failure in answer["batchItemFailures"]] == ["100000000001", "200000000002"]
    assert "someone=" in stored_connections(aws)
