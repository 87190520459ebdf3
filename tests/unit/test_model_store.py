"""The model store verifies every artifact against the manifest's sha256."""

from __future__ import annotations

import pytest

from finscore.aws import client
from finscore.errors import ArtifactIntegrityError, NotFound
from finscore.models.store import Artifact, ModelStore, sha256_of
from tests.fakes import fake_manifest


@pytest.fixture
def store(aws):
    return ModelStore(aws["MODELS_BUCKET"])


def test_published_artifacts_read_back_verified(store):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"onnx-bytes", "onnx", "serving")})

    assert manifest.artifacts["model.onnx"].sha256 == sha256_of(b"onnx-bytes")
    assert store.read_manifest("recommend", "v01") == manifest
    assert store.read_artifact(manifest, "model.onnx") == b"onnx-bytes"


def test_a_tampered_artifact_fails_its_check(store, aws):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"good", "onnx", "serving")})
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.onnx", Body=b"evil")

    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        store.read_artifact(manifest, "model.onnx")


def test_a_missing_artifact_fails_its_check(store, aws):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"good", "onnx", "serving")})
    client("s3").delete_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.onnx")

    with pytest.raises(ArtifactIntegrityError, match="missing"):
        store.read_artifact(manifest, "model.onnx")


def test_an_artifact_the_manifest_does_not_list_is_refused(store):
    manifest = store.publish(fake_manifest("recommend", "v01"), {})
    with pytest.raises(ArtifactIntegrityError):
        store.read_artifact(manifest, "other.onnx")


def test_an_unknown_version_has_no_manifest(store):
    with pytest.raises(NotFound):
        store.read_manifest("recommend", "nope")
