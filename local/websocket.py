"""The local WebSocket API: what API Gateway's WebSocket API does for the live-updates functions.

Browsers connect to ws://127.0.0.1:<FINSCORE_WS_PORT>/; each connect and disconnect becomes an API
Gateway WebSocket proxy event ($connect / $disconnect) for live_connections, and a refused $connect
(a non-2xx answer) refuses the handshake, as in AWS. The management API that the broadcaster's boto3
`apigatewaymanagementapi` client calls (POST, GET and DELETE /@connections/{connectionId}, 410
GoneException for a connection that is not open) is served over HTTP on a second, ephemeral port:
`management_url` is what LIVE_ENDPOINT_URL names. Plain HTTP GETs on the WebSocket port answer
/outbox (what the embedded SNS and SES sent) and /health.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_PORT = 3001
STAGE = "local"
API_ID = "local"
_CONNECTION_PATH = re.compile(r"^(?:/[^/@]+)?/@connections/([^/]+)$")

ConnectionsFunction = Callable[[dict[str, Any]], Any]


def websocket_event(
    route: str,
    connection_id: str,
    *,
    domain_name: str,
    stage: str = STAGE,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    connected_at_ms: int | None = None,
) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event for $connect or $disconnect, as API Gateway sends it."""
    now_ms = int(time.time() * 1000)
    request_id = base64.b64encode(uuid.uuid4().bytes[:12]).decode()
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    headers = dict(headers or {})
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": datetime.now(timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at_ms or now_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        "requestId": request_id,
        "domainName": domain_name,
        "connectionId": connection_id,
        "apiId": API_ID,
    }
    if route == "$disconnect":
        context["disconnectStatusCode"] = 1001
        context["disconnectReason"] = ""
    event: dict[str, Any] = {
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if route == "$connect":
        event["queryStringParameters"] = dict(query) if query else None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    return event


def new_connection_id() -> str:
    """An id shaped like API Gateway's (12 random bytes, base64): 'Kp3vXcOFvHcCIhw='."""
    return base64.b64encode(os.urandom(10)).decode()


@dataclass
class _OpenSocket:
    connection: Any  # websockets ServerConnection
    connected_at: float
    source_ip: str
    user_agent: str
    last_active_at: float


class LocalWebSocketApi:
    """The WebSocket endpoint and its management endpoint, each served from a daemon thread."""

    def __init__(self, port: int, connections_function: ConnectionsFunction,
                 outbox: Callable[[], dict[str, Any]] | None = None, management_port: int = 0):
        self.port = port
        self.management_port = management_port
        self._function = connections_function
        self._outbox = outbox
        self._sockets: dict[str, _OpenSocket] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._stopped: asyncio.Event | None = None
        self._management: ThreadingHTTPServer | None = None
        self._management_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def management_url(self) -> str:
        """LIVE_ENDPOINT_URL: the management API, with the stage path as in AWS."""
        return f"http://127.0.0.1:{self.management_port}/{STAGE}"

    @property
    def domain_name(self) -> str:
        return f"127.0.0.1:{self.port}"

    def open_connections(self) -> list[str]:
        return list(self._sockets)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "LocalWebSocketApi":
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(started))
            except BaseException as exc:  # reported to start() rather than lost in the thread
                failure.append(exc)
                started.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="finscore-websocket", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise RuntimeError(f"The local WebSocket server could not start on port {self.port}: {failure[0]}")
        self._start_management()
        return self

    async def _serve(self, started: threading.Event) -> None:
        from websockets.asyncio.server import serve

        self._stopped = asyncio.Event()
        async with serve(
            self._session, "127.0.0.1", self.port, process_request=self._process_request, ping_interval=20
        ) as server:
            self._server = server
            if self.port == 0:
                self.port = next(iter(server.sockets)).getsockname()[1]
            started.set()
            await self._stopped.wait()
            server.close()
            await server.wait_closed()

    def _start_management(self) -> None:
        api = self

        class Handler(_ManagementHandler):
            pass

        Handler.api = api
        self._management = ThreadingHTTPServer(("127.0.0.1", self.management_port), Handler)
        self._management.daemon_threads = True
        self.management_port = self._management.server_address[1]
        self._management_thread = threading.Thread(
            target=self._management.serve_forever, name="finscore-websocket-management", daemon=True
        )
        self._management_thread.start()

    def stop(self) -> None:
        if self._management is not None:
            self._management.shutdown()
            self._management.server_close()
            self._management = None
        if self._loop is not None and self._stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    # -- WebSocket side --------------------------------------------------------------------------

    async def _process_request(self, connection: Any, request: Any) -> Any:
        """Before the handshake: plain HTTP GETs, then $connect (which may refuse the connection)."""
        url = urlsplit(request.path)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return self._plain_http(connection, url.path)
        connection_id = new_connection_id()
        headers = {name: value for name, value in request.headers.raw_items()}
        source_ip = connection.remote_address[0] if connection.remote_address else "127.0.0.1"
        event = websocket_event(
            "$connect", connection_id, domain_name=self.domain_name, headers=headers,
            query=dict(parse_qsl(url.query, keep_blank_values=True)), source_ip=source_ip,
        )
        status = await asyncio.to_thread(self._call_function, event)
        if not 200 <= status < 300:
            return connection.respond(HTTPStatus(status if status in HTTPStatus._value2member_map_ else 500),
                                      "Forbidden\n" if status == 403 else "Connection refused by $connect\n")
        now = time.time()
        connection.finscore_connection_id = connection_id
        self._sockets[connection_id] = _OpenSocket(connection, now, source_ip, headers.get("User-Agent", ""), now)
        return None

    def _plain_http(self, connection: Any, path: str) -> Any:
        if path == "/outbox" and self._outbox is not None:
            response = connection.respond(HTTPStatus.OK, json.dumps(self._outbox(), indent=2, default=str) + "\n")
            response.headers["Content-Type"] = "application/json"
            return response
        if path == "/health":
            return connection.respond(HTTPStatus.OK, "OK\n")
        return connection.respond(HTTPStatus.UPGRADE_REQUIRED, "This is the FinScore WebSocket endpoint; "
                                  "connect with a WebSocket client, or GET /outbox\n")

    async def _session(self, connection: Any) -> None:
        connection_id = getattr(connection, "finscore_connection_id", None)
        try:
            # Client messages have no route in this API (it only pushes); API Gateway would answer a
            # missing $default route with an error frame, here they are simply read and dropped.
            async for _ in connection:
                if connection_id in self._sockets:
                    self._sockets[connection_id].last_active_at = time.time()
        except Exception:  # a dropped socket ends the session like a close does
            pass
        finally:
            opened = self._sockets.pop(connection_id, None)
            if opened is not None:
                event = websocket_event(
                    "$disconnect", connection_id, domain_name=self.domain_name,
                    connected_at_ms=int(opened.connected_at * 1000), source_ip=opened.source_ip,
                )
                await asyncio.to_thread(self._call_function, event)

    def _call_function(self, event: dict[str, Any]) -> int:
        try:
            response = self._function(event)
        except Exception:  # the function failed: API Gateway answers the handshake with 500
            return 500
        if isinstance(response, dict):
            return int(response.get("statusCode", 200))
        return 200

    # -- management side (called from the management HTTP threads) -------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send DATA to the connection as a text frame (binary when not UTF-8); False when it is gone."""
        opened = self._sockets.get(connection_id)
        if opened is None or self._loop is None:
            return False
        try:
            message: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            message = data
        try:
            asyncio.run_coroutine_threadsafe(opened.connection.send(message), self._loop).result(timeout=5)
        except Exception:  # closed between the lookup and the send
            self._sockets.pop(connection_id, None)
            return False
        return True

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        opened = self._sockets.get(connection_id)
        if opened is None:
            return None
        return {
            "connectedAt": datetime.fromtimestamp(opened.connected_at, timezone.utc).isoformat(),
            "lastActiveAt": datetime.fromtimestamp(opened.last_active_at, timezone.utc).isoformat(),
            "identity": {"sourceIp": opened.source_ip, "userAgent": opened.user_agent},
        }

    def close(self, connection_id: str) -> bool:
        opened = self._sockets.get(connection_id)
        if opened is None or self._loop is None:
            return False
        asyncio.run_coroutine_threadsafe(opened.connection.close(1000, "closed by the server"), self._loop).result(5)
        return True


class _ManagementHandler(BaseHTTPRequestHandler):
    """POST/GET/DELETE /@connections/{connectionId}, answering as API Gateway's management API does."""

    api: LocalWebSocketApi
    protocol_version = "HTTP/1.1"

    def _connection_id(self) -> str | None:
        match = _CONNECTION_PATH.match(urlsplit(self.path).path)
        return unquote(match.group(1)) if match else None

    def _answer(self, status: int, body: dict[str, Any] | None = None, error_type: str | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _gone(self) -> None:
        self._answer(410, {"message": None}, "GoneException")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(404, {"message": "Not Found"}, "NotFoundException")
        elif len(data) > 128 * 1024:
            self._answer(413, {"message": "Message too long"}, "PayloadTooLargeException")
        elif self.api.post(connection_id, data):
            self._answer(200)
        else:
            self._gone()

    def do_GET(self) -> None:
        connection_id = self._connection_id()
        found = self.api.describe(connection_id) if connection_id else None
        self._answer(200, found) if found else self._gone()

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        self._answer(204) if connection_id and self.api.close(connection_id) else self._gone()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: one line per pushed message would bury the console."""
