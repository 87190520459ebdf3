"""A file dropped under a product's ingest prefix: taken in once per ETag, with a report of every row.

The report goes under the product's reports prefix, named after the file (never under the ingest
prefix, where it would be taken in again): the source and its ETag, the rows read, what the product's
intake inserted and found already stored, the intake's own counts, and `invalid_records`: each
rejected row with its number in the file, its fields and the reason. A file that cannot be read at
all is one rejected row 0, and the same file put again is skipped.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from finscore.s3 import Bucket


class RowIssue(Protocol):
    index: int
    fields: list[str]
    reason: str


class Intake(Protocol):
    """What a product's intake of records tells of them."""

    received: int
    inserted: int
    duplicates: int
    invalid: Sequence[RowIssue]


# A product's intake: the file's records and each one's row number -> what it did, and its own counts.
TakeRecords = Callable[[list[dict[str, Any]], list[int]], tuple[Intake, dict[str, Any]]]


def report_key(key: str, prefix: str, reports_prefix: str) -> str:
    """Where the report of the file KEY (under PREFIX) goes: under REPORTS_PREFIX, by its name."""
    name = key[len(prefix):] if key.startswith(prefix) else key
    return f"{reports_prefix}{name}.json"


def ingest_file(bucket: Bucket, key: str, prefix: str, reports_prefix: str, take: TakeRecords) -> dict[str, Any]:
    """Take in the file KEY with TAKE once per ETag; writes its report and returns it."""
    from finscore.tabular import UnsupportedFile, read_file

    body, etag = bucket.read(key)
    target = report_key(key, prefix, reports_prefix)
    previous = bucket.read_json(target)
    if previous and previous.get("etag") == etag:
        return {**previous, "skipped": True}
    try:
        rows = read_file(key, body)
    except UnsupportedFile as exc:
        _, counts = take([], [])
        report = {"source": key, "etag": etag, "rows": 0, "inserted_count": 0, "duplicate_count": 0, **counts,
                  "invalid_records": [{"row": 0, "fields": ["file"], "reason": str(exc)}]}
        bucket.write_json(target, report)
        return report
    result, counts = take(rows.as_records(), rows.numbers.tolist())
    unparsed = [{"row": reject.row, "fields": ["row"], "reason": reject.reason} for reject in rows.rejects]
    invalid = sorted(unparsed + [{"row": issue.index, "fields": issue.fields, "reason": issue.reason}
                                 for issue in result.invalid], key=lambda reject: reject["row"])
    report = {"source": key, "etag": etag, "rows": result.received + len(rows.rejects),
              "inserted_count": result.inserted, "duplicate_count": result.duplicates, **counts,
              "invalid_records": invalid}
    bucket.write_json(target, report)
    return report
