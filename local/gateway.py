"""The local API gateway: HTTP on 127.0.0.1 turned into API Gateway REST proxy events for the real handlers.

As in API Gateway, every route but the public ones needs a valid x-api-key, admin routes need the admin
key (IAM in AWS), and each function serves one request at a time, like one Lambda execution environment.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from local.apigw import find_route, rest_event, route_access
from local.function_output import routed_stdout

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard"


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


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


class LocalGateway:
    def __init__(self, port: int, api_key: str, admin_key: str, functions: dict[str, LocalFunction] | None = None):
        self.port = port
        self.api_key = api_key
        self.admin_key = admin_key
        self.functions = functions or local_functions()
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
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
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
        url = urlsplit(raw_path)
        path = url.path.rstrip("/") or "/"
        if not path.startswith("/v1"):
            return self._static(path)
        if method == "OPTIONS":
            return 204, _cors_headers(), b""
        route = find_route(method, path)
        if route is None:
            return 404, {"Content-Type": "application/json"}, error_body("route_not_found", f"No route {method} {path}")
        spec, template, parameters = route
        access = route_access(spec, method, template)
        supplied = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
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
        )
        response = self.functions[spec.name].invoke(event)
        return _http_response(response)

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        target = (DASHBOARD / (path.lstrip("/") or "index.html")).resolve()
        if DASHBOARD.is_dir() and target.is_file() and DASHBOARD.resolve() in target.parents:
            kind = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}.get(
                target.suffix, "application/octet-stream"
            )
            return 200, {"Content-Type": kind}, target.read_bytes()
        if path == "/":
            page = b"<!doctype html><title>FinScore</title><h1>FinScore</h1><p>API at <a href='/v1/docs'>/v1/docs</a></p>"
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page
        return 404, {"Content-Type": "application/json"}, error_body("not_found", f"No page {path}")


def _cors_headers() -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET,POST,PATCH,OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type,x-api-key,Idempotency-Key",
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
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, data = self.gateway.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # the gateway itself failed: answer like API Gateway's 502
            status, headers, data = 502, {"Content-Type": "application/json"}, error_body("bad_gateway", str(exc))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"  {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")
