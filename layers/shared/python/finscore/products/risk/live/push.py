"""Posts a message to one WebSocket connection through API Gateway's management API (data access)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import region
from finscore.errors import ServiceUnavailable

# A dashboard that does not take a message within seconds is not worth holding the batch for.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})


class ConnectionGone(Exception):
    """The connection is closed (410 GoneException): its item should be removed."""


@lru_cache(maxsize=4)
def _management_client(endpoint_url: str) -> Any:
    # Its own endpoint, not AWS_ENDPOINT_URL: the management API lives on the WebSocket API's domain.
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        region_name=region(),
        config=_CLIENT_CONFIG,
    )


def reset_clients() -> None:
    _management_client.cache_clear()


class ConnectionPoster:
    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            _management_client(self.endpoint_url).post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            error = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error == "GoneException" or status == 410:
                raise ConnectionGone(connection_id) from exc
            raise ServiceUnavailable(f"Posting to connection {connection_id} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"The WebSocket management endpoint is unreachable: {exc}") from exc
