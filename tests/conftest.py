"""Fixtures shared by every suite: an embedded AWS (moto, in-process) with FinScore's resources."""

from __future__ import annotations


import pytest



@pytest.fixture(autouse=True)
def _isolated_aws_environment(monkeypatch):
    """No test may reach real AWS: fake credentials, a fixed region, no endpoint override leaking in."""
    for variable in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    # Drift capture writes from a background thread; tests that exercise it turn it on themselves.
    monkeypatch.setenv("DRIFT_CAPTURE_RATE", "0")
    from finscore.activity.tally import reset_activity
    from finscore.aws import reset_clients
    from finscore.drift.capture import reset_capture
    from finscore.settings import reset_settings

    reset_clients()
    reset_settings()
    reset_capture()
    reset_activity()
    yield
    reset_activity()
    reset_clients()
    reset_settings()


@pytest.fixture(autouse=True)
def _calls_are_granted():
    """Every DynamoDB call a handler makes is one its role holds in AWS, and none of a request path is
    a Scan (tests/granted_calls.py). Yields the recorder, which `dynamodb_calls` hands to tests."""
    from botocore.handlers import BUILTIN_HANDLERS

    from finscore.aws import reset_clients
    from tests.granted_calls import CallRecorder

    recorder = CallRecorder()
    hook = ("before-parameter-build.dynamodb", recorder)
    BUILTIN_HANDLERS.append(hook)
    reset_clients()
    try:
        yield recorder
    finally:
        BUILTIN_HANDLERS.remove(hook)
    refused = recorder.refused()
    assert not refused, "calls the function's role is not granted in AWS:\n" + "\n".join(refused)
    scans = recorder.scans_on_request_paths()
    assert not scans, "request paths that scan a table:\n" + "\n".join(scans)


@pytest.fixture
def dynamodb_calls(_calls_are_granted):
    """The (function, table, action) DynamoDB calls handlers made in this test so far."""
    return _calls_are_granted


@pytest.fixture
def aws(monkeypatch):
    """moto in-process with every bucket and table the CDK app defines, under their local names.

    Yields the environment a function would get: the resource env vars set to the local names, and the
    cdk.json settings as the local run passes them.
    """
    from moto import mock_aws

    from local.resources import create_resources
    from local.run import context_settings

    with mock_aws():
        names = create_resources()
        for variable, value in {**context_settings(), **names}.items():
            monkeypatch.setenv(variable, value)
        monkeypatch.setenv("REGISTRY_TTL", "0")
        yield names


def promote_candidate(aws, candidate):
    """Publish a trained candidate to the moto model store, register and promote it; its Manifest."""
    from finscore.models.registry import ModelRegistry
    from finscore.models.store import ModelStore

    manifest = ModelStore(aws["MODELS_BUCKET"]).publish(candidate.manifest, candidate.artifacts)
    registry = ModelRegistry(aws["REGISTRY_TABLE"])
    registry.register(manifest)
    registry.promote(manifest.product, manifest.version)
    return manifest


@pytest.fixture(scope="session")
def candidates():
    """Each product's small model (its spec's quick_training), trained once per session on first use:
    manifest, artifacts and held-out rows, in memory."""
    from finscore.products import product
    from training.pipeline import build_candidate

    trained = {}

    def candidate(name: str):
        if name not in trained:
            quick = product(name).quick_training
            trained[name] = build_candidate(name, rows=quick.get("rows"), seed=quick.get("seed", 7),
                                            config=quick.get("config", {}), progress=False)
            assert trained[name].manifest.parity.passed, trained[name].manifest.parity
        return trained[name]

    return candidate


@pytest.fixture(scope="session")
def recommend_candidate(candidates):
    return candidates("recommend")


@pytest.fixture
def recommend_champion(aws, recommend_candidate):
    """The session's recommend model published to the moto model store, registered and promoted."""
    return promote_candidate(aws, recommend_candidate)


@pytest.fixture(scope="session")
def risk_candidate(candidates):
    return candidates("risk")


@pytest.fixture
def risk_champion(aws, risk_candidate):
    """The session's risk model published to the moto model store, registered and promoted; its Manifest."""
    return promote_candidate(aws, risk_candidate)
