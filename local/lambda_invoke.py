"""A local Lambda Invoke endpoint: `lambda:Invoke` with InvocationType=Event runs a local function.

The embedded AWS (moto) cannot run function code without Docker, so the local run points the Lambda
client here (AWS_ENDPOINT_URL_LAMBDA) and the platform function's asynchronous retrain invocation
runs functions/model_retrain/handler.py in a background thread, answering 202 at once as Lambda does.
Synchronous invocations (RequestResponse) run in the request and return the handler's result.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

INVOKE_PATH = "/2015-03-31/functions/"
Invoke = Callable[[dict[str, Any]], Any]


class LocalLambdaInvoke:
    """Serves POST /2015-03-31/functions/<name>/invocations for the FUNCTIONS it is given (by name)."""

    def __init__(self, functions: Mapping[str, Invoke], port: int = 0):
        self.functions = dict(functions)
        self.runs: list[threading.Thread] = []
        self.results: list[tuple[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                endpoint.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "LocalLambdaInvoke":
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-lambda-invoke", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every asynchronous run started so far (tests use this)."""
        for run in list(self.runs):
            run.join(timeout)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlparse(request.path).path
        if not path.startswith(INVOKE_PATH) or not path.endswith("/invocations"):
            return self._reply(request, 404, {"Type": "User", "message": f"Unsupported path {path}"})
        name = urllib.parse.unquote(path[len(INVOKE_PATH):-len("/invocations")]).rsplit(":", 1)[-1]
        function = self.functions.get(name)
        if function is None:
            return self._reply(request, 404, {"Type": "User", "message": f"Function not found: {name}"},
                               {"x-amzn-ErrorType": "ResourceNotFoundException"})
        length = int(request.headers.get("Content-Length") or 0)
        payload = json.loads(request.rfile.read(length) or b"{}")
        if request.headers.get("X-Amz-Invocation-Type", "RequestResponse") == "Event":
            run = threading.Thread(target=self._run, args=(name, function, payload), name=f"invoke-{name}", daemon=True)
            self.runs.append(run)
            run.start()
            return self._reply(request, 202, None)
        return self._reply(request, 200, function(payload))

    def _run(self, name: str, function: Invoke, payload: dict[str, Any]) -> None:
        try:
            self.results.append((name, function(payload)))
        except Exception as exc:  # noqa: BLE001 - an async failure is logged, as Lambda would
            self.results.append((name, exc))
            print(f"local invoke of {name} failed: {exc!r}", flush=True)

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, default=str).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)
