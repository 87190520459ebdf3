"""A dropped file is taken in once per ETag with a report of every row, whatever the product's intake."""

from __future__ import annotations

from dataclasses import dataclass, field

from finscore.aws import client
from finscore.ingest_files import ingest_file
from finscore.s3 import Bucket

PREFIX, REPORTS = "ingest/things/", "ingest/things-reports/"


@dataclass
class Issue:
    index: int
    fields: list[str]
    reason: str


@dataclass
class Taken:
    received: int
    inserted: int = 0
    duplicates: int = 0
    invalid: list[Issue] = field(default_factory=list)


def intake(seen: list):
    """Takes records with a positive amount, once per id; refuses the rest by field."""
    stored = set()

    def take(records, numbers):
        seen.append((records, numbers))
        result = Taken(received=len(records))
        for record, number in zip(records, numbers):
            if float(record.get("amount") or 0) <= 0:
                result.invalid.append(Issue(number, ["amount"], "must be positive"))
            elif record["id"] in stored:
                result.duplicates += 1
            else:
                stored.add(record["id"])
                result.inserted += 1
        return result, {"ids": sorted(stored)}

    return take


def test_a_file_is_reported_row_by_row_once_per_etag(aws):
    bucket = Bucket(aws["DATA_BUCKET"])
    key = f"{PREFIX}day one.csv"
    client("s3").put_object(Bucket=bucket.name, Key=key, Body=b"id,amount\na,1\nb,-2\nc,3,extra\na,4\n")
    seen = []
    take = intake(seen)

    report = ingest_file(bucket, key, PREFIX, REPORTS, take)

    assert bucket.read_json(f"{REPORTS}day one.csv.json") == report
    assert (report["rows"], report["inserted_count"], report["duplicate_count"], report["ids"]) == (4, 1, 1, ["a"])
    assert [(row["row"], row["fields"]) for row in report["invalid_records"]] == [(2, ["amount"]), (3, ["row"])]
    assert ingest_file(bucket, key, PREFIX, REPORTS, take) == {**report, "skipped": True}
    assert len(seen) == 1


def test_an_unreadable_file_is_one_rejected_row_with_the_intakes_counts(aws):
    bucket = Bucket(aws["DATA_BUCKET"])
    key = f"{PREFIX}notes.docx"
    client("s3").put_object(Bucket=bucket.name, Key=key, Body=b"not a table")

    report = ingest_file(bucket, key, PREFIX, REPORTS, intake([]))

    assert (report["rows"], report["inserted_count"], report["ids"]) == (0, 0, [])
    assert report["invalid_records"][0]["row"] == 0 and report["invalid_records"][0]["fields"] == ["file"]
    assert ".docx" in report["invalid_records"][0]["reason"]
