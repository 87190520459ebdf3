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
from finscore.products import all_functions
from finscore.products.spec import PRODUCT_API_FOLDER

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "layers" / "shared" / "python" / "finscore" / "api" / "openapi.json"


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


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    public = {(m, resources.API_BASE_PATH + p) for spec in all_functions() for m, p in spec.public_routes}
    for spec in all_functions():
        if not (spec.routes or spec.public_routes or spec.admin_routes):
            continue  # stream, queue and WebSocket functions have no REST resolver
        document = json.loads(_resolver(spec).get_openapi_json_schema(title="FinScore API", version=__version__))
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if (method.upper(), path) not in public:
                    operation["security"] = [{"apiKey": []}]
            paths.setdefault(path, {}).update(operations)
        schemas.update(document.get("components", {}).get("schemas", {}))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FinScore API",
            "version": __version__,
            "description": "Machine-learning scoring for retail finance. Every route but /v1/health needs an "
            "API key in the x-api-key header; admin routes need IAM authorization (the admin key locally).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
        },
    }


def render_document() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=False) + "\n"


def write_document(path: Path = DOCUMENT) -> Path:
    path.write_text(render_document())
    return path
