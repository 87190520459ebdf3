"""Environment settings fail at cold start with a message naming the bad variable."""

from __future__ import annotations

import pytest

from finscore.errors import ConfigurationError
from finscore.settings import ModelServingSettings, load_settings, reset_settings


def test_a_missing_variable_is_named(monkeypatch):
    monkeypatch.delenv("MODELS_BUCKET", raising=False)
    monkeypatch.setenv("REGISTRY_TABLE", "registry")
    with pytest.raises(ConfigurationError, match="MODELS_BUCKET"):
        load_settings(ModelServingSettings)


def test_a_malformed_variable_is_named(monkeypatch):
    monkeypatch.setenv("MODELS_BUCKET", "models")
    monkeypatch.setenv("REGISTRY_TABLE", "registry")
    monkeypatch.setenv("REGISTRY_TTL", "soon")
    with pytest.raises(ConfigurationError, match="REGISTRY_TTL"):
        load_settings(ModelServingSettings)


def test_valid_settings_are_read_once(monkeypatch):
    monkeypatch.setenv("MODELS_BUCKET", "models")
    monkeypatch.setenv("REGISTRY_TABLE", "registry")
    monkeypatch.setenv("REGISTRY_TTL", "30")
    settings = load_settings(ModelServingSettings)
    monkeypatch.setenv("REGISTRY_TTL", "99")

    assert settings.registry_ttl == 30
    assert load_settings(ModelServingSettings) is settings
    reset_settings()
    assert load_settings(ModelServingSettings).registry_ttl == 99
