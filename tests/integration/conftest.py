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


@pytest.fixture
def credit_model(aws, trainer):
    """A custom model "credit" registered from a 3,000-row credit table, trained and ready; PUT's answer."""
    from finscore.s3 import Bucket
    from tests.custom_tables import credit_table
    from tests.handlers import invoke, load_event
    from tests.integration.test_custom_files import csv_bytes

    Bucket(aws["DATA_BUCKET"]).write("training/custom/credit/applications.csv", csv_bytes(credit_table(3_000, seed=21)))
    status, accepted = invoke("custom_api", load_event("custom_api", "register"))
    assert status == 202, accepted
    trainer.wait(300)
    return accepted
