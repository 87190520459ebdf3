"""Every product's scoring function serves from a fresh process without ever importing the training stack.

A new interpreter starts moto, publishes the session's pre-trained artifacts (read from files, so the
child never touches scikit-learn, XGBoost or LightGBM), stores what the requests need, loads the
handler by path, answers the requests, and reports which heavy libraries ended up in sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from finscore.products import products
from tests.handlers import ROOT

HEAVY = ("sklearn", "scipy", "pandas", "xgboost", "lightgbm", "pyarrow")

CHILD = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path

    from moto import mock_aws

    folder, function, cases = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
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
        if (folder / "customer.json").is_file():
            from finscore.products.risk.repository import CustomerStore

            CustomerStore(os.environ["RISK_CUSTOMERS_TABLE"]).put_many([json.loads((folder / "customer.json").read_text())])

        # invoke imports functions/<function>/handler.py by path, under its own module name.
        answers = {case: invoke(function, load_event(function, case)) for case in cases}
        print(json.dumps({"answers": answers, "heavy": [m for m in HEAVY if m in sys.modules]}))
    """
)


def write_artifacts(folder, candidate) -> None:
    """A trained candidate as files: manifest.json, artifacts.json and each artifact."""
    (folder / "manifest.json").write_text(candidate.manifest.model_dump_json())
    index = {}
    for name, artifact in candidate.artifacts.items():
        (folder / name).write_bytes(artifact.data)
        index[name] = {"format": artifact.format, "role": artifact.role}
    (folder / "artifacts.json").write_text(json.dumps(index))


def serve_in_fresh_process(folder, function: str, cases: list[str]) -> dict:
    environment = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    child = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{CHILD}", str(folder), function, ",".join(cases)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("product", list(products()))
def test_every_products_api_serves_its_example_without_training_libraries(tmp_path, candidates, product):
    # Given the product's small trained model, as files a fresh process can publish without training
    spec = products()[product]
    write_artifacts(tmp_path, candidates(product))
    function, case = spec.api.name, spec.example_event.rsplit("/", 1)[-1].removesuffix(".json")

    # When a new interpreter serves the product's example request through its API function
    report = serve_in_fresh_process(tmp_path, function, [case])

    # Then it answers with the champion, and no training library was ever imported
    status, body = report["answers"][case]
    assert status == 200, body
    assert body["model_version"] == candidates(product).manifest.version
    assert report["heavy"] == []


def test_the_risk_api_serves_a_stored_customer_without_training_libraries(tmp_path, risk_candidate):
    from finscore.products.risk.features import compute_features
    from training.risk.generator import generate_portfolio

    write_artifacts(tmp_path, risk_candidate)
    portfolio = generate_portfolio(customers=2, seed=3)
    customer = portfolio.customers[0]
    transactions = [t for t in portfolio.transactions if t["customer_id"] == customer["customer_id"]]
    (tmp_path / "customer.json").write_text(json.dumps({**customer, "features": compute_features(customer, transactions)}))

    report = serve_in_fresh_process(tmp_path, "risk_api", ["score-by-id", "high-risk"])

    status, body = report["answers"]["score-by-id"]
    assert status == 200, body
    assert body["customer_id"] == "C000001" and body["model_version"] == risk_candidate.manifest.version
    assert report["answers"]["high-risk"][0] == 200
    assert report["heavy"] == []
