"""The embedded AWS: moto's server on 127.0.0.1, in this process, with FinScore's resources created."""

from __future__ import annotations

import logging
import os
import socket
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

from finscore.aws import reset_clients

logger = logging.getLogger(__name__)

DEFAULT_PORT = 4566
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "finscore-local",
    "AWS_SECRET_ACCESS_KEY": "finscore-local",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.settimeout(0.3)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class InProcessTransport:
    """Hands this process's SDK calls to the embedded AWS straight to moto's WSGI application.

    The same signed requests reach the same moto, minus the loopback socket: moto's server (Werkzeug's
    development server) closes the connection after every answer, so each SDK call over HTTP paid a
    TCP handshake and a new server thread — most of a small GetItem's cost under concurrent load.
    Other processes (the AWS CLI, the e2e tests, `finscore invoke` against a running stack) still
    come over HTTP; calls to any other endpoint (the local Lambda invoke) are left alone.
    """

    def __init__(self, endpoint_url: str):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        # moto's backends are module state: this application and the server's answer from the same data.
        self._app = DomainDispatcherApplication(create_backend_app)
        self._netloc = urlsplit(endpoint_url).netloc
        self.enabled = True

    def __call__(self, request: Any, **_: Any) -> Any:
        """botocore's before-send hook: a response ends the call; None lets it go over HTTP."""
        url = urlsplit(request.url)
        if not self.enabled or url.netloc != self._netloc:
            return None
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.exceptions import InternalServerError
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        headers = {name: value.decode() if isinstance(value, bytes) else value
                   for name, value in request.headers.items()}
        environ = EnvironBuilder(path=url.path or "/", query_string=url.query, method=request.method,
                                 headers=headers, data=body or b"",
                                 base_url=f"{url.scheme}://{url.netloc}").get_environ()
        # The whole body is in memory: moto may read it at once rather than 64 KB at a time through
        # Werkzeug's length-limited stream (copies that cost ~0.5 s per 100 MB uploaded).
        environ["wsgi.input_terminated"] = True
        try:
            answer, status, answer_headers = run_wsgi_app(self._app, environ, buffered=True)
        except Exception:  # moto's app runs in debug mode: its failures propagate, as to the server
            # The server answers them with a 500 and logs the traceback; so does this.
            logger.exception("The embedded AWS failed on %s %s", request.method, url.path)
            answer, status, answer_headers = run_wsgi_app(InternalServerError(), environ, buffered=True)
        content = b"".join(answer)
        return AWSResponse(request.url, int(status.split(" ", 1)[0]), dict(answer_headers.items()),
                           MockRawResponse(content))


class EmbeddedAws:
    """moto's ThreadedMotoServer; `start()` also points this process's AWS clients at it, in process."""

    def __init__(self, port: int = DEFAULT_PORT):
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self._server = None
        self._transport: InProcessTransport | None = None

    def start(self) -> "EmbeddedAws":
        if port_in_use(self.port):
            raise RuntimeError(
                f"Port {self.port} is in use; stop what runs there or set FINSCORE_AWS_PORT to another port"
            )
        from moto.server import ThreadedMotoServer

        from local.moto_tuning import (
            assemble_uploads_once,
            keep_objects_in_memory,
            query_one_partition,
            remember_repeated_lookups,
        )

        remember_repeated_lookups()
        query_one_partition()
        assemble_uploads_once()
        keep_objects_in_memory()
        # One access-log line per SDK call would bury everything else on the console.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self._transport = InProcessTransport(self.endpoint_url)
        # Every botocore session created from now on (each client of finscore.aws is one) gets the hook.
        _builtin_handlers().append(("before-send", self._transport))
        self.use()
        return self

    def use(self) -> None:
        """Point this process's AWS SDK at the embedded endpoint (also for an already running one)."""
        for variable, value in LOCAL_CREDENTIALS.items():
            os.environ.setdefault(variable, value)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
        reset_clients()

    def stop(self) -> None:
        if self._transport is not None:
            # Clients created meanwhile keep the hook: disabled, their calls go to the (closed) port.
            self._transport.enabled = False
            handlers = _builtin_handlers()
            if ("before-send", self._transport) in handlers:
                handlers.remove(("before-send", self._transport))
            self._transport = None
        if self._server is not None:
            self._server.stop()
            self._server = None


def _builtin_handlers() -> list:
    from botocore.handlers import BUILTIN_HANDLERS

    return BUILTIN_HANDLERS
