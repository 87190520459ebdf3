"""SDK clients: one per service and execution environment, all built from one botocore session."""

from __future__ import annotations

import botocore.session
import pytest

from finscore import aws


@pytest.fixture
def counted_sessions(monkeypatch):
    """Every botocore session the clients are built from, as they are made."""
    made = []
    original = botocore.session.get_session

    def get_session(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(botocore.session, "get_session", get_session)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.reset_clients()
    yield made
    aws.reset_clients()


def test_clients_of_every_service_share_one_session(counted_sessions):
    # A session parses the SDK's endpoint data once: a second service must not parse it again.
    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")

    assert len(counted_sessions) == 1
    assert aws.client("s3") is s3 and aws.client("dynamodb") is dynamodb
    assert s3.meta.endpoint_url == "http://127.0.0.1:9"


def test_reset_drops_the_session_with_the_clients(counted_sessions, monkeypatch):
    first = aws.client("s3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:10")

    aws.reset_clients()

    again = aws.client("s3")
    assert again is not first and again.meta.endpoint_url == "http://127.0.0.1:10"
    assert len(counted_sessions) == 2
