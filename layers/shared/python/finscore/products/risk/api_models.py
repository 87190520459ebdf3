"""Request and response models of the risk routes; they drive validation and the OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from finscore.products.risk.records import CATEGORIES, DIRECTIONS, TXN_CHANNELS, CustomerId

RiskLevel = Literal["low", "medium", "high", "critical"]
Channel = Literal["sms", "email", "app"]
ContactView = Literal["masked", "full"]
Language = Literal["en", "hi"]
InterventionStatus = Literal["queued", "sending", "sent", "delivered", "failed", "responded"]
Outcome = Literal["delivered", "failed", "responded"]
CustomerResponse = Literal[
    "promised_to_pay", "paid", "requested_callback", "requested_restructuring", "declined", "other"
]
FeatureValue = Annotated[float, Field(allow_inf_nan=False)]
MAX_BATCH_RECORDS = 1_000
MAX_TRANSACTIONS_PER_REQUEST = 5_000


class _Request(BaseModel):
    # Unknown fields are refused: a misspelt field would otherwise be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreRequest(_Request):
    """Score a customer from the feature store by id, or score raw behavioural features."""

    customer_id: Annotated[CustomerId | None, Field(description="Score this customer's stored features "
                                                    "(the score is saved on the customer)", examples=["C000042"])] = None
    features: Annotated[
        dict[str, FeatureValue] | None,
        Field(description="Every feature of the champion's manifest by name (GET /v1/models/risk lists them); "
              "the score is not stored"),
    ] = None
    as_of: Annotated[date | None, Field(
        description="With customer_id: score the customer as of this date (ISO), from their transactions up to it; "
                    "silence since counts. Not stored and never triggers an intervention. Default: today, with "
                    "the stored features (recomputed when older than FEATURES_MAX_AGE_HOURS). Before the "
                    "customer's first transaction: 422", examples=["2025-10-28"])] = None

    @model_validator(mode="after")
    def _one_source(self) -> "ScoreRequest":
        if (self.customer_id is None) == (self.features is None):
            raise ValueError("give exactly one of customer_id or features")
        if self.as_of is not None and self.customer_id is None:
            raise ValueError("as_of applies to a customer_id: raw features are scored as given")
        return self


class ScoreResponse(BaseModel):
    customer_id: Annotated[str | None, Field(description="The customer scored; null for raw features")] = None
    probability: Annotated[float, Field(ge=0, le=1, description="Calibrated probability of delinquency")]
    risk_score: Annotated[float, Field(ge=0, le=100, description="100 x probability, one decimal")]
    risk_level: Annotated[RiskLevel, Field(description="low | medium | high | critical at the cut-offs")]
    cutoffs: Annotated[list[float], Field(description="Lower bounds of medium, high and critical in use")]
    model_version: Annotated[str, Field(description="Champion version that scored")]
    scored_at: Annotated[str, Field(description="When it was scored (ISO 8601, UTC)")]
    as_of: Annotated[str | None, Field(description="The date the customer's features were computed as of; null for "
                                                   "raw features")] = None
    intervention_id: Annotated[str | None, Field(description="Intervention created automatically by this score "
                                                 "(critical level, or score >= AUTO_TRIGGER_THRESHOLD when set; outside the cool-down)")] = None


class BatchScoreRequest(_Request):
    records: Annotated[
        list[dict[str, Any]],
        Field(min_length=1, max_length=MAX_BATCH_RECORDS,
              description="Up to 1,000 records, each {customer_id} or {features}; a bad record fails alone"),
    ]


class FieldIssueModel(BaseModel):
    field: Annotated[str, Field(description="The field at fault")]
    issue: Annotated[str, Field(description="What is wrong with it")]


class RecordError(BaseModel):
    index: Annotated[int, Field(description="0-based position of the record in the request")]
    code: Annotated[str, Field(description="validation_failed | not_found")]
    message: str
    details: list[FieldIssueModel] = []


class BatchScoreResult(BaseModel):
    index: Annotated[int, Field(description="0-based position of the record in the request")]
    customer_id: str | None = None
    probability: float
    risk_score: float
    risk_level: RiskLevel
    intervention_id: str | None = None


class BatchScoreResponse(BaseModel):
    model_version: str
    scored: Annotated[int, Field(description="Records scored")]
    failed: Annotated[int, Field(description="Records that failed; each is listed in errors")]
    results: list[BatchScoreResult]
    errors: list[RecordError]


class LatestScore(BaseModel):
    probability: float
    risk_score: float
    risk_level: RiskLevel
    model_version: str
    scored_at: str


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    city: str | None = None
    risk_score: Annotated[float | None, Field(description="Latest score, null if never scored")] = None
    risk_level: RiskLevel | None = None
    scored_at: str | None = None


class CustomerListResponse(BaseModel):
    customers: list[CustomerSummary]
    next_cursor: Annotated[str | None, Field(description="Pass as cursor for the next page; null at the end")] = None


class CustomerDetail(BaseModel):
    customer_id: str
    name: str
    age: int | None = None
    city: str | None = None
    phone: Annotated[str | None, Field(description="Masked unless contact=full was asked by a key with the "
                                                   "customer-data scope")] = None
    email: Annotated[str | None, Field(description="Masked unless contact=full was asked by a key with the "
                                                   "customer-data scope")] = None
    contact: Annotated[ContactView, Field(description="Whether phone and email are masked or in full")] = "masked"
    preferred_language: Language | None = None
    preferred_channel: Channel | None = None
    monthly_income: float | None = None
    credit_limit: float | None = None
    opened_at: str | None = None
    features: Annotated[dict[str, float], Field(description="Behavioural features from the feature store")] = {}
    features_as_of: Annotated[str | None, Field(description="Date the features were computed as of (nothing after "
                                                            "it is used; they are recomputed when older than "
                                                            "FEATURES_MAX_AGE_HOURS)")] = None
    last_transaction_at: Annotated[str | None, Field(description="Date of the customer's latest transaction")] = None
    transaction_count: Annotated[int | None, Field(description="Transactions the features were computed from")] = None
    latest_score: LatestScore | None = None
    last_intervention_id: str | None = None
    last_intervention_at: str | None = None


class Transaction(BaseModel):
    txn_id: str
    date: str
    amount: float
    direction: Literal[DIRECTIONS]  # type: ignore[valid-type]
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    channel: Literal[TXN_CHANNELS]  # type: ignore[valid-type]
    balance_after: float


class TransactionsPage(BaseModel):
    customer_id: str
    transactions: Annotated[list[Transaction], Field(description="Newest first")]
    next_cursor: str | None = None


class RowRejectModel(BaseModel):
    index: Annotated[int, Field(description="0-based position of the transaction in the request")]
    reason: Annotated[str, Field(description="The fields at fault and why")]


class CustomerScoreUpdate(BaseModel):
    customer_id: str
    risk_score: float
    risk_level: RiskLevel
    intervention_id: str | None = None


class TransactionsIngestResponse(BaseModel):
    received: int
    stored: int
    rejected: int
    customers_updated: Annotated[int, Field(description="Customers whose features were recomputed and rescored")]
    model_version: str | None = None
    rejects: Annotated[list[RowRejectModel], Field(description="Every rejected transaction with its reason")]
    scores: Annotated[list[CustomerScoreUpdate], Field(description="New score of every updated customer")]


class HighRiskCustomer(BaseModel):
    customer_id: str
    name: str
    city: str | None = None
    risk_score: float
    risk_level: RiskLevel
    probability: float | None = None
    scored_at: str | None = None
    model_version: str | None = None


class HighRiskResponse(BaseModel):
    min_level: RiskLevel
    min_score: Annotated[float, Field(description="The min_level's lower bound at the cut-offs in use")]
    customers: Annotated[list[HighRiskCustomer], Field(description="Highest score first")]
    next_cursor: str | None = None


class InterventionRequest(_Request):
    customer_id: Annotated[CustomerId, Field(description="Customer to contact", examples=["C000042"])]
    channel: Annotated[Channel | None, Field(description="sms | email | app; the customer's preferred channel "
                                             "when omitted")] = None
    language: Annotated[Language | None, Field(description="en | hi; the customer's preferred language when "
                                               "omitted")] = None
    message: Annotated[str | None, Field(min_length=1, max_length=1000, description="Own text instead of the "
                                         "generated message for the customer's risk level")] = None


class HistoryEntry(BaseModel):
    status: InterventionStatus
    at: str
    note: str | None = None
    provider_message_id: str | None = None
    response: CustomerResponse | None = None


class Intervention(BaseModel):
    intervention_id: str
    customer_id: str
    channel: Channel
    language: Language
    trigger: Annotated[Literal["manual", "auto"], Field(description="manual (this API) or auto (a score at or "
                                                         "above the threshold)")]
    status: InterventionStatus
    risk_level: RiskLevel | None = None
    risk_score: float | None = None
    subject: Annotated[str | None, Field(description="Email subject or push title")] = None
    message: str
    destination: Annotated[str, Field(description="Masked phone, email or the app topic")]
    sms_segments: int | None = None
    provider_message_id: str | None = None
    response: CustomerResponse | None = None
    created_at: str
    updated_at: str
    history: Annotated[list[HistoryEntry], Field(description="Every status with its time, oldest first")]


class InterventionPage(BaseModel):
    interventions: list[Intervention]
    next_cursor: str | None = None


class OutcomeRequest(_Request):
    status: Annotated[Outcome, Field(description="delivered | failed (delivery) or responded (the customer's "
                                     "answer); transitions follow queued -> sent -> delivered | failed -> responded")]
    note: Annotated[str | None, Field(max_length=500, description="Free text for the history")] = None
    response: Annotated[CustomerResponse | None, Field(description="What the customer answered (with "
                                                       "status responded)")] = None

    @model_validator(mode="after")
    def _response_only_when_responded(self) -> "OutcomeRequest":
        if self.response is not None and self.status != "responded":
            raise ValueError("response is only recorded with status responded")
        return self


class MessageRequest(_Request):
    risk_level: Annotated[RiskLevel | None, Field(description="Level to write for; the customer's latest level "
                                                  "when customer_id is given")] = None
    customer_id: Annotated[CustomerId | None, Field(description="Take level, name, language and channel from "
                                                    "this customer")] = None
    channel: Annotated[Channel | None, Field(description="sms | email | app (default: the customer's, else sms)")] = None
    language: Annotated[Language | None, Field(description="en | hi (default: the customer's, else en)")] = None
    customer_name: Annotated[str | None, Field(min_length=1, max_length=200, description="Name for the "
                                               "greeting")] = None

    @model_validator(mode="after")
    def _level_or_customer(self) -> "MessageRequest":
        if self.risk_level is None and self.customer_id is None:
            raise ValueError("give risk_level or customer_id")
        return self


class MessageResponse(BaseModel):
    risk_level: RiskLevel
    channel: Channel
    language: Language
    subject: Annotated[str | None, Field(description="Email subject or push title")] = None
    text: str
    characters: int
    encoding: Annotated[Literal["GSM-7", "UCS-2"] | None, Field(description="SMS encoding")] = None
    segments: Annotated[int | None, Field(description="SMS segments: GSM-7 160/153, UCS-2 70/67 characters")] = None


class ModelSummary(BaseModel):
    version: str
    primary_metric: str
    metrics: Annotated[dict[str, Any], Field(description="Held-out metrics of the champion")]
    cutoffs: list[float]


class MetricsResponse(BaseModel):
    customers_by_level: dict[str, int]
    customers_by_score_band: Annotated[dict[str, int], Field(
        description="Scored customers per 10-point score band, \"0-10\" to \"90-100\" (the last includes 100)")] = {}
    scored_customers: int
    interventions_by_status: dict[str, int]
    interventions_by_channel: dict[str, int]
    interventions_enabled: bool
    auto_trigger_threshold: Annotated[float | None, Field(
        description="Score that auto-triggers an intervention; null: reaching the critical level does")]
    model: ModelSummary | None = None


class ReasonCodeModel(BaseModel):
    code: Annotated[str, Field(description="Reason code, e.g. R16")]
    feature: Annotated[str, Field(description="The feature the reason is about")]
    value: Annotated[float, Field(description="The customer's value of the feature")]
    reference: Annotated[float, Field(description="What the value is compared with: the value the statement "
                                                  "implies, or the training population's median")]
    direction: Annotated[int, Field(description="+1: the value is above the reference, which raises risk; -1: below")]
    impact: Annotated[float, Field(description="SHAP contribution in log-odds (adverse: > 0)")]
    text: Annotated[str, Field(description="The statement, rendered from the value and the reference")]


class ExplanationResponse(BaseModel):
    customer_id: str
    model_version: str
    risk_score: float | None = None
    risk_level: RiskLevel | None = None
    base_value: Annotated[float, Field(description="Model's expected log-odds before contributions")]
    contributions: Annotated[dict[str, float], Field(description="SHAP contribution of every feature (log-odds)")]
    reasons: Annotated[list[ReasonCodeModel], Field(description="Up to 4 adverse reasons that hold for the customer, "
                                                              "largest impact first")]
