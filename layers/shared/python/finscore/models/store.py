"""The S3 model store: artifacts and manifest.json under s3://<models>/<product>/<version>/.

Every artifact is written before the manifest that names it, and every read is checked against the
manifest's sha256, so a half-written or tampered version can never be loaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from finscore.errors import ArtifactIntegrityError, NotFound
from finscore.models.manifest import MANIFEST_NAME, ArtifactEntry, Manifest
from finscore.s3 import Bucket


@dataclass(frozen=True)
class Artifact:
    data: bytes
    format: str
    role: str


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ModelStore:
    def __init__(self, bucket: str):
        self.bucket = bucket
        self._objects = Bucket(bucket)

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
        return Manifest.model_validate(json.loads(raw))

    def read_artifact(self, manifest: Manifest, name: str) -> bytes:
        """The artifact's bytes, verified against the manifest's sha256."""
        entry = manifest.artifacts.get(name)
        if entry is None:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: manifest lists no artifact {name!r}")
        data = self._get(manifest.prefix() + name)
        if data is None:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: artifact {name!r} is missing")
        if sha256_of(data) != entry.sha256:
            raise ArtifactIntegrityError(f"{manifest.product} {manifest.version}: artifact {name!r} fails its sha256 check")
        return data

    def check(self) -> None:
        """Raise ServiceUnavailable when the bucket cannot be reached (health checks)."""
        self._objects.check()

    def _put(self, key: str, data: bytes) -> None:
        self._objects.write(key, data)

    def _get(self, key: str) -> bytes | None:
        return self._objects.read_if_present(key)
