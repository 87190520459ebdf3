"""The broadcaster: every open connection gets the message, gone ones are forgotten, failures retried."""

from __future__ import annotations

import json

import pytest

from finscore.errors import ServiceUnavailable
from finscore.products.risk.live.connections import Connection
from finscore.products.risk.live.push import ConnectionGone
from finscore.products.risk.live.service import Broadcaster

MESSAGE = {"type": "intervention", "intervention_id": "iv-1", "customer_id": "C1", "status": "sent",
           "channel": "sms", "updated_at": "2026-03-14T09:30:15+00:00"}


class FakeConnections:
    def __init__(self, *ids):
        self.ids = list(ids)
        self.scans = 0
        self.removed = []

    def open_connections(self):
        self.scans += 1
        return [Connection(cid, 0, 10**10) for cid in self.ids]

    def remove(self, connection_id):
        self.removed.append(connection_id)
        self.ids.remove(connection_id)


class FakePoster:
    def __init__(self, gone=(), failing=()):
        self.gone, self.failing = set(gone), set(failing)
        self.sent: list[tuple[str, dict]] = []

    def post(self, connection_id, data):
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.failing:
            raise ServiceUnavailable("throttled")
        self.sent.append((connection_id, json.loads(data)))


def test_every_open_connection_gets_the_message_and_gone_ones_are_removed():
    connections, poster = FakeConnections("a", "b", "c"), FakePoster(gone={"b"})
    result = Broadcaster(connections, poster).push(MESSAGE)
    assert result.delivered == 2 and result.gone == ["b"]
    assert connections.removed == ["b"]
    assert [cid for cid, _ in poster.sent] == ["a", "c"] and poster.sent[0][1] == MESSAGE


def test_one_batch_reads_the_connections_once_and_skips_gone_ones_afterwards():
    connections, poster = FakeConnections("a", "b"), FakePoster(gone={"b"})
    broadcaster = Broadcaster(connections, poster)
    broadcaster.push(MESSAGE)
    broadcaster.push(MESSAGE)
    assert connections.scans == 1
    assert [cid for cid, _ in poster.sent] == ["a", "a"]


def test_a_failing_connection_fails_the_record_after_the_others_got_it():
    connections, poster = FakeConnections("a", "b", "c"), FakePoster(failing={"a"})
    with pytest.raises(ServiceUnavailable, match="1 of the open connections"):
        Broadcaster(connections, poster).push(MESSAGE)
    assert [cid for cid, _ in poster.sent] == ["b", "c"]
    assert connections.removed == []


def test_a_change_that_is_not_news_posts_nothing():
    connections, poster = FakeConnections("a"), FakePoster()
    broadcaster = Broadcaster(connections, poster)
    old = {"customer_id": "C1", "risk_score": 20, "risk_level": "low"}
    assert broadcaster.push_change("MODIFY", {"customer_id": "C1"}, {**old, "risk_score": 25}, old) is None
    assert poster.sent == [] and connections.scans == 0
