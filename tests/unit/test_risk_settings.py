"""Risk function settings: the intervention policy and the cut-off override are validated at cold start."""

from __future__ import annotations

import os

import pytest

from finscore.errors import ConfigurationError
from finscore.products.risk.settings import DeliverySettings, InterventionPolicy, RiskApiSettings
from finscore.settings import load_settings

API_ENV = {"MODELS_BUCKET": "models", "REGISTRY_TABLE": "registry", "RISK_CUSTOMERS_TABLE": "customers",
           "RISK_TRANSACTIONS_TABLE": "transactions", "INTERVENTIONS_TABLE": "interventions",
           "IDEMPOTENCY_TABLE": "idempotency", "RISK_CUSTOMER_SEARCH_TABLE": "search", "RISK_COUNTERS_TABLE": "counters"}


def test_defaults_follow_the_spec():
    policy = InterventionPolicy()

    # Nothing reaches a customer until a deployment switches interventions on; the trigger follows
    # the level cut-offs (critical) unless a threshold is set.
    assert policy.enable_interventions is False
    assert policy.auto_trigger_threshold is None
    assert InterventionPolicy.model_validate({"AUTO_TRIGGER_THRESHOLD": ""}).auto_trigger_threshold is None
    assert policy.auto_trigger_cooldown_hours == 72.0
    assert policy.risk_level_cutoffs is None


def test_the_api_reads_the_policy_from_the_environment(monkeypatch):
    for name, value in {**API_ENV, "ENABLE_INTERVENTIONS": "false", "RISK_LEVEL_CUTOFFS": "25, 50,75"}.items():
        monkeypatch.setenv(name, value)

    settings = load_settings(RiskApiSettings)

    assert settings.enable_interventions is False
    assert settings.risk_level_cutoffs == (25.0, 50.0, 75.0)


@pytest.mark.parametrize(("variable", "value"), [
    ("RISK_LEVEL_CUTOFFS", "30,60"),
    ("RISK_LEVEL_CUTOFFS", "60,30,80"),
    ("RISK_LEVEL_CUTOFFS", "low,mid,high"),
    ("AUTO_TRIGGER_THRESHOLD", "120"),
    ("AUTO_TRIGGER_COOLDOWN_HOURS", "0"),
    ("ENABLE_INTERVENTIONS", "perhaps"),
    ("IDEMPOTENCY_TABLE", ""),
])
def test_a_bad_variable_is_named(monkeypatch, variable, value):
    for name, default in API_ENV.items():
        monkeypatch.setenv(name, default)
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=variable):
        load_settings(RiskApiSettings)


def test_delivery_needs_a_topic_arn_and_a_sender(monkeypatch):
    monkeypatch.setenv("INTERVENTIONS_TABLE", "interventions")
    monkeypatch.setenv("APP_PUSH_TOPIC_ARN", "push-topic")

    with pytest.raises(ConfigurationError, match="APP_PUSH_TOPIC_ARN"):
        load_settings(DeliverySettings)


@pytest.mark.parametrize("variable", ["SMS_ENTITY_ID", "SMS_TEMPLATE_ID"])
def test_delivery_takes_dlt_ids_of_digits_only(monkeypatch, variable):
    monkeypatch.setenv("INTERVENTIONS_TABLE", "interventions")
    monkeypatch.setenv("APP_PUSH_TOPIC_ARN", "arn:aws:sns:ap-south-1:123456789012:push")
    # Unset by default: no registration, nothing sent with SMS to India.
    assert getattr(DeliverySettings.model_validate(dict(os.environ)), variable.lower()) == ""

    monkeypatch.setenv(variable, "1101-ABC")
    with pytest.raises(ConfigurationError, match=variable):
        load_settings(DeliverySettings)
