"""The local stack for end-to-end tests: `finscore run` (what `make run` starts) in its own home and ports."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from local.embedded_aws import free_port

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-api-key"
ADMIN_KEY = "e2e-admin-key"
START_TIMEOUT_S = 1200
SMARTBANK = {
    "age": 30, "income": 75000, "employment_status": "employed", "credit_score": 720,
    "existing_products": ["basic_checking"], "monthly_spending": 2500, "savings_balance": 15000,
    "loan_amount": 0, "digital_engagement": 8, "spending_score": 65, "saving_frequency": 7, "loan_behavior": 2,
}


class Stack:
    def __init__(self, api_port: int, aws_port: int, ws_port: int, process: subprocess.Popen, log: Path):
        self.url = f"http://127.0.0.1:{api_port}"
        self.api_port, self.aws_port, self.ws_port, self.process, self.log = api_port, aws_port, ws_port, process, log

    def request(self, method: str, path: str, body: object = None, key: str | None = API_KEY,
                raw: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, object]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            headers["x-api-key"] = key
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        try:
            return status, json.loads(payload)
        except json.JSONDecodeError:
            return status, payload.decode()


    def get_text(self, url: str) -> str:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read().decode()


def start_stack(home: Path, **settings: str) -> Stack:
    """`finscore run` with its own ports and home (and SETTINGS in its environment), once the API answers."""
    api_port, aws_port, ws_port = free_port(), free_port(), free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "FINSCORE_HOME": str(home),
        "FINSCORE_API_PORT": str(api_port),
        "FINSCORE_AWS_PORT": str(aws_port),
        "FINSCORE_WS_PORT": str(ws_port),
        "FINSCORE_API_KEY": API_KEY,
        "FINSCORE_ADMIN_KEY": ADMIN_KEY,
        **settings,
    }
    log = home / f"run-{api_port}.log"
    with log.open("w") as output:
        process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "finscore"), "run", "--no-progress"],
                                   cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    stack = Stack(api_port, aws_port, ws_port, process, log)
    # A cap that turns a stack that never comes up into a failure, not a speed check: the first run
    # trains every model, which on a loaded two-core machine can take several minutes.
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"finscore run exited early:\n{log.read_text()}")
        try:
            if stack.request("GET", "/v1/health", key=None)[0] == 200:
                return stack
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"finscore run did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")
        time.sleep(0.5)
