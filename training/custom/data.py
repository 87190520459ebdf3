"""A custom model's training files: every file under its definition's data prefix (CSV, JSON Lines,
Parquet, Excel), read by the one tabular reader, one record per row, every row accounted for."""

from __future__ import annotations

from finscore.products.custom.definition import CustomDefinition
from finscore.s3 import Bucket
from training.data import TrainingData, one_record_per_row, read_training_file


def load_custom_data(bucket: str, definition: CustomDefinition) -> TrainingData | None:
    """The records of every file under DEFINITION's data prefix in BUCKET, with the rows that could not
    be parsed as rejects naming their file; None when there is no file."""
    objects = Bucket(bucket)
    keys = sorted(key for key in objects.keys(definition.data_prefix) if not key.endswith("/"))
    if not keys:
        return None
    data = one_record_per_row([read_training_file(key, objects.read(key)[0]) for key in keys])
    data.files = [f"s3://{bucket}/{key}" for key in keys]
    return data
