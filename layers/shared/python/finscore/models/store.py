"""The S3 model store: artifacts and manifest.json under s3://<models>/<product>/<version>/.

Every artifact is written before the manifest that names it, and every read is checked against the
manifest's sha256, so a half-written or tampered version can never be loaded. `verify` checks a whole
version without loading it (health, promote, rollback); it hashes an object again only when its ETag
changed, so asking often stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

from finscore.errors import ArtifactIntegrityError, FieldIssue, NotFound
from finscore.models.manifest import MANIFEST_NAME, ArtifactEntry, Manifest
from finscore.s3 import Bucket


@dataclass(frozen=True)
class Artifact:
    data: bytes
    format: str
    role: str


# Hashes remembered per (key, ETag): a few versions of every product, each a handful of artifacts.
VERIFIED_CACHE_SIZE = 256


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ModelStore:
    def __init__(self, bucket: str):
        self.bucket = bucket
        self._objects = Bucket(bucket)
        # sha256 of the object stored under (key, ETag): the same ETag is the same bytes, so a hash
        # is never computed twice for them, and a replaced object (new ETag) is hashed afresh.
        self._hashes: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._hashes_lock = threading.Lock()

    def publish(self, manifest: Manifest, artifacts: dict[str, Artifact]) -> Manifest:
        """Write ARTIFACTS, then the manifest with their checksums; returns the manifest written."""
        entries = {}
        for name, artifact in artifacts.items():
            self._put(manifest.prefix() + name, artifact.data)
            entries[name] = ArtifactEntry(
                sha256=sha256_of(artifact.data), bytes=len(artifact.data), format=artifact.format, role=artifact.role
            )
        published = manifest.model_copy(update={"artifacts": entries})
        self._put(manifest.prefix() + MANIFEST_NAME, published.model_dump_json(indent=2).encode())
        return published

    def read_manifest(self, product: str, version: str) -> Manifest:
        raw = self._get(f"{product}/{version}/{MANIFEST_NAME}")
        if raw is None:
            raise NotFound(f"No manifest for {product} version {version}")
        try:
            return Manifest.model_validate(json.loads(raw))
        except ValueError as exc:  # not JSON, or not a manifest (pydantic's ValidationError is a ValueError)
            raise ArtifactIntegrityError(f"{product} {version}: {MANIFEST_NAME} is not a valid manifest",
                                         [FieldIssue(MANIFEST_NAME, "not a valid manifest")]) from exc

    def verify(self, manifest: Manifest) -> None:
        """ArtifactIntegrityError naming every artifact of MANIFEST that is missing or fails its sha256
        (expected and actual), or nothing when the version is intact."""
        stored = self._objects.etags(manifest.prefix())
        issues, reasons = [], []
        for name, entry in manifest.artifacts.items():
            key = manifest.prefix() + name
            if key not in stored:
                issues.append(FieldIssue(f"artifacts.{name}", "missing"))
                reasons.append(f"artifact {name!r} is missing")
                continue
            actual = self._stored_sha256(key, stored[key])
            if actual != entry.sha256:
                issues.append(FieldIssue(f"artifacts.{name}", f"sha256 {actual}, expected {entry.sha256}"))
                reasons.append(f"artifact {name!r} fails its sha256 check (stored {actual}, manifest {entry.sha256})")
        if issues:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: {'; '.join(reasons)}", issues)

    def _stored_sha256(self, key: str, etag: str) -> str:
        with self._hashes_lock:
            cached = self._hashes.get((key, etag))
            if cached is not None:
                self._hashes.move_to_end((key, etag))
                return cached
        data, read_etag = self._objects.read(key)
        actual = sha256_of(data)
        with self._hashes_lock:
            # Kept under the ETag of the bytes read: an object replaced since the listing is hashed again.
            self._hashes[(key, read_etag or etag)] = actual
            while len(self._hashes) > VERIFIED_CACHE_SIZE:
                self._hashes.popitem(last=False)
        return actual

    def read_artifact(self, manifest: Manifest, name: str) -> bytes:
        """The artifact's bytes, verified against the manifest's sha256."""
        entry = manifest.artifacts.get(name)
        if entry is None:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: manifest lists no artifact {name!r}")
        data = self._get(manifest.prefix() + name)
        if data is None:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: artifact {name!r} is missing")
        actual = sha256_of(data)
        if actual != entry.sha256:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: artifact {name!r} fails its sha256 "
                                         f"check (stored {actual}, manifest {entry.sha256})")
        return data

    def check(self) -> None:
        """Raise ServiceUnavailable when the bucket cannot be reached (health checks)."""
        self._objects.check()

    def _put(self, key: str, data: bytes) -> None:
        self._objects.write(key, data)

    def _get(self, key: str) -> bytes | None:
        return self._objects.read_if_present(key)
