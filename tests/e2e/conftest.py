"""One local stack serves the whole end-to-end session; tests that need their own call start_stack."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.stack import start_stack


@pytest.fixture(scope="session")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("finscore-home")


@pytest.fixture(scope="session")
def stack(home):
    stack = start_stack(home)
    yield stack
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        stack.process.wait(timeout=60)


