"""The one mapping from exceptions to HTTP answers, in the error shape of every route:

    {"error": {"code": ..., "message": ..., "details": [{"field": ..., "issue": ...}]}}

Bad input is a 4xx naming each bad field; only a fault of ours is a 5xx.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from finscore.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_NUMBER_DIGITS, MAX_URL_LENGTH
from finscore.errors import FieldIssue, FinScoreError
from finscore.observability import logger

JSON = "application/json"


class ErrorDetail(BaseModel):
    field: str = Field(description="The request field (dotted path), header or parameter at fault")
    issue: str = Field(description="What is wrong with it")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. validation_failed, not_found")
    message: str = Field(description="What happened, in words")
    details: list[ErrorDetail] = Field(description="One entry per bad field; empty when no field is at fault")


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx answer, from a function or from API Gateway itself."""

    error: ErrorBody


# What each error status means on any route; a route's own description can say more (see route_responses).
ERROR_STATUSES: dict[int, str] = {
    400: f"Malformed request: the body is not JSON, nests deeper than {MAX_JSON_DEPTH} levels or holds a number "
         f"longer than {MAX_NUMBER_DIGITS} digits; or a cursor this listing did not return",
    401: "Missing, expired or invalid access token (Authorization: Bearer <token>)",
    403: "Missing or invalid API key (x-api-key), or an access token without the route's scope",
    404: "No such resource",
    409: "Conflicts with the resource's current state",
    413: f"Body larger than {MAX_BODY_BYTES} bytes",
    414: f"URL longer than {MAX_URL_LENGTH} characters (path and query, as sent)",
    422: "One or more fields failed validation; each is named in details",
    429: "Too many requests for this API key (the usage plan's rate or daily quota)",
    503: "A dependency (storage or the served model) is unavailable; the reason is in the message; retry",
}


def route_responses(*errors: int, ok: Mapping[int, str] | None = None, **descriptions: str) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` of a route: its success statuses OK (default 200; their body is the route's
    return model) and the error STATUSES it answers itself, in the error shape. DESCRIPTIONS by
    "s<status>" (e.g. s409="...") replace the generic texts. Statuses every route shares (400, 413,
    414, 403, 429, 503) are added to the document by its generator."""
    documented: dict[int, dict[str, Any]] = {status: {"description": text} for status, text in (ok or {200: "OK"}).items()}
    for status in errors:
        documented[status] = {"description": descriptions.get(f"s{status}", ERROR_STATUSES[status]),
                              "content": {JSON: {"model": ErrorResponse}}}
    return documented


def error_response(status: int, code: str, message: str, details: Sequence[FieldIssue] = ()) -> Response:
    body = ErrorResponse(error=ErrorBody(code=code, message=message,
                                         details=[ErrorDetail(field=d.field, issue=d.issue) for d in details]))
    return Response(status_code=status, content_type=JSON, body=body.model_dump_json())


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
