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
