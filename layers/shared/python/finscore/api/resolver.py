"""The API Gateway REST resolver every API function uses."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig

from finscore.api.errors import install_error_handlers


def create_resolver() -> APIGatewayRestResolver:
    """A resolver validating requests and responses against their pydantic models, with the error mapping."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        cors=CORSConfig(allow_origin="*", allow_headers=["x-api-key", "Idempotency-Key", "Content-Type"]),
    )
    install_error_handlers(app)
    return app
