"""The one mapping from exceptions to HTTP answers, in the error shape of every route:

    {"error": {"code": ..., "message": ..., "details": [{"field": ..., "issue": ...}]}}

Bad input is a 4xx naming each bad field; only a fault of ours is a 5xx.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import BotoCoreError, ClientError

from finscore.errors import FieldIssue, FinScoreError
from finscore.observability import logger

JSON = "application/json"


def error_response(status: int, code: str, message: str, details: Sequence[FieldIssue] = ()) -> Response:
    body = {"error": {"code": code, "message": message, "details": [d.__dict__ for d in details]}}
    return Response(status_code=status, content_type=JSON, body=json.dumps(body))


def validation_issues(errors: Sequence[dict[str, Any]]) -> list[FieldIssue]:
    """Pydantic error entries as field issues; the request body's own location is left out."""
    issues = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        field = ".".join(location) if location else "body"
        issues.append(FieldIssue(field=field, issue=error.get("msg", "invalid")))
    return issues


def install_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(error.get("type") == "json_invalid" for error in errors):
            return error_response(400, "malformed_json", "The request body is not valid JSON",
                                  [FieldIssue("body", "not valid JSON")])
        issues = validation_issues(errors)
        return error_response(422, "validation_failed", f"{len(issues)} field(s) failed validation", issues)

    # Powertools decodes the body before validating it, so a body that is not UTF-8 fails there
    # rather than as a validation error; it is the client's malformed input all the same.
    @app.exception_handler(UnicodeDecodeError)
    def _undecodable_body(exc: UnicodeDecodeError) -> Response:
        return error_response(400, "malformed_json", "The request body is not valid JSON",
                              [FieldIssue("body", "not UTF-8 text")])

    @app.exception_handler(FinScoreError)
    def _domain_error(exc: FinScoreError) -> Response:
        if exc.status >= 500:
            logger.error("Request failed", extra={"code": exc.code, "reason": exc.message})
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler((ClientError, BotoCoreError))
    def _aws_error(exc: Exception) -> Response:
        logger.exception("AWS dependency failed")
        return error_response(503, "service_unavailable", "A storage dependency is unavailable; retry shortly")

    @app.not_found
    def _no_route(exc: Exception) -> Response:
        return error_response(404, "route_not_found", f"No route {app.current_event.http_method} {app.current_event.path}")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("Unhandled error")
        return error_response(500, "internal_error", "An internal error occurred; it has been logged")
