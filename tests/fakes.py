"""Model versions for tests that need a registered version but not a trained model."""

from __future__ import annotations

from finscore.models.manifest import FeatureSpec, Manifest, OutputSpec, ParityResult, TrainingDataRef
from finscore.models.registry import ModelRegistry
from finscore.models.store import Artifact, ModelStore


def fake_manifest(product: str, version: str, primary_value: float = 0.9) -> Manifest:
    return Manifest(
        product=product,
        version=version,
        created_at=f"2026-11-21T00:00:{version[-2:]}+00:00",
        features=[FeatureSpec(name="x", type="float")],
        outputs=[OutputSpec(name="y", type="float")],
        metrics={"accuracy": primary_value},
        primary_metric="accuracy",
        training_data=TrainingDataRef(reference="synthetic", rows=100),
        parity=ParityResult(passed=True, rows=100, rule="identical output"),
    )


def publish_fake_version(store: ModelStore, registry: ModelRegistry, product: str, version: str,
                         primary_value: float = 0.9, payload: bytes | None = None) -> Manifest:
    manifest = store.publish(
        fake_manifest(product, version, primary_value),
        {"model.bin": Artifact(data=payload or f"model {version}".encode(), format="native", role="serving")},
    )
    registry.register(manifest)
    return manifest
