"""Domain exceptions. Logic raises these; finscore.api.errors turns them into HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldIssue:
    field: str
    issue: str


class FinScoreError(Exception):
    """Base of every error FinScore raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[FieldIssue] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidRequest(FinScoreError):
    status = 400
    code = "invalid_request"


class BodyTooLarge(FinScoreError):
    status = 413
    code = "body_too_large"


class ValidationFailed(FinScoreError):
    status = 422
    code = "validation_failed"


class Forbidden(FinScoreError):
    status = 403
    code = "forbidden"


class NotFound(FinScoreError):
    status = 404
    code = "not_found"


class Conflict(FinScoreError):
    status = 409
    code = "conflict"


class ServiceUnavailable(FinScoreError):
    """A dependency (S3, DynamoDB) cannot be reached; the request may be retried."""

    status = 503
    code = "service_unavailable"


class ModelUnavailable(ServiceUnavailable):
    """No usable champion model is loaded for a product."""

    code = "model_unavailable"


class ArtifactIntegrityError(FinScoreError):
    """A model artifact is missing or its sha256 does not match the manifest."""

    code = "artifact_integrity"


class ConfigurationError(FinScoreError):
    """The function's environment is invalid; raised at cold start."""

    code = "configuration_error"
