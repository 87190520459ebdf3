"""Keeps trained models between local runs, so only the first `make run` trains.

The embedded AWS lives in memory; on the next run the cached versions are published to it again and
re-registered as champions. A cache entry is keyed by a fingerprint of the code that produced it
(the product's feature and training modules and the pipeline), so changed code retrains.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from finscore.errors import Conflict
from finscore.models.manifest import Manifest
from finscore.models.registry import ModelRegistry
from finscore.models.store import Artifact, ModelStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "layers" / "shared" / "python" / "finscore"


def fingerprint(product: str, settings: dict | None = None) -> str:
    """sha256 over the sources that decide what training produces, and the training settings."""
    sources = sorted(
        [
            *(SHARED / "products" / product).rglob("*.py"),
            *(SHARED / "products").glob("*.py"),
            *(ROOT / "training" / product).rglob("*.py"),
            ROOT / "training" / "pipeline.py",
            ROOT / "training" / "onnx_export.py",
            SHARED / "models" / "manifest.py",
        ]
    )
    digest = hashlib.sha256(json.dumps(settings or {}, sort_keys=True).encode())
    for path in sources:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class ModelCache:
    def __init__(self, directory: Path):
        self.directory = directory

    def _entry(self, product: str, key: str) -> Path:
        return self.directory / product / key

    def save(self, manifest: Manifest, store: ModelStore, key: str) -> None:
        entry = self._entry(manifest.product, key)
        if entry.exists():
            shutil.rmtree(entry)
        (entry / "artifacts").mkdir(parents=True)
        for name in manifest.artifacts:
            (entry / "artifacts" / name).write_bytes(store.read_artifact(manifest, name))
        (entry / "manifest.json").write_text(manifest.model_dump_json(indent=2))

    def restore(self, product: str, store: ModelStore, registry: ModelRegistry, key: str) -> Manifest | None:
        """Publish and promote the cached version for KEY; None when there is none."""
        entry = self._entry(product, key)
        if not (entry / "manifest.json").is_file():
            return None
        manifest = Manifest.model_validate_json((entry / "manifest.json").read_text())
        artifacts = {
            name: Artifact(data=(entry / "artifacts" / name).read_bytes(), format=spec.format, role=spec.role)
            for name, spec in manifest.artifacts.items()
        }
        published = store.publish(manifest, artifacts)
        if published.artifacts != manifest.artifacts:
            # The checksums no longer match what training recorded: retrain rather than serve it.
            return None
        try:
            registry.register(published)
        except Conflict:
            pass
        registry.promote(product, published.version, "restored from the local model cache",
                         actor="local run (model cache)")
        return published
