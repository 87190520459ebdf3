"""`finscore invoke` gives a function the environment the running stack's functions have."""

from __future__ import annotations

from local.invoke import resolve_environment


def test_cdk_json_settings_resolve_as_the_local_run_gives_them(monkeypatch):
    monkeypatch.delenv("ALLOW_SYNTHETIC_TRAINING", raising=False)
    monkeypatch.delenv("ENABLE_INTERVENTIONS", raising=False)
    # The deployment's values, as the synthesized template holds them.
    template = {"ALLOW_SYNTHETIC_TRAINING": "false", "ENABLE_INTERVENTIONS": "false", "LOG_LEVEL": "INFO",
                "DATA_BUCKET": {"Ref": "DataBucket"}}

    resolved = resolve_environment(template, 4566)

    assert resolved["ALLOW_SYNTHETIC_TRAINING"] == "true"
    assert resolved["ENABLE_INTERVENTIONS"] == "true"
    assert resolved["LOG_LEVEL"] == "INFO"
    assert resolved["DATA_BUCKET"] == "finscore-local-data-bucket"


def test_the_callers_environment_wins(monkeypatch):
    monkeypatch.setenv("ALLOW_SYNTHETIC_TRAINING", "false")

    assert resolve_environment({"ALLOW_SYNTHETIC_TRAINING": "false"}, 4566) == {"ALLOW_SYNTHETIC_TRAINING": "false"}
