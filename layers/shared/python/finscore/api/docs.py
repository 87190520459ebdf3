"""The published OpenAPI document and the Swagger UI page that renders it."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources as package_resources
from typing import Any

OPENAPI_FILE = "openapi.json"
SWAGGER_UI_VERSION = "5.17.14"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>FinScore API</title>
  <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@{version}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@{version}/swagger-ui-bundle.js"></script>
  <script>
    // Relative to this page so it works behind any stage name or custom domain.
    window.ui = SwaggerUIBundle({{url: "openapi.json", dom_id: "#swagger-ui", persistAuthorization: true}});
  </script>
</body>
</html>
"""


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The merged OpenAPI document of every function, generated at build time (`finscore openapi`)."""
    text = package_resources.files("finscore.api").joinpath(OPENAPI_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def swagger_page() -> str:
    return _SWAGGER_PAGE.format(version=SWAGGER_UI_VERSION)
