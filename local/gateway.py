"""The local API gateway: HTTP on 127.0.0.1 turned into API Gateway REST proxy events for the real handlers.

As in API Gateway, every route but the public ones needs a valid x-api-key, and each function serves one
request at a time, like one Lambda execution environment. By default the key is the only lock and admin
routes need the admin key; with FINSCORE_AUTH=cognito every such route also needs an access token of the
embedded Cognito with the route's scope, checked as API Gateway's Cognito authorizer does
(local/cognito.py): 401 without a valid token, 403 when it lacks the scope.
What API Gateway refuses before a function runs is refused here the same way, in the error shape: a URL
past MAX_URL_LENGTH (414), a body past MAX_BODY_BYTES (413, unread), a body without a length (411), and
a method no route has (405, with Allow).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from finscore.api.limits import MAX_BODY_BYTES, MAX_URL_LENGTH
from finscore.resources import CORS_METHODS, Scope
from local.apigw import find_route, rest_event, route_access, route_scope
from local.cognito import InvalidToken, TokenVerifier, granted_scopes
from local.function_output import routed_stdout

ROOT = Path(__file__).resolve().parents[1]
# The dashboard's built files (`npm run build` in dashboard/, run by make): what CloudFront serves in AWS.
DASHBOARD = ROOT / "dashboard" / "dist"
SITE_CONFIG = "/config.json"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".map": "application/json",
}
# The methods the gateway has routes for (with CORS preflight); anything else is 405.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Connections the kernel holds before they are accepted: socketserver's default of 5 drops clients
# that arrive together (a dashboard's parallel fetches, a load test), and they see resets or 1 s waits.
LISTEN_BACKLOG = 128
# An idle keep-alive connection is closed after this many seconds rather than holding its thread.
IDLE_TIMEOUT_S = 30
# After refusing a body it will not read, how long the gateway keeps discarding what the client still
# sends, so that the client reads the refusal instead of a connection reset.
LINGER_S = 2.0


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    timeout_s: int = 15

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_s * 1000


class LocalFunction:
    """One function's handler module, loaded once, invoked one event at a time."""

    def __init__(self, name: str, handler_path: Path, handler_attr: str = "lambda_handler", memory_mb: int = 512,
                 output: TextIO | None = None):
        self.name = name
        self.handler_path = handler_path
        self.handler_attr = handler_attr
        self.memory_mb = memory_mb
        # Where the function's stdout (logs, EMF metrics) goes; None leaves it on stdout.
        self.output = output
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def _load(self) -> ModuleType:
        module_name = f"finscore_function_{self.name}"
        spec = importlib.util.spec_from_file_location(module_name, self.handler_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock, routed_stdout().routed(self.output):
            if self._module is None:
                self._module = self._load()
            context = LambdaContext(self.name, self.memory_mb, aws_request_id=str(uuid.uuid4()))
            return getattr(self._module, self.handler_attr)(event, context)


def local_functions(log_dir: Path | None = None) -> dict[str, LocalFunction]:
    """Every function of the app; with LOG_DIR, each writes its stdout to LOG_DIR/<name>.log."""
    from finscore.products import all_functions

    functions = {}
    for spec in all_functions():
        output = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            output = (log_dir / f"{spec.name}.log").open("a", buffering=1, encoding="utf-8")
        functions[spec.name] = LocalFunction(
            spec.name, ROOT / "functions" / spec.folder / "handler.py", memory_mb=spec.memory_mb, output=output
        )
    return functions


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": details or []}}).encode()


def error_response(status: int, code: str, message: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **headers}, error_body(code, message)


def _token_refusal(status: int, message: str, challenge: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "WWW-Authenticate": challenge}
    code = "unauthorized" if status == 401 else "forbidden"
    return status, headers, error_body(code, message, [{"field": "Authorization", "issue": message}])


def _claim_text(value: Any) -> str:
    # API Gateway hands a function every claim as a string.
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def allowed_methods(path: str) -> list[str]:
    """The methods some route serves at PATH (with /v1), with OPTIONS when there is one."""
    found = [method for method in METHODS if method != "OPTIONS" and find_route(method, path) is not None]
    return [*found, "OPTIONS"] if found else []


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is not the gateway's failure; anything else is printed.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalGateway:
    def __init__(self, port: int, api_key: str, admin_key: str, functions: dict[str, LocalFunction] | None = None,
                 verifier: TokenVerifier | None = None, site_config: dict[str, Any] | None = None):
        self.port = port
        # The dashboard's runtime configuration (/config.json): what a deployment writes beside the site.
        self.site_config = site_config or {"auth": "key", "apiUrl": "/v1", "wsUrl": None}
        self.api_key = api_key
        self.admin_key = admin_key
        self.functions = functions or local_functions()
        # With a verifier (FINSCORE_AUTH=cognito), tokens with the route's scope, as in AWS.
        self.verifier = verifier
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "LocalGateway":
        gateway = self

        class Handler(_RequestHandler):
            pass

        Handler.gateway = gateway
        self._server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]  # the one the system chose when asked for port 0
        self._thread = threading.Thread(target=self._server.serve_forever, name="finscore-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request in, (status, headers, body) out."""
        if len(raw_path) > MAX_URL_LENGTH:
            return error_response(414, "url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters")
        if len(body) > MAX_BODY_BYTES:
            return error_response(413, "request_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes")
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        if method not in METHODS:
            allowed = allowed_methods(path) if path.startswith("/v1") else ["GET", "HEAD"]
            return error_response(405, "method_not_allowed", f"{method} is not allowed on {path}",
                                  Allow=", ".join(allowed or METHODS))
        if not path.startswith("/v1"):
            return self._static(path)
        if method == "OPTIONS":
            origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
            return 204, _cors_headers(origin), b""
        route = find_route(method, path)
        if route is None:
            allowed = allowed_methods(path)
            if allowed:
                return error_response(405, "method_not_allowed", f"{method} is not allowed on {path}",
                                      Allow=", ".join(allowed))
            return 404, {"Content-Type": "application/json"}, error_body("route_not_found", f"No route {method} {path}")
        spec, template, parameters = route
        access = route_access(spec, method, template)
        supplied = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
        claims = None
        if self.verifier is not None and access != "public":
            # API Gateway runs the authorizer first, then checks the key; the token decides admin routes.
            refusal, claims = self._authorize(headers, route_scope(spec, method, template))
            if refusal is not None:
                return refusal
            access = "key"
        if access == "key" and supplied not in (self.api_key, self.admin_key):
            return 403, {"Content-Type": "application/json"}, error_body("forbidden", "Missing or invalid API key (x-api-key)")
        if access == "admin" and supplied != self.admin_key:
            return 403, {"Content-Type": "application/json"}, error_body("forbidden", "Admin routes need the admin key")
        event = rest_event(
            method,
            path,
            resource=template,
            path_parameters=parameters,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=headers,
            body=body if body else None,
            api_key_id="local-admin" if supplied == self.admin_key else ("local" if supplied else None),
            claims=claims,
        )
        response = self.functions[spec.name].invoke(event)
        return _http_response(response)

    def _authorize(self, headers: dict[str, str], scope: Scope) -> tuple[tuple[int, dict[str, str], bytes] | None,
                                                                         dict[str, str] | None]:
        """(refusal, None) or (None, the claims the function gets) for the request's bearer token."""
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), "").strip()
        token = header[len("bearer "):].strip() if header.lower().startswith("bearer ") else header
        if not token:
            return _token_refusal(401, "Send an access token: Authorization: Bearer <token> (`finscore token`)",
                                  "Bearer"), None
        try:
            claims = self.verifier.verify(token)
        except InvalidToken as exc:
            return _token_refusal(401, str(exc), 'Bearer error="invalid_token"'), None
        granted = granted_scopes(claims)
        # A valid token without the scope is 403 (RFC 6750's insufficient_scope), told apart from a bad
        # token; API Gateway's REST authorizer may answer both with 401, in the same error shape.
        if scope.identifier not in granted:
            return _token_refusal(403, f"The token lacks the {scope.identifier} scope this route needs",
                                  f'Bearer error="insufficient_scope", scope="{scope.identifier}"'), None
        # What a client-credentials token of Cognito carries: its scopes in "scope".
        return None, {**{name: _claim_text(value) for name, value in claims.items()}, "scope": " ".join(sorted(granted))}

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """The dashboard: its files, its configuration, and index.html for every other page (its routes
        are the app's own, as CloudFront answers them in AWS)."""
        if path == SITE_CONFIG:
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(self.site_config).encode()
        root = DASHBOARD.resolve()
        target = (root / path.lstrip("/")).resolve()
        if root.is_dir() and target.is_file() and root in target.parents:
            # Built assets carry a content hash in their names and never change; index.html does.
            cache = "public, max-age=31536000, immutable" if "/assets/" in path else "no-cache"
            kind = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
            return 200, {"Content-Type": kind, "Cache-Control": cache}, target.read_bytes()
        index = root / "index.html"
        if Path(path).suffix == "" and index.is_file():
            return 200, {"Content-Type": CONTENT_TYPES[".html"], "Cache-Control": "no-cache"}, index.read_bytes()
        if path == "/":
            page = (b"<!doctype html><title>FinScore</title><h1>FinScore</h1><p>The dashboard is not built: run "
                    b"<code>make run</code>. API at <a href='/v1/docs'>/v1/docs</a></p>")
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        return 404, {"Content-Type": "application/json"}, error_body("not_found", f"No page {path}")


def _cors_headers(origin: str | None) -> dict[str, str]:
    """A preflight's answer: the origin echoed only when it is one of CORS_ALLOWED_ORIGINS (the functions'
    own setting, as API Gateway's preflight is configured from the same cdk.json value)."""
    from finscore.settings import ApiSettings, load_settings

    if origin is None or origin not in load_settings(ApiSettings).cors_allowed_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ",".join(CORS_METHODS),
        "Access-Control-Allow-Headers": "Content-Type,x-api-key,Idempotency-Key",
        "Vary": "Origin",
    }


def _http_response(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers: dict[str, str] = {}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    headers.update(response.get("headers") or {})
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response.get("statusCode", 200)), headers, data


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP framing: the request line and body are checked against the limits before anything is read
    into memory, and every refusal is in the error shape (http.server's own answers are HTML)."""

    gateway: LocalGateway
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    # The longest request line worth reading: a method, a URL of MAX_URL_LENGTH and the version.
    max_request_line = MAX_URL_LENGTH + 64

    def handle_one_request(self) -> None:
        # http.server's own version answers a method without a do_<METHOD> with an HTML 501 and reads
        # request lines up to 64 KB; here every method reaches the gateway (which answers 405).
        try:
            self.raw_requestline = self.rfile.readline(self.max_request_line + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > self.max_request_line:
                self.command, self.path, self.request_version = "", "", "HTTP/1.1"
                self.requestline = self.raw_requestline[:80].decode("latin-1").rstrip() + "..."
                self._refuse(414, "url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters")
                return
            if self.parse_request():  # else answered through send_error
                self._serve()
        except TimeoutError:  # an idle keep-alive connection, or a client that stopped sending
            self.close_connection = True

    def handle_expect_100(self) -> bool:
        # A client waiting for 100 Continue is told 413 (or 400/411) instead, and never sends the body.
        refusal = self._framing_refusal()
        if refusal is not None:
            self._refuse(*refusal)
            return False
        return super().handle_expect_100()

    def _framing_refusal(self) -> tuple[int, str, str] | None:
        """Why the body cannot be read, from the headers alone; None when it can."""
        if self.headers.get("Transfer-Encoding"):
            return 411, "length_required", "Send the body with a Content-Length, not a Transfer-Encoding"
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return None  # no Content-Length and no Transfer-Encoding: no body (RFC 9112 6.3)
        if len(set(values)) != 1 or not values[0].strip().isdigit():
            return 400, "invalid_content_length", "Content-Length must be one non-negative whole number"
        if int(values[0]) > MAX_BODY_BYTES:
            return 413, "request_too_large", f"The body is larger than {MAX_BODY_BYTES} bytes"
        return None

    def _serve(self) -> None:
        if len(self.path) > MAX_URL_LENGTH:
            self._refuse(414, "url_too_long", f"The URL is longer than {MAX_URL_LENGTH} characters")
            return
        refusal = self._framing_refusal()
        if refusal is not None:
            self._refuse(*refusal)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, data = self.gateway.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # the gateway itself failed: answer like API Gateway's 502
            status, headers, data = 502, {"Content-Type": "application/json"}, error_body("bad_gateway", str(exc))
        self._answer(status, headers, data)

    def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer STATUS in the error shape and close the connection: what follows on it (a body the
        gateway will not read, the rest of a request line) cannot be told apart from a next request."""
        self.close_connection = True
        self._answer(status, {"Content-Type": "application/json"}, error_body(code, message))
        self._linger()

    def _linger(self) -> None:
        """Half-close and discard what the client is still sending, briefly and a chunk at a time:
        closing a socket with unread data resets it, and the client would lose the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break
        except OSError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, too many headers, ...) in the error shape."""
        phrase = self.responses.get(code, ("Error",))[0]
        # A request line it could not parse leaves the version at HTTP/0.9, which has no status line.
        if not str(self.request_version).startswith("HTTP/1."):
            self.request_version = self.protocol_version
        self._refuse(code, phrase.lower().replace(" ", "_").replace("-", "_"), message or phrase)

    def log_message(self, format: str, *args: Any) -> None:
        # Called for refusals too, some before the request line was parsed.
        path = getattr(self, "path", "") or ""
        sys.stderr.write(f"  {self.command or '-'} {path[:200]} -> {args[1] if len(args) > 1 else ''}\n")
