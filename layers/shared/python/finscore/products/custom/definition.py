"""What a user declares about their own table: the target, the task and the columns' roles (pydantic,
serving-safe). A custom model is a product declared by this data, not by code: its model store prefix
and registry name are `model_key(name)`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from finscore import resources

NAME_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
# Where a custom model's training files live in the data bucket unless its definition says otherwise.
DATA_PREFIX = resources.CUSTOM_TRAINING_PREFIX
# The retrain function reads training files under this prefix only, so a definition's own prefix is there.
TRAINING_PREFIX = "training/"
# Custom models share the model store and registry with the built-in products under this prefix, so a
# user's name can never be taken for a built-in product's.
MODEL_KEY_PREFIX = resources.CUSTOM_MODEL_KEY_PREFIX

ColumnName = Annotated[str, Field(min_length=1, max_length=128)]


def model_key(name: str) -> str:
    """The product name of custom model NAME in the model store and the model registry."""
    return f"{MODEL_KEY_PREFIX}{name}"


class CustomDefinition(BaseModel):
    """A custom model: the table's target and task, and what the user says about its columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME_PATTERN, description="Lowercase letters, digits and '-', 2-40 "
                                                                   "characters, starting with a letter")]
    target: Annotated[ColumnName, Field(description="The column to predict")]
    task: Annotated[Literal["binary", "regression"], Field(description="binary: a yes/no outcome with a "
                                                                         "probability; regression: a number")]
    positive_class: Annotated[str | int | float | bool | None, Field(
        description="binary: the target value that counts as positive (default: 1 / true / yes)")] = None
    id_column: Annotated[ColumnName | None, Field(description="Identifies rows; never a feature")] = None
    exclude: Annotated[list[ColumnName], Field(description="Columns never used as features")] = []
    monotone: Annotated[dict[ColumnName, Literal[1, -1]], Field(
        description="column -> 1 (the score never falls as it rises) or -1 (never rises)")] = {}
    as_of_column: Annotated[ColumnName | None, Field(
        description="The date each row was observed: the split is by time (oldest rows train, newest test)")] = None
    data: Annotated[str | None, Field(min_length=1, max_length=512,
                                      description="Key prefix of the training files in the data bucket")] = None
    allow: Annotated[list[ColumnName], Field(
        description="Columns the leakage guard keeps even when it flags them (the user's override)")] = []

    # Each check sits on the later of the fields it compares, so that pydantic names that field.
    @field_validator("positive_class")
    @classmethod
    def _binary_only(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("task") != "binary":
            raise ValueError("only a binary task has a positive class")
        return value

    @field_validator("id_column", "as_of_column")
    @classmethod
    def _not_the_target(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("target"):
            raise ValueError(f"names the target {value!r}")
        if value is not None and info.field_name == "as_of_column" and value == info.data.get("id_column"):
            raise ValueError(f"{value!r} is the id_column")
        return value

    @field_validator("exclude", "allow")
    @classmethod
    def _not_a_role(cls, columns: list[str], info: ValidationInfo) -> list[str]:
        _refuse_roles(columns, info, ("target", "id_column") if info.field_name == "exclude"
                      else ("target", "id_column", "exclude"))
        return columns

    @field_validator("monotone")
    @classmethod
    def _constrains_features(cls, monotone: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        _refuse_roles(list(monotone), info, ("target", "id_column", "exclude"))
        return monotone

    @field_validator("data")
    @classmethod
    def _inside_the_bucket(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/")):
            raise ValueError("a key prefix inside the data bucket, without a leading '/' or '..'")
        if value is not None and not value.startswith(TRAINING_PREFIX):
            raise ValueError(f"a key prefix under {TRAINING_PREFIX} of the data bucket, where training reads")
        return value

    @model_validator(mode="after")
    def _features_only(self) -> CustomDefinition:
        # as_of_column comes after monotone and exclude: checked once every field is known.
        if self.as_of_column and (self.as_of_column in self.monotone or self.as_of_column in self.allow):
            raise ValueError(f"as_of_column: {self.as_of_column!r} orders the split and is not a feature, so it "
                             "cannot be in monotone or allow")
        return self

    @property
    def key(self) -> str:
        return model_key(self.name)

    @property
    def data_prefix(self) -> str:
        """The key prefix the training files are read from."""
        if self.data is None:
            return f"{DATA_PREFIX}{self.name}/"
        return self.data if self.data.endswith("/") else f"{self.data}/"

    def roles(self) -> dict[str, str]:
        """Columns the user took out of the features, with the reason."""
        reasons = {column: "excluded by the definition" for column in self.exclude}
        if self.id_column:
            reasons[self.id_column] = "the id column: it identifies rows, it does not describe them"
        if self.as_of_column:
            reasons[self.as_of_column] = "the as-of column: it orders the split by time and is not a feature"
        return reasons


def _refuse_roles(columns: list[str], info: ValidationInfo, roles: tuple[str, ...]) -> None:
    """ValueError when COLUMNS name a column the earlier fields ROLES gave another role."""
    for role in roles:
        taken = info.data.get(role)
        taken = set(taken) if isinstance(taken, list) else {taken} if taken else set()
        clash = sorted(set(columns) & taken)
        if clash:
            raise ValueError(f"{', '.join(map(repr, clash))} is the {role}" if role != "exclude"
                             else f"{', '.join(map(repr, clash))} is excluded")
