"""Custom models: a user's own table trained through the shared pipeline (SPEC §2.6).

    from training.custom import CustomProduct, load_custom_data, train_custom_model
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products.custom.definition import CustomDefinition
from finscore.records import RowReject
from training.custom.data import load_custom_data
from training.custom.product import CustomProduct
from training.custom.profiling import CustomTableError
from training.pipeline import DEFAULT_TOLERANCE, TrainingDataError, TrainingResult, train_product

__all__ = ["CustomProduct", "CustomTableError", "CustomTraining", "load_custom_data", "train_custom_model"]


@dataclass(frozen=True)
class CustomTraining:
    """One training run of a custom model: the pipeline's result and every rejected row by file and row."""

    result: TrainingResult
    rejects: list[RowReject]
    product: CustomProduct


def train_custom_model(definition: CustomDefinition, *, data_bucket: str, store: ModelStore, registry: ModelRegistry,
                       seed: int = 7, tolerance: float = DEFAULT_TOLERANCE, progress: bool = False,
                       config: dict[str, Any] | None = None, actor: str = "promotion gate") -> CustomTraining:
    """Train DEFINITION on its files in DATA_BUCKET, publish, register and run the promotion gate.

    Raises CustomTableError (its `reasons`) when the table cannot train the definition and
    TrainingDataError when there are no files or too few valid rows."""
    data = load_custom_data(data_bucket, definition)
    if data is None:
        raise TrainingDataError(f"{definition.key}: no files under s3://{data_bucket}/{definition.data_prefix}")
    product = CustomProduct(definition, data)
    result = train_product(product, store=store, registry=registry, data=product.records, reference=product.reference,
                           seed=seed, tolerance=tolerance, progress=progress, config=config, actor=actor)
    return CustomTraining(result, product.rejects(), product)
