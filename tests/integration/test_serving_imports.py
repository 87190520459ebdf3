"""The recommend API serves from a fresh process without ever importing the training stack.

A new interpreter starts moto, publishes the session's pre-trained artifacts (read from files, so
the child never touches scikit-learn), loads the handler by path, answers the SmartBank request, and
reports which heavy libraries ended up in sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.handlers import ROOT

HEAVY = ("sklearn", "scipy", "pandas", "xgboost", "lightgbm")

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    from moto import mock_aws

    folder = Path(sys.argv[1])
    with mock_aws():
        from local.resources import create_resources
        from finscore.models.manifest import Manifest
        from finscore.models.registry import ModelRegistry
        from finscore.models.store import Artifact, ModelStore
        from tests.handlers import invoke, load_event

        os.environ.update(create_resources())
        os.environ["REGISTRY_TTL"] = "0"
        manifest = Manifest.model_validate_json((folder / "manifest.json").read_text())
        index = json.loads((folder / "artifacts.json").read_text())
        artifacts = {name: Artifact((folder / name).read_bytes(), entry["format"], entry["role"])
                     for name, entry in index.items()}
        published = ModelStore(os.environ["MODELS_BUCKET"]).publish(manifest, artifacts)
        registry = ModelRegistry(os.environ["REGISTRY_TABLE"])
        registry.register(published)
        registry.promote(published.product, published.version)

        # invoke imports functions/recommend_api/handler.py by path, under its own module name.
        status, body = invoke("recommend_api", load_event("recommend_api", "recommend"))
        print(json.dumps({"status": status, "body": body, "heavy": [m for m in HEAVY if m in sys.modules]}))
    """
)


@pytest.fixture
def artifact_folder(tmp_path, recommend_candidate):
    """The session's trained recommend model as files: manifest.json, artifacts.json and each artifact."""
    (tmp_path / "manifest.json").write_text(recommend_candidate.manifest.model_dump_json())
    index = {}
    for name, artifact in recommend_candidate.artifacts.items():
        (tmp_path / name).write_bytes(artifact.data)
        index[name] = {"format": artifact.format, "role": artifact.role}
    (tmp_path / "artifacts.json").write_text(json.dumps(index))
    return tmp_path


def test_the_handler_serves_without_training_libraries(artifact_folder, recommend_candidate):
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}

    child = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{CHILD}", str(artifact_folder)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )

    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["status"] == 200, report["body"]
    assert report["body"]["model_version"] == recommend_candidate.manifest.version
    assert report["heavy"] == []
