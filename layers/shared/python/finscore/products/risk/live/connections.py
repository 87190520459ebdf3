"""The open WebSocket connections of dashboards, one DynamoDB item each (data access)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable
from finscore.products.risk.live.settings import MAX_CONNECTION_SECONDS


@dataclass(frozen=True)
class Connection:
    connection_id: str
    connected_at: int
    expires_at: int


class ConnectionRepository:
    def __init__(self, table_name: str):
        self.table_name = table_name

    def add(self, connection_id: str, now: float | None = None) -> Connection:
        connected_at = int(now if now is not None else time.time())
        connection = Connection(connection_id, connected_at, connected_at + MAX_CONNECTION_SECONDS + 60)
        self._call(
            "put_item",
            TableName=self.table_name,
            Item={
                "connection_id": {"S": connection.connection_id},
                "connected_at": {"N": str(connection.connected_at)},
                "expires_at": {"N": str(connection.expires_at)},
            },
        )
        return connection

    def remove(self, connection_id: str) -> None:
        """Forget a connection; removing one that is already gone is not an error ($disconnect may repeat)."""
        self._call("delete_item", TableName=self.table_name, Key={"connection_id": {"S": connection_id}})

    def open_connections(self, now: float | None = None) -> Iterator[Connection]:
        """Every connection not past its expiry (TTL deletes lag by up to a couple of days)."""
        cutoff = int(now if now is not None else time.time())
        request = {"TableName": self.table_name}
        while True:
            page = self._call("scan", **request)
            for item in page.get("Items", []):
                connection = Connection(
                    item["connection_id"]["S"], int(item["connected_at"]["N"]), int(item["expires_at"]["N"])
                )
                if connection.expires_at > cutoff:
                    yield connection
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _call(self, operation: str, **request):
        try:
            return getattr(client("dynamodb"), operation)(**request)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(f"The live connections table is unavailable: {exc}") from exc
