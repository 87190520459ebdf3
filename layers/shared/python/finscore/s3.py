"""S3 access for every part of FinScore: the model store, dropped files, batch outputs, drift and training data.

One class per bucket. Listing pages through boto3's paginator, large outputs go up in multipart
pieces, reads may be ranged and pinned to an ETag. Every SDK error becomes ServiceUnavailable, so
that a queue message is retried (and, after the queue's receive limit, kept in its dead-letter
queue) and an API request answers 503; a missing object is None where a caller asks for "maybe".
"""

from __future__ import annotations

import io
import json
from typing import Any, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable
from finscore.resources import HEALTH_PROBE_PREFIX

NOT_FOUND_CODES = ("NoSuchKey", "404", "NotFound")
# S3's smallest multipart part (except the last); outputs are streamed in parts this size or larger.
MULTIPART_MIN_BYTES = 8 * 1024 * 1024
JSON_TYPE = "application/json"


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES


class Bucket:
    """The objects of one bucket."""

    def __init__(self, name: str):
        self.name = name

    def _unavailable(self, verb: str, key: str, exc: Exception) -> ServiceUnavailable:
        return ServiceUnavailable(f"Cannot {verb} s3://{self.name}/{key}: {exc}")

    def check(self) -> None:
        """Raise ServiceUnavailable when the bucket cannot be reached (health checks)."""
        try:
            client("s3").list_objects_v2(Bucket=self.name, Prefix=HEALTH_PROBE_PREFIX, MaxKeys=1)
        except ClientError as exc:
            if _not_found(exc) or exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                raise ServiceUnavailable(f"Bucket {self.name} does not exist") from exc
            raise ServiceUnavailable(f"Bucket {self.name} is unreachable: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"Bucket {self.name} is unreachable: {exc}") from exc

    def head(self, key: str) -> tuple[int, str] | None:
        """The object's size and ETag (without quotes); None when there is no such object."""
        try:
            answer = client("s3").head_object(Bucket=self.name, Key=key)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise self._unavailable("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read", key, exc) from exc
        return int(answer["ContentLength"]), answer.get("ETag", "").strip('"')

    def read(self, key: str, start: int | None = None, end: int | None = None,
             etag: str | None = None) -> tuple[bytes, str]:
        """The object's bytes (or bytes START..END-1) and its ETag; with ETAG, only that version of it
        (a file replaced while its chunks are scored fails them rather than mixing two files)."""
        arguments: dict[str, Any] = {"Bucket": self.name, "Key": key}
        if etag:
            arguments["IfMatch"] = f'"{etag}"'
        if start is not None:
            if end is not None and end <= start:
                return b"", ""
            arguments["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            answer = client("s3").get_object(**arguments)
            return answer["Body"].read(), answer.get("ETag", "").strip('"')
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("read", key, exc) from exc

    def read_if_present(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        try:
            return client("s3").get_object(Bucket=self.name, Key=key)["Body"].read()
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise self._unavailable("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read", key, exc) from exc

    def etags(self, prefix: str) -> dict[str, str]:
        """The ETag (without quotes) of every object under PREFIX, by key: one listing instead of a HEAD per object."""
        arguments: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        try:
            return {item["Key"]: item.get("ETag", "").strip('"')
                    for page in client("s3").get_paginator("list_objects_v2").paginate(**arguments)
                    for item in page.get("Contents", [])}
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("list", prefix, exc) from exc

    def read_json(self, key: str) -> Any | None:
        """A JSON document, or None when there is none."""
        body = self.read_if_present(key)
        return json.loads(body) if body is not None else None

    def keys(self, prefix: str, start_after: str | None = None) -> Iterator[str]:
        """Keys under PREFIX in key order, strictly after START_AFTER when given (folders left out)."""
        arguments: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix}
        if start_after:
            arguments["StartAfter"] = start_after
        try:
            for page in client("s3").get_paginator("list_objects_v2").paginate(**arguments):
                for item in page.get("Contents", []):
                    if not item["Key"].endswith("/"):
                        yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("list", prefix, exc) from exc

    def write(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        try:
            client("s3").put_object(Bucket=self.name, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable("write", key, exc) from exc

    def write_json(self, key: str, document: Any) -> None:
        self.write(key, json.dumps(document, indent=2, ensure_ascii=False, default=str).encode(), JSON_TYPE)

    def write_parts(self, key: str, parts: Iterable[bytes], content_type: str) -> None:
        """One object from a stream of byte strings, uploaded in multipart pieces so memory stays bounded."""
        pending = io.BytesIO()
        upload_id = None
        uploaded: list[dict[str, Any]] = []
        s3 = client("s3")
        try:
            for part in parts:
                pending.write(part)
                if pending.tell() >= MULTIPART_MIN_BYTES:
                    if upload_id is None:
                        upload_id = s3.create_multipart_upload(Bucket=self.name, Key=key,
                                                               ContentType=content_type)["UploadId"]
                    uploaded.append(self._upload_part(key, upload_id, len(uploaded) + 1, pending.getvalue()))
                    pending = io.BytesIO()
            if upload_id is None:
                s3.put_object(Bucket=self.name, Key=key, Body=pending.getvalue(), ContentType=content_type)
                return
            if pending.tell():
                uploaded.append(self._upload_part(key, upload_id, len(uploaded) + 1, pending.getvalue()))
            s3.complete_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id,
                                         MultipartUpload={"Parts": uploaded})
        except (ClientError, BotoCoreError) as exc:
            if upload_id is not None:
                self._abort(key, upload_id)
            raise self._unavailable("write", key, exc) from exc
        except BaseException:
            # The parts' producer failed (a scoring error): no half-written object may stay behind.
            if upload_id is not None:
                self._abort(key, upload_id)
            raise

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        answer = client("s3").upload_part(Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=number,
                                          Body=body)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            client("s3").abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            # The bucket's lifecycle rule for incomplete uploads removes what an abort could not.
            pass


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over an S3 object by ranged GETs: Parquet readers fetch only the
    footer and the row groups they need, never the whole file."""

    def __init__(self, bucket: Bucket, key: str, size: int, etag: str | None = None):
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
