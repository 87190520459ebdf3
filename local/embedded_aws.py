"""The embedded AWS: moto's server on 127.0.0.1, in this process, with FinScore's resources created."""

from __future__ import annotations

import logging
import os
import socket
from contextlib import closing

from finscore.aws import reset_clients

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


class EmbeddedAws:
    """moto's ThreadedMotoServer; `start()` also points this process's AWS clients at it."""

    def __init__(self, port: int = DEFAULT_PORT):
        self.port = port
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self._server = None

    def start(self) -> "EmbeddedAws":
        if port_in_use(self.port):
            raise RuntimeError(
                f"Port {self.port} is in use; stop what runs there or set FINSCORE_AWS_PORT to another port"
            )
        from moto.server import ThreadedMotoServer

        # One access-log line per SDK call would bury everything else on the console.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.use()
        return self

    def use(self) -> None:
        """Point this process's AWS SDK at the embedded endpoint (also for an already running one)."""
        for variable, value in LOCAL_CREDENTIALS.items():
            os.environ.setdefault(variable, value)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
        reset_clients()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
