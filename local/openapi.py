"""Builds the one OpenAPI document of the API from every function's resolver.

Each function knows only its own routes at run time, so the merged document is generated at build
time into the shared package, where the platform function serves it; a test keeps it current.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from finscore import __version__, resources
from finscore.api.errors import ERROR_STATUSES, ErrorResponse
from finscore.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_NUMBER_DIGITS
from finscore.products import all_functions
from finscore.products.spec import PRODUCT_API_FOLDER

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "layers" / "shared" / "python" / "finscore" / "api" / "openapi.json"


def _error_schemas() -> dict[str, Any]:
    schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ErrorResponse": schema}


def _resolver(spec: resources.FunctionSpec) -> Any:
    """A function's resolver: its product's, or the one its handler module holds."""
    if spec.product is not None and spec.folder == PRODUCT_API_FOLDER:
        from finscore.products.api import product_app

        return product_app(spec.product)
    function = spec.folder
    module_name = f"finscore_function_{function}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / function / "handler.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module.app


SCHEMA_PREFIX = "#/components/schemas/"
ERROR_REF = {"$ref": SCHEMA_PREFIX + "ErrorResponse"}
# Powertools documents its own 422 body; every answer of ours is ErrorResponse instead.
POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_STATUSES[status], "content": {"application/json": {"schema": ERROR_REF}}}


def _document_errors(operation: dict[str, Any], *, keyed: bool) -> None:
    """The statuses any route can answer beside its own: the error shape for each, from the models that
    answer. A route's own declaration (its decorator's responses) is kept where it names the status."""
    responses = operation.setdefault("responses", {})
    responses["422"] = _error(422) | {"description": responses.get("422", {}).get("description")
                                      or ERROR_STATUSES[422]}
    if responses["422"]["description"] == "Validation Error":
        responses["422"]["description"] = ERROR_STATUSES[422]
    # Any URL can be too long for the gateway; any route can find a dependency down.
    statuses = [414, 503]
    if "requestBody" in operation:
        statuses += [400, 413]
    if any(parameter.get("name") == "cursor" for parameter in operation.get("parameters", [])):
        statuses.append(400)
    if keyed:
        statuses += [401, 403, 429]
    for status in statuses:
        responses.setdefault(str(status), _error(status))
    operation["responses"] = dict(sorted(responses.items()))


def _function_documents() -> list[tuple[resources.FunctionSpec, dict[str, Any]]]:
    return [(spec, json.loads(_resolver(spec).get_openapi_json_schema(title="FinScore API", version=__version__)))
            for spec in all_functions() if spec.serves_rest]  # stream, queue, WebSocket functions have none


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """VALUE with every $ref to a schema in NAMES pointing at its new name."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX) and ref[len(SCHEMA_PREFIX):] in names:
            return {**value, "$ref": SCHEMA_PREFIX + names[ref[len(SCHEMA_PREFIX):]]}
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    return value


def _without_name_clashes(documents: list[tuple[resources.FunctionSpec, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each function names its schemas on its own (two products may both have a ScoreResponse); a name
    two functions define differently is given the product's prefix in every document that defines it,
    so that no route of the merged document points at another product's schema."""
    definitions: dict[str, list[Any]] = {}
    for _, document in documents:
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if schema not in definitions.setdefault(name, []):
                definitions[name].append(schema)
    clashing = {name for name, variants in definitions.items() if len(variants) > 1}
    renamed = []
    for spec, document in documents:
        prefix = "".join(part.capitalize() for part in (spec.product or spec.name).split("_"))
        names = {name: prefix + name for name in clashing if name in document.get("components", {}).get("schemas", {})}
        document = _renamed(document, names)
        schemas = document.get("components", {}).get("schemas", {})
        document.setdefault("components", {})["schemas"] = {names.get(name, name): schema for name, schema in schemas.items()}
        renamed.append(document)
    return renamed


def _security_schemes() -> dict[str, Any]:
    """The API key of the usage plan, and the OAuth2 client-credentials flow of the stack's user pool."""
    return {
        "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        "oauth2": {
            "type": "oauth2",
            "description": "Access tokens of the stack's Cognito user pool (its TokenUrl output; locally "
            "`finscore token --scope ...` when the gateway runs with FINSCORE_AUTH=cognito), sent as "
            "Authorization: Bearer <token>.",
            "flows": {"clientCredentials": {
                "tokenUrl": "https://finscore-ACCOUNT.auth.REGION.amazoncognito.com/oauth2/token",
                "scopes": {scope.identifier: scope.description for scope in resources.SCOPES},
            }},
        },
    }


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = _error_schemas()
    scopes = {(route.method, resources.API_BASE_PATH + route.path): route.scope
              for spec in all_functions() for route in spec.all_routes}
    for document in _without_name_clashes(_function_documents()):
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                scope = scopes.get((method.upper(), path))
                keyed = scope is not None
                if keyed:
                    # Both at once: the token's scope says what the caller may do, the key which client it is.
                    operation["security"] = [{"apiKey": [], "oauth2": [scope.identifier]}]
                _document_errors(operation, keyed=keyed)
            paths.setdefault(path, {}).update(operations)
        schemas.update(document.get("components", {}).get("schemas", {}))
    for name in POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FinScore API",
            "version": __version__,
            "description": "Machine-learning scoring for retail finance. Every route but /v1/health, /v1/docs and "
            "/v1/openapi.json needs an access token with the route's scope (Authorization: Bearer, OAuth2 client "
            "credentials) and an API key in the x-api-key header; locally the key alone unless FINSCORE_AUTH=cognito "
            "(admin routes then take the admin key). Every error answer is an ErrorResponse. Bodies are JSON of at most "
            f"{MAX_BODY_BYTES} bytes (413 past it), nested at most {MAX_JSON_DEPTH} levels, with numbers of at "
            f"most {MAX_NUMBER_DIGITS} digits (400 past either).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": _security_schemes(),
        },
    }


def render_document() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def write_document(path: Path = DOCUMENT) -> Path:
    path.write_text(render_document())
    return path
