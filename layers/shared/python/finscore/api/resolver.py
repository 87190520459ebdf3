"""The API Gateway REST resolver every API function uses."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.shared.json_encoder import Encoder

from finscore.api.body import parse_json_body
from finscore.api.errors import install_error_handlers
from finscore.settings import ApiSettings, load_settings

JSON = "application/json"
# UTF-8 as it is (JSON's own encoding): Hindi messages read as Devanagari, not as \u escapes.
_SERIALIZE = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, cls=Encoder)


class JsonApiResolver(APIGatewayRestResolver):
    """Every FinScore route speaks JSON, whatever Content-Type the client sent.

    `curl -d` labels a JSON body as a form; left alone, the body would be parsed as a form and every
    field reported missing. Reading each body as JSON answers such a request correctly, and a body
    that is not JSON still gets its 400.
    """

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("body"):
            for key in ("headers", "multiValueHeaders"):
                headers = event.get(key)
                if headers:
                    for name in [name for name in headers if name.lower() == "content-type"]:
                        del headers[name]
            event["headers"] = {**(event.get("headers") or {}), "Content-Type": JSON}
            if event.get("multiValueHeaders") is not None:
                event["multiValueHeaders"]["Content-Type"] = [JSON]
        return super().resolve(event, context)


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """CORS for the configured browser origins only (the request's Origin is echoed when allowed)."""
    if not origins:
        return None
    return CORSConfig(allow_origin=origins[0], extra_origins=list(origins[1:]),
                      allow_headers=["x-api-key", "Idempotency-Key", "Content-Type"])


def create_resolver() -> APIGatewayRestResolver:
    """A resolver validating requests and responses against their pydantic models, with the error mapping."""
    app = JsonApiResolver(
        enable_validation=True,
        serializer=_SERIALIZE,
        json_body_deserializer=parse_json_body,
        cors=cors_config(load_settings(ApiSettings).cors_allowed_origins),
    )
    install_error_handlers(app)
    return app
