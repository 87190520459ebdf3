"""Request and response models of the platform routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class DependencyCheck(BaseModel):
    status: Annotated[Literal["ok", "failed"], Field(description="Result of the check")]
    detail: Annotated[str, Field(description="What was checked, or why it failed")] = ""


class HealthResponse(BaseModel):
    status: Annotated[Literal["ok", "degraded"], Field(description="ok when every check passed")]
    checks: Annotated[dict[str, DependencyCheck], Field(description="One entry per dependency and served model")]


class VersionResponse(BaseModel):
    service: str = "finscore"
    version: Annotated[str, Field(description="FinScore release")]
    api: Annotated[str, Field(description="API base path version")] = "v1"
    stage: Annotated[str, Field(description="Deployment stage")]


class VersionSummary(BaseModel):
    version: str
    status: Annotated[str, Field(description="candidate | champion | rejected | archived")]
    created_at: str
    primary_metric: str
    primary_value: float
    status_reason: str = ""


class ProductModel(BaseModel):
    product: str
    champion_version: Annotated[str | None, Field(description="Version serving requests, if any")]
    primary_metric: str | None = None
    primary_value: float | None = None


class ModelsResponse(BaseModel):
    models: list[ProductModel]


class ModelDetailResponse(BaseModel):
    product: str
    champion_version: str | None
    metrics: Annotated[dict[str, Any], Field(description="Held-out metrics of the champion (test split)")]
    primary_metric: str | None = None
    features: Annotated[list[dict[str, Any]], Field(description="Input features in model order")] = []
    outputs: list[dict[str, Any]] = []
    thresholds: dict[str, Any] = {}
    parity: Annotated[dict[str, Any] | None, Field(description="ONNX against native model on held-out data")] = None
    training_data: dict[str, Any] | None = None
    library_versions: dict[str, str] = {}
    versions: Annotated[list[VersionSummary], Field(description="Every registered version, newest first")]


class PromoteRequest(BaseModel):
    version: Annotated[str, Field(min_length=1, max_length=128, description="Registered version to promote")]
    reason: Annotated[str, Field(max_length=500, description="Why; kept in the registry")] = "promoted by admin"


class RollbackRequest(BaseModel):
    reason: Annotated[str, Field(max_length=500, description="Why; kept in the registry")] = "rolled back by admin"


class ChampionChange(BaseModel):
    product: str
    champion_version: str
    previous_version: str | None
