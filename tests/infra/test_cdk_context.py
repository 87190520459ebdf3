"""Deployment tunables: cdk.json defaults, and bad values failing the synth with the key's name."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra.config import REPO_ROOT, FinScoreConfig, cdk_json_context


def _config(**overrides) -> FinScoreConfig:
    app = App(context={**cdk_json_context(), **overrides})
    return FinScoreConfig.from_context(Stack(app, "Config"))


def test_defaults_are_the_secure_ones_in_cdk_json():
    config = _config()
    assert config.registry_ttl_seconds == 60
    assert config.runtime.name == lambda_.Runtime.PYTHON_3_14.name
    assert config.log_retention_days >= 365
    assert config.api_throttle_rate_limit <= config.api_stage_throttle_rate_limit
    assert config.xray_sdk_tracing is False


INTERVENTION_TUNABLES = ("enableInterventions", "autoTriggerThreshold", "autoTriggerCooldownHours",
                         "riskLevelCutoffs", "senderEmail")


def test_intervention_defaults_are_the_secure_ones():
    config = _config()
    assert {key: config.context_value(key) for key in INTERVENTION_TUNABLES} == {
        "enableInterventions": "false",
        "autoTriggerThreshold": "",
        "autoTriggerCooldownHours": "72",
        "riskLevelCutoffs": "",
        "senderEmail": "alerts@finscore.example",
    }
    assert config.stream_retry_attempts <= 10 and config.queue_max_receive_count <= 10


def test_intervention_tunables_can_be_set_from_the_command_line_and_are_normalised():
    config = _config(enableInterventions="false", autoTriggerThreshold="90", riskLevelCutoffs="25, 50,75")
    assert config.context_value("enableInterventions") == "false"
    assert config.context_value("autoTriggerThreshold") == "90"
    assert config.context_value("riskLevelCutoffs") == "25,50,75"


def test_dlt_ids_are_unset_by_default_and_taken_as_digits():
    assert (_config().context_value("smsEntityId"), _config().context_value("smsTemplateId")) == ("", "")
    config = _config(smsEntityId=" 1101456789012345678", smsTemplateId="1107456789012345678")
    assert config.context_value("smsEntityId") == "1101456789012345678"
    assert config.context_value("smsTemplateId") == "1107456789012345678"
    # A JSON number would reach the app rounded (1107456789012345700): it must be quoted.
    with pytest.raises(ValueError, match="smsTemplateId"):
        _config(smsTemplateId=1107456789012345678)


def test_x_ray_sdk_tracing_can_be_switched_on():
    assert _config(xraySdkTracing="true").xray_sdk_tracing is True


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("registryTtlSeconds", 3601),
        ("apiQuotaPerDay", 0),
        ("apiThrottleRateLimit", "fast"),
        ("logRetentionDays", 42),
        ("lambdaPythonVersion", "2.9"),
        ("lambdaMemoryMb", {"no_such_function": 1024}),
        ("lambdaMemoryMb", {"recommend_api": 64}),
        ("lambdaMemoryMb", "recommend_api=1024"),
        ("xraySdkTracing", "sometimes"),
        ("enableInterventions", "maybe"),
        ("allowSyntheticTraining", "sometimes"),
        ("autoTriggerThreshold", 101),
        ("autoTriggerCooldownHours", 0),
        ("riskLevelCutoffs", "60,30,80"),
        ("riskLevelCutoffs", "30,60"),
        ("senderEmail", "not-an-address"),
        ("alertEmail", "ops at bank"),
        ("streamBatchSize", 0),
        ("queueBatchSize", 11),
        ("queueMaxReceiveCount", 0),
        ("queueMaxConcurrency", 1),
        ("batchMaxConcurrency", 0),
        ("batchFanoutBytes", 1024),
        ("wafRateLimitPer5Min", 9),
        ("wafRateLimitPer5Min", "many"),
        ("smsEntityId", "1101-4567"),
        ("smsTemplateId", "template"),
        ("createSenderIdentity", "perhaps"),
    ],
)
def test_a_bad_tunable_fails_naming_its_key(key, value):
    with pytest.raises(ValueError, match=key):
        _config(**{key: value})


def test_memory_can_be_raised_per_function_from_the_command_line():
    config = _config(lambdaMemoryMb='{"recommend_api": 1024}')
    assert config.memory_mb("recommend_api", 512) == 1024
    assert config.memory_mb("platform_api", 512) == 512


def test_cdk_cli_is_v2_and_runs_the_app_from_the_project_venv():
    package = json.loads((REPO_ROOT / "package.json").read_text())
    assert package["devDependencies"]["aws-cdk"].lstrip("^~").startswith("2.")
    assert json.loads((REPO_ROOT / "cdk.json").read_text())["app"] == ".venv/bin/python infra/app.py"
