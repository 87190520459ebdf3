"""The API of every product: one resolver per product, holding the routes of its Router.

functions/product_api serves each product, deployed once per product: API Gateway sends a
function only its own product's routes, so a request's route names the product, and only that
product's routes and schemas are ever imported in the execution environment.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from finscore import resources
from finscore.activity.tally import activity_tally
from finscore.api.resolver import create_resolver
from finscore.products import products
from finscore.products.spec import load


def route_matches(template: str, path: str) -> dict[str, str] | None:
    """The path parameters when PATH fits the route TEMPLATE ("/risk/customers/{customer_id}"), else None."""
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    parameters = {}
    for pattern, value in zip(want, got):
        if pattern.startswith("{") and pattern.endswith("}"):
            if not value:
                return None
            parameters[pattern[1:-1]] = value
        elif pattern != value:
            return None
    return parameters


@lru_cache(maxsize=1024)
def product_of_route(method: str, path: str) -> str | None:
    """The product whose API serves METHOD PATH (with or without the /v1 base path), if any."""
    base = resources.API_BASE_PATH
    relative = path[len(base):] if path.startswith(base + "/") else path
    for spec in products().values():
        for route in spec.api.routes:
            if route.method == method and route_matches(route.path, relative) is not None:
                return spec.name
    return None


@lru_cache(maxsize=None)
def product_app(name: str) -> APIGatewayRestResolver:
    """The resolver of product NAME: the shared error mapping and validation, and the product's routes."""
    app = create_resolver()
    app.include_router(load(products()[name].routes))
    return app


@lru_cache(maxsize=1)
def _no_product() -> APIGatewayRestResolver:
    # No route of any product: the resolver's own 404, in the error shape.
    return create_resolver()


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer an API Gateway proxy event with the resolver of the product its route belongs to."""
    name = product_of_route(str(event.get("httpMethod", "")), str(event.get("resource") or event.get("path") or ""))
    response = (product_app(name) if name else _no_product()).resolve(event, context)
    if name:
        tally = activity_tally()
        if tally is not None:
            tally.request(name, int(response.get("statusCode", 200)))
    return response
