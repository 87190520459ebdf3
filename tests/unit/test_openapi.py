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
        for method, path, scope in spec.all_routes:
            if path in ("/openapi.json", "/docs"):
                continue
            operation = document["paths"][resources.API_BASE_PATH + path][method.lower()]
            if scope is None:
                assert "security" not in operation, (method, path)
            else:
                assert operation["security"] == [{"apiKey": [], "oauth2": [scope.identifier]}], (method, path)


def test_the_oauth2_scheme_offers_every_scope_by_client_credentials():
    schemes = json.loads(DOCUMENT.read_text())["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith("/oauth2/token")
    assert set(flow["scopes"]) == {scope.identifier for scope in resources.SCOPES}


def test_every_documented_route_is_routed_to_its_function():
    """The gateways (API Gateway, the local one) route what the functions' specs declare; a handler's
    route missing there would be documented but answer 404."""
    document = json.loads(DOCUMENT.read_text())
    declared = {(method.lower(), resources.API_BASE_PATH + path) for spec in all_functions()
                for method, path, _ in spec.all_routes}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert documented <= declared, sorted(documented - declared)


def _references(value):
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"].rsplit("/", 1)[-1]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def test_every_reference_resolves_to_the_schema_of_its_own_function():
    document = json.loads(DOCUMENT.read_text())
    schemas = document["components"]["schemas"]
    assert set(_references(document)) <= set(schemas)
    # Two products both name a model ScoreResponse: each route must point at its own product's.
    risk = document["paths"]["/v1/risk/score"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "customer_id" in schemas[risk["$ref"].rsplit("/", 1)[-1]]["properties"]


def test_every_error_status_is_documented_in_the_error_shape():
    document = json.loads(DOCUMENT.read_text())
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["422"]["content"]["application/json"]["schema"] == error, (method, path)
            if operation.get("security"):
                assert {"401", "403", "429"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(responses), (method, path)
            assert "HTTPValidationError" not in json.dumps(operation)


def test_required_headers_are_documented_as_required():
    document = json.loads(DOCUMENT.read_text())
    parameters = document["paths"]["/v1/risk/interventions"]["post"]["parameters"]
    header = next(p for p in parameters if p["in"] == "header" and p["name"].lower() == "idempotency-key")
    assert header["required"] is True
