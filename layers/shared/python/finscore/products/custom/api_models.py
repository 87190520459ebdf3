"""Request and response shapes of the custom-model routes (functions/custom_api)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_SCORE_RECORDS = 1_000


class CustomModelRequest(BaseModel):
    """PUT /v1/custom-models/{name}: the definition, without the name the path gives."""

    model_config = ConfigDict(extra="forbid")

    target: Annotated[str, Field(min_length=1, max_length=128, description="The column to predict")]
    task: Annotated[Literal["binary", "regression"], Field(description="binary: a yes/no outcome with a "
                                                                         "probability; regression: a number")]
    positive_class: Annotated[str | int | float | bool | None, Field(
        description="binary: the target value that counts as positive (default: 1 / true / yes)")] = None
    id_column: Annotated[str | None, Field(min_length=1, max_length=128,
                                           description="Identifies rows; never a feature")] = None
    exclude: Annotated[list[str], Field(max_length=1000, description="Columns never used as features")] = []
    monotone: Annotated[dict[str, Literal[1, -1]], Field(
        description="column -> 1 (the score never falls as it rises) or -1 (never rises)")] = {}
    as_of_column: Annotated[str | None, Field(min_length=1, max_length=128, description=(
        "The date each row was observed: the split is by time (oldest rows train, newest test)"))] = None
    data: Annotated[str | None, Field(min_length=1, max_length=512, description=(
        "Key prefix of the training files in the data bucket (default training/custom/<name>/)"))] = None
    allow: Annotated[list[str], Field(max_length=1000, description=(
        "Columns the leakage guard keeps even when it flags them (the user's override)"))] = []


class CustomRetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: Annotated[int, Field(ge=0, description="Seed of the split and the fit")] = 7


class TrainingAccepted(BaseModel):
    name: str
    training_id: Annotated[str, Field(description="Id of the training run; GET /v1/custom-models/{name} "
                                                  "follows it")]
    status: Literal["queued"] = "queued"
    data: Annotated[str, Field(description="Where the training files are read from")]


class FileStored(BaseModel):
    name: str
    key: Annotated[str, Field(description="Where the file is in the data bucket")]
    bytes: int


class Reason(BaseModel):
    model_config = ConfigDict(extra="allow")

    issue: str
    field: Annotated[str | None, Field(description="The column it is about, if any")] = None
    row: Annotated[int | None, Field(description="The row of its file it is about (1 = first data row)")] = None
    file: str | None = None


class CustomModelStatus(BaseModel):
    """A custom model: its definition, the state of its last run and what its champion is."""

    model_config = ConfigDict(extra="allow")

    name: str
    status: Annotated[str, Field(description="queued | training | ready | failed | retired")]
    definition: dict[str, Any]
    training_id: str | None = None
    created_at: str
    updated_at: str
    reasons: Annotated[list[Reason], Field(description="Why the last run failed, or the rows it rejected "
                                                       "(the first 50; rejected_rows counts them all)")] = []
    rejected_rows: int = 0
    model_key: Annotated[str, Field(description="Its name in the model store and registry "
                                                "(/v1/models/... and batch files use the custom-models routes)")]
    champion_version: str | None = None
    last_run: Annotated[dict[str, Any], Field(description="The last finished run: version, promotion "
                                                          "decision, timings")] = {}
    model: Annotated[dict[str, Any], Field(description="The champion's chosen model, inferred schema, "
                                                       "column report, leakage report, held-out metrics "
                                                       "of the chosen model and of the baseline on the same "
                                                       "rows, calibration and importance")] = {}


class CustomModelList(BaseModel):
    models: list[CustomModelStatus]


class CustomScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: Annotated[list[Any], Field(min_length=1, max_length=MAX_SCORE_RECORDS,
                                        description="Up to 1,000 records (columns of the table by name); a bad "
                                                    "record fails alone")]


class ScoreReason(BaseModel):
    feature: str
    value: Any = None
    reference: Any = None
    effect: float
    text: str


class CustomScore(BaseModel):
    index: Annotated[int, Field(description="0-based position of the record in the request")]
    id: Any = None
    probability: Annotated[float | None, Field(description="binary: calibrated probability of the "
                                                           "positive class")] = None
    decision: Annotated[bool | None, Field(description="binary: probability >= the threshold chosen on "
                                                       "validation")] = None
    value: Annotated[float | None, Field(description="regression: the predicted target")] = None
    reasons: list[ScoreReason]


class FieldIssueModel(BaseModel):
    field: str
    issue: str


class RecordError(BaseModel):
    index: int
    code: Literal["validation_failed"] = "validation_failed"
    message: str
    details: list[FieldIssueModel]


class CustomScoreResponse(BaseModel):
    name: str
    model_version: str
    threshold: float | None = None
    scored: int
    failed: int
    results: list[CustomScore]
    errors: list[RecordError]
