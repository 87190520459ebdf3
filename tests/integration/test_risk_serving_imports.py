"""The risk API serves from a fresh process without ever importing the training stack.

Like the recommend check: a new interpreter starts moto, publishes the session's pre-trained risk
artifacts (read from files), stores one customer with features, loads functions/risk_api/handler.py
by path, scores the customer, lists high-risk customers, and reports which heavy libraries it loaded.
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
        from finscore.risk.repository import CustomerStore
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
        CustomerStore(os.environ["RISK_CUSTOMERS_TABLE"]).put_many([json.loads((folder / "customer.json").read_text())])

        scored = invoke("risk_api", load_event("risk_api", "score-by-id"))
        listed = invoke("risk_api", load_event("risk_api", "high-risk"))
        print(json.dumps({"score": scored, "high_risk": listed, "heavy": [m for m in HEAVY if m in sys.modules]}))
    """
)


@pytest.fixture
def artifact_folder(tmp_path, risk_candidate):
    """The session's trained risk model as files, and customer C000001 with features from the generator."""
    from finscore.risk.features import compute_features
    from training.risk.generator import generate_portfolio

    (tmp_path / "manifest.json").write_text(risk_candidate.manifest.model_dump_json())
    index = {}
    for name, artifact in risk_candidate.artifacts.items():
        (tmp_path / name).write_bytes(artifact.data)
        index[name] = {"format": artifact.format, "role": artifact.role}
    (tmp_path / "artifacts.json").write_text(json.dumps(index))
    portfolio = generate_portfolio(customers=2, seed=3)
    customer = portfolio.customers[0]
    transactions = [t for t in portfolio.transactions if t["customer_id"] == customer["customer_id"]]
    (tmp_path / "customer.json").write_text(json.dumps({**customer, "features": compute_features(customer, transactions)}))
    return tmp_path


def test_the_risk_api_serves_without_training_libraries(artifact_folder, risk_candidate):
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}

    child = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{CHILD}", str(artifact_folder)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )

    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    status, body = report["score"]
    assert status == 200, body
    assert body["customer_id"] == "C000001" and body["model_version"] == risk_candidate.manifest.version
    status, listing = report["high_risk"]
    assert status == 200, listing
    assert report["heavy"] == []
