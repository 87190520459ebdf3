"""Environment settings of the batch scoring function, validated at cold start."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from finscore.settings import ModelServingSettings

MIB = 1024 * 1024


class BatchSettings(ModelServingSettings):
    data_bucket: Annotated[str, Field(alias="DATA_BUCKET", min_length=3)]
    # Files larger than this fan out over chunks: a 3 GB function holds a 256 MiB CSV, its parsed
    # table and its output at once with room to spare.
    fanout_bytes: Annotated[int, Field(alias="BATCH_FANOUT_BYTES", ge=1)] = 256 * MIB
    # Size of one chunk of a fanned-out file; unset, a quarter of the fan-out size (at least one byte).
    chunk_bytes: Annotated[int | None, Field(alias="BATCH_CHUNK_BYTES", ge=1)] = None
    # Unset (the local run): a large file's plan, chunks and join run in this process instead.
    state_machine_arn: Annotated[str | None, Field(alias="BATCH_STATE_MACHINE_ARN")] = None

    @property
    def chunk_size(self) -> int:
        return self.chunk_bytes or max(self.fanout_bytes // 4, 1)
