"""Environment settings of the live-update functions (connections and broadcaster)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import FunctionSettings

# API Gateway closes a WebSocket connection after two hours at the latest; a connection item outlives
# that only when its $disconnect was lost, and the table's TTL then removes it.
MAX_CONNECTION_SECONDS = 2 * 60 * 60


class LiveConnectionsSettings(FunctionSettings):
    connections_table: Annotated[str, Field(alias="LIVE_CONNECTIONS_TABLE", min_length=3)]


class LiveConnectSettings(LiveConnectionsSettings):
    # In AWS, a dashboard connects with its user's Cognito access token (?token=), checked on $connect:
    # the user pool's issuer URL and the dashboard's app client. Unset in the local run, whose WebSocket
    # server, like its gateway without FINSCORE_AUTH=cognito, takes any local connection.
    token_issuer: Annotated[str | None, Field(alias="LIVE_TOKEN_ISSUER", pattern=r"^https://\S+$")] = None
    token_client_id: Annotated[str | None, Field(alias="LIVE_TOKEN_CLIENT_ID", min_length=1)] = None


class LiveBroadcastSettings(LiveConnectionsSettings):
    # The WebSocket API's management endpoint: https://{api}.execute-api.{region}.amazonaws.com/{stage}
    # in AWS, the local WebSocket server's HTTP endpoint in the local run.
    endpoint_url: Annotated[str, Field(alias="LIVE_ENDPOINT_URL", pattern=r"^https?://[^\s/]+(/\S*)?$")]
