"""The product registry: the one list of products. Adding a product is one more line here.

Everything else (the CDK app, the local run, retraining, drift, batch scoring, the OpenAPI
document, the benchmarks, the test fixtures) derives from this list through finscore.products.
"""

from __future__ import annotations

from finscore.products.demand.spec import DEMAND
from finscore.products.opportunity.spec import OPPORTUNITY
from finscore.products.propensity.spec import PROPENSITY
from finscore.products.recommend.spec import RECOMMEND
from finscore.products.risk.spec import RISK
from finscore.products.spec import ProductSpec

PRODUCTS: dict[str, ProductSpec] = {spec.name: spec for spec in (RISK, PROPENSITY, RECOMMEND, DEMAND, OPPORTUNITY)}
