"""The model store verifies every artifact against the manifest's sha256."""

from __future__ import annotations

import pytest

from finscore.aws import client
from finscore.errors import ArtifactIntegrityError, NotFound
from finscore.models.store import Artifact, ModelStore, sha256_of
from finscore.s3 import Bucket
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


def test_an_intact_version_verifies_and_is_hashed_once_per_etag(store, monkeypatch):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"good", "onnx", "serving"),
                                                                  "report.json": Artifact(b"{}", "json", "report")})
    downloads = []
    read = Bucket.read
    monkeypatch.setattr(Bucket, "read", lambda self, key, *a, **k: downloads.append(key) or read(self, key, *a, **k))

    store.verify(manifest)
    store.verify(manifest)

    assert sorted(downloads) == ["recommend/v01/model.onnx", "recommend/v01/report.json"]


def test_verify_names_every_altered_or_missing_artifact_with_both_checksums(store, aws):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"good", "onnx", "serving"),
                                                                  "native.json": Artifact(b"{}", "json", "native")})
    store.verify(manifest)
    # Replaced after a successful check: the new ETag makes it hashed again, not trusted from before.
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.onnx", Body=b"evil")
    client("s3").delete_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/native.json")

    with pytest.raises(ArtifactIntegrityError) as failure:
        store.verify(manifest)

    issues = {issue.field: issue.issue for issue in failure.value.details}
    assert issues == {"artifacts.model.onnx": f"sha256 {sha256_of(b'evil')}, expected {sha256_of(b'good')}",
                      "artifacts.native.json": "missing"}
    assert "'model.onnx' fails its sha256 check" in failure.value.message
    assert "'native.json' is missing" in failure.value.message


def test_a_restored_artifact_verifies_again(store, aws):
    manifest = store.publish(fake_manifest("recommend", "v01"), {"model.onnx": Artifact(b"good", "onnx", "serving")})
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.onnx", Body=b"evil")
    with pytest.raises(ArtifactIntegrityError):
        store.verify(manifest)

    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/model.onnx", Body=b"good")

    store.verify(manifest)


def test_a_manifest_that_is_not_one_is_an_integrity_error(store, aws):
    client("s3").put_object(Bucket=aws["MODELS_BUCKET"], Key="recommend/v01/manifest.json", Body=b"{not json")
    with pytest.raises(ArtifactIntegrityError, match="not a valid manifest"):
        store.read_manifest("recommend", "v01")
