"""Environment settings of the risk functions, one model per function, validated at cold start.

The intervention policy (ENABLE_INTERVENTIONS, AUTO_TRIGGER_THRESHOLD, AUTO_TRIGGER_COOLDOWN_HOURS,
RISK_LEVEL_CUTOFFS) is shared by every function that scores, because scoring may auto-trigger.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from finscore.settings import FunctionSettings, ModelServingSettings

DEFAULT_SENDER_EMAIL = "alerts@finscore.example"


class FeatureFreshness(BaseModel):
    """How old a customer's stored features may be before scoring recomputes them from the stored
    transactions as of today: features are computed as of a date, and a stored value ages."""

    features_max_age_hours: Annotated[float, Field(alias="FEATURES_MAX_AGE_HOURS", gt=0, le=24 * 365)] = 24.0


class InterventionPolicy(FeatureFreshness):
    """When interventions may be created, and when scoring creates one by itself (with the feature
    freshness every scoring function follows)."""

    # Off unless switched on: a deployment that sends messages to customers decides so in cdk.json
    # (the local run switches them on, into its outbox).
    enable_interventions: Annotated[bool, Field(alias="ENABLE_INTERVENTIONS")] = False
    # A score at or above it auto-triggers. Unset: the customer's level is critical, so the trigger
    # follows the level cut-offs in force (the champion's, or RISK_LEVEL_CUTOFFS) instead of a number
    # that can fall above or below them when they change.
    auto_trigger_threshold: Annotated[float | None, Field(alias="AUTO_TRIGGER_THRESHOLD", ge=0, le=100)] = None
    auto_trigger_cooldown_hours: Annotated[float, Field(alias="AUTO_TRIGGER_COOLDOWN_HOURS", gt=0, le=24 * 365)] = 72.0
    # "30,60,80": lower bounds of medium, high and critical on the 0-100 scale; unset keeps the
    # cut-offs the champion was trained with (its manifest).
    risk_level_cutoffs: Annotated[tuple[float, float, float] | None, Field(alias="RISK_LEVEL_CUTOFFS")] = None

    @field_validator("auto_trigger_threshold", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("risk_level_cutoffs", mode="before")
    @classmethod
    def _parse_cutoffs(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            try:
                parts = tuple(float(part) for part in value.split(","))
            except ValueError as exc:
                raise ValueError("expected three comma-separated numbers such as 30,60,80") from exc
        else:
            parts = tuple(value)  # type: ignore[arg-type]
        if len(parts) != 3:
            raise ValueError("expected three cut-offs: medium, high and critical")
        if not all(0 < part < 100 for part in parts) or not parts[0] < parts[1] < parts[2]:
            raise ValueError("cut-offs must be strictly ascending and between 0 and 100")
        return parts


class RiskApiSettings(InterventionPolicy, ModelServingSettings):
    customers_table: Annotated[str, Field(alias="RISK_CUSTOMERS_TABLE", min_length=3)]
    transactions_table: Annotated[str, Field(alias="RISK_TRANSACTIONS_TABLE", min_length=3)]
    interventions_table: Annotated[str, Field(alias="INTERVENTIONS_TABLE", min_length=3)]
    idempotency_table: Annotated[str, Field(alias="IDEMPOTENCY_TABLE", min_length=3)]
    customer_search_table: Annotated[str, Field(alias="RISK_CUSTOMER_SEARCH_TABLE", min_length=3)]
    counters_table: Annotated[str, Field(alias="RISK_COUNTERS_TABLE", min_length=3)]
    # How long a used Idempotency-Key answers with its first result.
    idempotency_ttl_hours: Annotated[float, Field(alias="IDEMPOTENCY_TTL_HOURS", gt=0, le=24 * 30)] = 24.0


class StoredFeaturesSettings(FeatureFreshness, FunctionSettings):
    """What scoring batch rows by customer_id needs: the feature store, and the transactions to
    recompute features that are too old."""

    customers_table: Annotated[str, Field(alias="RISK_CUSTOMERS_TABLE", min_length=3)]
    transactions_table: Annotated[str, Field(alias="RISK_TRANSACTIONS_TABLE", min_length=3)]


class RiskExplainSettings(ModelServingSettings):
    customers_table: Annotated[str, Field(alias="RISK_CUSTOMERS_TABLE", min_length=3)]


class RiskIngestSettings(InterventionPolicy, ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    customers_table: Annotated[str, Field(alias="RISK_CUSTOMERS_TABLE", min_length=3)]
    transactions_table: Annotated[str, Field(alias="RISK_TRANSACTIONS_TABLE", min_length=3)]
    interventions_table: Annotated[str, Field(alias="INTERVENTIONS_TABLE", min_length=3)]
    counters_table: Annotated[str, Field(alias="RISK_COUNTERS_TABLE", min_length=3)]


class DeliverySettings(FunctionSettings):
    interventions_table: Annotated[str, Field(alias="INTERVENTIONS_TABLE", min_length=3)]
    app_push_topic_arn: Annotated[str, Field(alias="APP_PUSH_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")]
    sender_email: Annotated[str, Field(alias="SENDER_EMAIL", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = DEFAULT_SENDER_EMAIL
    # TRAI's DLT registration, sent with SMS to +91 numbers (digits; empty: not registered, not sent).
    sms_entity_id: Annotated[str, Field(alias="SMS_ENTITY_ID", pattern=r"^\d*$")] = ""
    sms_template_id: Annotated[str, Field(alias="SMS_TEMPLATE_ID", pattern=r"^\d*$")] = ""
