"""The published OpenAPI document is current and covers every route of every function."""

from __future__ import annotations

import json

from finscore import resources
from finscore.products import all_functions
from local.openapi import DOCUMENT, render_document


def test_the_committed_document_matches_the_handlers():
    assert DOCUMENT.read_text() == render_document(), "run `make openapi` and commit the result"


def test_every_route_is_documented_with_its_security():
    document = json.loads(DOCUMENT.read_text())
    for spec in all_functions():
        for method, path in (*spec.routes, *spec.admin_routes, *spec.public_routes):
            if path in ("/openapi.json", "/docs"):
                continue
            operation = document["paths"][resources.API_BASE_PATH + path][method.lower()]
            needs_key = (method, path) not in spec.public_routes
            assert bool(operation.get("security")) == needs_key, (method, path)


def test_every_documented_route_is_routed_to_its_function():
    """The gateways (API Gateway, the local one) route what the functions' specs declare; a handler's
    route missing there would be documented but answer 404."""
    document = json.loads(DOCUMENT.read_text())
    declared = {(method.lower(), resources.API_BASE_PATH + path) for spec in all_functions()
                for method, path in (*spec.routes, *spec.admin_routes, *spec.public_routes)}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert documented <= declared, sorted(documented - declared)
