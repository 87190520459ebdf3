"""The scored batch files of the data bucket, as the dashboard's batch page lists them."""

from __future__ import annotations

import csv
import io

from finscore.batch.files import MANIFEST_NAME, REJECTS_NAME, SCORED_PREFIX
from finscore.platform.schemas import BatchFile, BatchFilesResponse, BatchReject
from finscore.s3 import Bucket

# A listing names this many rejects per file: enough to see what went wrong, small enough to page through
# files; the manifest counts all of them and rejects.csv holds every one.
REJECTS_SHOWN = 20


def _rejects(bucket: Bucket, key: str) -> list[BatchReject]:
    body = bucket.read_if_present(key)
    if not body:
        return []
    rows = csv.DictReader(io.StringIO(body.decode("utf-8", errors="replace")))
    shown = []
    for row in rows:
        if len(shown) == REJECTS_SHOWN:
            break
        try:
            shown.append(BatchReject(row=int(row.get("row") or 0), reason=row.get("reason") or ""))
        except ValueError:
            continue
    return shown


def list_scored_files(bucket_name: str, products: list[str], limit: int) -> BatchFilesResponse:
    """The LIMIT most recently finished scored files of PRODUCTS, each with its manifest and first rejects."""
    bucket = Bucket(bucket_name)
    manifests = []
    for product in products:
        for key in bucket.keys(f"{SCORED_PREFIX}{product}/"):
            if key.endswith("/" + MANIFEST_NAME):
                manifests.append((product, key))
    found = []
    for product, key in manifests:
        manifest = bucket.read_json(key)
        if isinstance(manifest, dict):
            folder = key[: -len(MANIFEST_NAME)]
            found.append((product, folder[len(f"{SCORED_PREFIX}{product}/"):].rstrip("/"), folder, manifest))
    found.sort(key=lambda item: str(item[3].get("finished_at") or ""), reverse=True)
    return BatchFilesResponse(files=[
        BatchFile(product=product, name=name, manifest=manifest,
                  rejects=_rejects(bucket, str((manifest.get("outputs") or {}).get("rejects") or folder + REJECTS_NAME)))
        for product, name, folder, manifest in found[:limit]
    ])
