"""Data access of batch scoring beyond the data bucket's objects: ranged reads for Parquet, the state machine.

With finscore.data_bucket, the only modules batch scoring reaches boto3 through; every SDK error
becomes ServiceUnavailable so that the message is retried.
"""

from __future__ import annotations

import io
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.data_bucket import DataBucket
from finscore.errors import ServiceUnavailable


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over an S3 object by ranged GETs: Parquet readers fetch only the
    footer and the row groups they need, never the whole file."""

    def __init__(self, bucket: DataBucket, key: str, size: int, etag: str | None = None):
        super().__init__()
        self._bucket, self._key, self._size, self._position = bucket, key, size, 0
        self._etag = etag

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._position + size, self._size)
        if end <= self._position:
            return b""
        body, _ = self._bucket.read(self._key, self._position, end, self._etag)
        self._position += len(body)
        return body

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class BatchStateMachine:
    """The Step Functions state machine that fans a large file out over chunks."""

    def __init__(self, arn: str):
        self.arn = arn

    def start(self, name: str, document: dict[str, Any]) -> bool:
        """Start an execution called NAME; False when one of that name already exists (a redelivery)."""
        try:
            client("stepfunctions").start_execution(stateMachineArn=self.arn, name=name, input=json.dumps(document))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise ServiceUnavailable(f"Cannot start {self.arn}: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"Cannot start {self.arn}: {exc}") from exc
        return True
