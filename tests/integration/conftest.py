"""Fixtures of the integration suite beside tests/conftest.py's."""

from __future__ import annotations

import pytest


@pytest.fixture
def customer(aws, risk_champion):
    """A risk customer id of five seeded without transactions, with the risk service's caches reset around."""
    from finscore.products.risk import service
    from tests.handlers import seed_product

    service.reset()
    seed_product(aws, "risk", customers=5, seed=3, transactions_for=0)
    yield "C000001"
    service.reset()


@pytest.fixture
def trainer(aws, monkeypatch):
    """The retrain function behind the Lambda endpoint a custom model's PUT invokes, as the local run serves it."""
    from finscore.aws import client
    from finscore.products.custom import service
    from local.lambda_invoke import LocalLambdaInvoke
    from tests.handlers import run_retrain

    name = "finscore-local-model-retrain"
    endpoint = LocalLambdaInvoke({name: run_retrain}).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint.url)
    monkeypatch.setenv("RETRAIN_FUNCTION_NAME", name)
    client.cache_clear()
    service.reset()
    yield endpoint
    endpoint.stop()
    service.reset()
