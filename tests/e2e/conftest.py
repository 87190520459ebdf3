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




# Tests that fill the shared stack with random valid data run after every other end-to-end test.
LAST_MODULES = ("test_api_contract.py",)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name in LAST_MODULES)
