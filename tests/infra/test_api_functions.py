"""The zip API functions in the template: code, layers, runtime, environment, tracing, log retention."""

from __future__ import annotations

import pytest

from finscore.resources import FUNCTIONS
from infra.constructs.api_function import FUNCTIONS_DIR

pytestmark = pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])


def test_function_keeps_the_logical_id_resources_names(synthesized, spec):
    function = synthesized.resource(spec.logical_id)
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Description"] == spec.description


def test_function_runs_its_handler_on_the_configured_python_with_both_layers(synthesized, spec, context):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties["Handler"] == "handler.lambda_handler"
    assert properties["Runtime"] == f"python{context['lambdaPythonVersion']}"
    assert properties["Architectures"] == ["x86_64"]
    assert sorted(layer["Ref"] for layer in properties["Layers"]) == ["ServingDependenciesLayer", "SharedCodeLayer"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["MemorySize"] == context["lambdaMemoryMb"].get(spec.name, spec.memory_mb)
    assert properties["Timeout"] == spec.timeout_s


def test_function_code_is_its_folder(synthesized, spec):
    """sam local invoke finds the code through the asset metadata; the asset is functions/<name>."""
    metadata = synthesized.resource(spec.logical_id)["Metadata"]
    asset = synthesized.outdir / metadata["aws:asset:path"]
    assert (asset / "handler.py").read_bytes() == (FUNCTIONS_DIR / spec.name / "handler.py").read_bytes()
    assert not list(asset.rglob("__pycache__"))


def test_environment_names_resources_by_ref_and_configures_powertools(synthesized, spec, context):
    variables = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
    for bucket in spec.buckets:
        assert variables[bucket.env_var] == {"Ref": bucket.logical_id}
    for table in spec.tables:
        assert variables[table.env_var] == {"Ref": table.logical_id}
    assert variables["REGISTRY_TTL"] == str(context["registryTtlSeconds"])
    assert variables["POWERTOOLS_SERVICE_NAME"] == "finscore-" + spec.name.replace("_", "-")
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "FinScore"
    assert variables["POWERTOOLS_TRACE_DISABLED"] == "true", "X-Ray SDK subsegments are opt-in (xraySdkTracing)"
    assert variables["LOG_LEVEL"] == "INFO"


def test_function_logs_to_its_own_group_with_retention(synthesized, spec, context):
    log_group_ref = synthesized.resource(spec.logical_id)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = synthesized.resource(log_group_ref)
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == context["logRetentionDays"]
