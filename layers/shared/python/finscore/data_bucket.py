"""Data access of the data bucket, shared by batch scoring, transaction ingest and the local seed.

Every SDK error becomes ServiceUnavailable, so that a queue message is retried (and, after the
queue's receive limit, kept in its dead-letter queue) and an API request answers 503.
"""

from __future__ import annotations

import io
import json
from typing import Any, Iterable

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable

NOT_FOUND_CODES = ("NoSuchKey", "404", "NotFound")
# S3's smallest multipart part (except the last); outputs are streamed in parts this size or larger.
MULTIPART_MIN_BYTES = 8 * 1024 * 1024


class DataBucket:
    """Objects of the data bucket: dropped files, scored outputs, chunk parts, reports and manifests."""

    def __init__(self, bucket: str):
        self.bucket = bucket

    def head(self, key: str) -> tuple[int, str]:
        """The object's size and ETag (without quotes)."""
        try:
            answer = client("s3").head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"Cannot read s3://{self.bucket}/{key}: {exc}") from exc
        return int(answer["ContentLength"]), answer.get("ETag", "").strip('"')

    def read(self, key: str, start: int | None = None, end: int | None = None,
             etag: str | None = None) -> tuple[bytes, str]:
        """The object's bytes (or bytes START..END-1) and its ETag; with ETAG, only that version of it
        (a file replaced while its chunks are scored fails them rather than mixing two files)."""
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
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
            raise ServiceUnavailable(f"Cannot read s3://{self.bucket}/{key}: {exc}") from exc

    def read_json(self, key: str) -> dict[str, Any] | None:
        """A JSON document, or None when there is none."""
        try:
            return json.loads(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
                return None
            raise ServiceUnavailable(f"Cannot read s3://{self.bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"Cannot read s3://{self.bucket}/{key}: {exc}") from exc

    def write(self, key: str, body: bytes, content_type: str) -> None:
        try:
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable(f"Cannot write s3://{self.bucket}/{key}: {exc}") from exc

    def write_json(self, key: str, document: Any) -> None:
        self.write(key, json.dumps(document, indent=2, ensure_ascii=False).encode(), "application/json")

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
                        upload_id = s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                               ContentType=content_type)["UploadId"]
                    uploaded.append(self._upload_part(key, upload_id, len(uploaded) + 1, pending.getvalue()))
                    pending = io.BytesIO()
            if upload_id is None:
                s3.put_object(Bucket=self.bucket, Key=key, Body=pending.getvalue(), ContentType=content_type)
                return
            if pending.tell():
                uploaded.append(self._upload_part(key, upload_id, len(uploaded) + 1, pending.getvalue()))
            s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                         MultipartUpload={"Parts": uploaded})
        except (ClientError, BotoCoreError) as exc:
            if upload_id is not None:
                self._abort(key, upload_id)
            raise ServiceUnavailable(f"Cannot write s3://{self.bucket}/{key}: {exc}") from exc
        except BaseException:
            # The parts' producer failed (a scoring error): no half-written object may stay behind.
            if upload_id is not None:
                self._abort(key, upload_id)
            raise

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        answer = client("s3").upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                          Body=body)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            client("s3").abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            # The bucket's lifecycle rule for incomplete uploads removes what an abort could not.
            pass
