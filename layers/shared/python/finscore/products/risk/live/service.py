"""What the live-update functions do: record connects and disconnects, push changes to every dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from finscore.errors import ServiceUnavailable
from finscore.resources import CUSTOMER_DATA_SCOPE
from finscore.products.risk.live.connections import Connection, ConnectionRepository
from finscore.products.risk.live.messages import message_for_change
from finscore.products.risk.live.push import ConnectionGone, ConnectionPoster
from finscore.products.risk.live.settings import LiveBroadcastSettings, LiveConnectionsSettings, LiveConnectSettings
from finscore.settings import load_settings


@lru_cache(maxsize=1)
def _connections() -> ConnectionRepository:
    return ConnectionRepository(load_settings(LiveConnectionsSettings).connections_table)


def reset() -> None:
    """Forget cached repositories (tests that change the environment call this)."""
    _connections.cache_clear()


def connect(connection_id: str) -> Connection:
    return _connections().add(connection_id)


def admits(query: Mapping[str, str] | None) -> bool:
    """Whether a $connect may open: with a token issuer configured (AWS), only with ?token= an access token
    of the dashboard's client carrying the customer-data scope, since pushed messages name customers and
    their risk; without one (the local run), always."""
    from finscore.api.tokens import TokenRefused, published_keys, verify_access_token

    settings = load_settings(LiveConnectSettings)
    if settings.token_issuer is None:
        return True
    token = (query or {}).get("token")
    if not token or settings.token_client_id is None:
        return False
    try:
        verify_access_token(token, issuer=settings.token_issuer, client_id=settings.token_client_id,
                            scope=CUSTOMER_DATA_SCOPE.identifier, keys=lambda: published_keys(settings.token_issuer))
    except (TokenRefused, OSError, ValueError, KeyError):  # a bad token, or the user pool's keys unreadable
        return False
    return True


def disconnect(connection_id: str) -> None:
    _connections().remove(connection_id)


@dataclass
class PushResult:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)


class Broadcaster:
    """Pushes messages to every open connection; made once per invocation, so one batch reads the
    connections table once and a connection found gone is not posted to again."""

    def __init__(self, connections: ConnectionRepository, poster: ConnectionPoster):
        self._repository = connections
        self._poster = poster
        self._open: list[str] | None = None

    @classmethod
    def from_settings(cls) -> "Broadcaster":
        settings = load_settings(LiveBroadcastSettings)
        return cls(ConnectionRepository(settings.connections_table), ConnectionPoster(settings.endpoint_url))

    def push_change(
        self, event_name: str, keys: Mapping[str, Any], new_image: Mapping[str, Any], old_image: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Push the message a stream record stands for, if any; returns it."""
        message = message_for_change(event_name, keys, new_image, old_image)
        if message is not None:
            self.push(message)
        return message

    def push(self, message: Mapping[str, Any]) -> PushResult:
        """Post MESSAGE to every open connection and drop the gone ones.

        A connection failing for another reason fails the record after every other connection had its
        try, so the stream retries it; dashboards apply messages as upserts keyed by their ids, so the
        repeat they may see is harmless.
        """
        if self._open is None:
            self._open = [connection.connection_id for connection in self._repository.open_connections()]
        data = json.dumps(message, default=str).encode()
        result, failures = PushResult(), []
        for connection_id in list(self._open):
            try:
                self._poster.post(connection_id, data)
                result.delivered += 1
            except ConnectionGone:
                self._repository.remove(connection_id)
                self._open.remove(connection_id)
                result.gone.append(connection_id)
            except ServiceUnavailable as exc:
                failures.append(str(exc))
        if failures:
            raise ServiceUnavailable(f"{len(failures)} of the open connections did not take the message: {failures[0]}")
        return result
