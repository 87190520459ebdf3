"""Environment settings: one pydantic model per function, validated at cold start.

A missing or malformed variable fails the cold start with a message naming the variable, instead
of surfacing later as a confusing error on the first request that needs it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from finscore.errors import ConfigurationError

SettingsT = TypeVar("SettingsT", bound="FunctionSettings")


class FunctionSettings(BaseModel):
    """Settings every function shares. Field aliases are the environment variable names."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    region: Annotated[str, Field(alias="AWS_REGION", min_length=1)] = "us-east-1"
    endpoint_url: Annotated[str | None, Field(alias="AWS_ENDPOINT_URL")] = None
    stage: Annotated[str, Field(alias="FINSCORE_STAGE", min_length=1)] = "prod"


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class ApiSettings(FunctionSettings):
    """What every function serving REST routes takes from cdk.json (resources.API_CONTEXT)."""

    # Browser origins allowed to call the API; none: no CORS headers, so only same-origin pages can.
    cors_allowed_origins: Annotated[tuple[str, ...], Field(alias="CORS_ALLOWED_ORIGINS")] = ()
    # API key ids (API Gateway's apiKeyId) that may read customers' full contact details.
    customer_data_key_ids: Annotated[frozenset[str], Field(alias="CUSTOMER_DATA_KEY_IDS")] = frozenset()

    _split_origins = field_validator("cors_allowed_origins", mode="before")(_comma_separated)
    _split_key_ids = field_validator("customer_data_key_ids", mode="before")(_comma_separated)


class ModelServingSettings(FunctionSettings):
    """Settings of a function that loads champion models from the registry and the model store."""

    models_bucket: Annotated[str, Field(alias="MODELS_BUCKET", min_length=3)]
    registry_table: Annotated[str, Field(alias="REGISTRY_TABLE", min_length=3)]
    registry_ttl: Annotated[float, Field(alias="REGISTRY_TTL", ge=0, le=3600)] = 60.0


class PlatformSettings(ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    activity_table: Annotated[str, Field(alias="ACTIVITY_TABLE", min_length=3)]
    version: Annotated[str, Field(alias="FINSCORE_VERSION")] = "0.1.0"
    # The function POST /models/{product}/retrain invokes; retraining is unavailable (503) without it.
    retrain_function_name: Annotated[str | None, Field(alias="RETRAIN_FUNCTION_NAME")] = None


def resource_name(env_var: str) -> str | None:
    """The physical name of a bucket or table its spec's environment variable carries; None when unset.

    For the resources a function probes by spec rather than uses by name (the platform's health
    checks of every product's tables): a missing one is reported as such, not a failed cold start.
    """
    return os.environ.get(env_var) or None


def load_settings(model: type[SettingsT]) -> SettingsT:
    """Validate the process environment against MODEL; the error names every bad variable."""
    return _load_cached(model)


@lru_cache(maxsize=None)
def _load_cached(model: type[SettingsT]) -> SettingsT:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"]) or "environment"
            problems.append(f"{variable}: {error['msg']}")
        raise ConfigurationError("Invalid environment: " + "; ".join(problems)) from exc


def reset_settings() -> None:
    """Forget validated settings (tests that change the environment call this)."""
    _load_cached.cache_clear()
