"""The functions in the template: code, layers or image, runtime, environment, tracing, log retention."""

from __future__ import annotations

import json

import pytest

from finscore.products import all_functions
from finscore.products.risk.spec import CUSTOMERS_TABLE as RISK_CUSTOMERS_TABLE

FUNCTIONS = all_functions()
from infra.constructs.api_function import FUNCTIONS_DIR, dockerfile_sources

ZIP_FUNCTIONS = [spec for spec in FUNCTIONS if spec.package == "zip"]
IMAGE_FUNCTIONS = [spec for spec in FUNCTIONS if spec.package == "image"]
every_function = pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
zip_functions = pytest.mark.parametrize("spec", ZIP_FUNCTIONS, ids=[spec.name for spec in ZIP_FUNCTIONS])
image_functions = pytest.mark.parametrize("spec", IMAGE_FUNCTIONS, ids=[spec.name for spec in IMAGE_FUNCTIONS])


@every_function
def test_function_keeps_the_logical_id_resources_names(synthesized, spec):
    function = synthesized.resource(spec.logical_id)
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Description"] == spec.description


@zip_functions
def test_function_runs_its_handler_on_the_configured_python_with_both_layers(synthesized, spec, context):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties["Handler"] == "handler.lambda_handler"
    assert properties["Runtime"] == f"python{context['lambdaPythonVersion']}"
    assert properties["Architectures"] == ["x86_64"]
    assert sorted(layer["Ref"] for layer in properties["Layers"]) == ["ServingDependenciesLayer", "SharedCodeLayer"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["MemorySize"] == context["lambdaMemoryMb"].get(spec.name, spec.memory_mb)
    assert properties["Timeout"] == spec.timeout_s


@zip_functions
def test_function_code_is_its_folder(synthesized, spec):
    """sam local invoke finds the code through the asset metadata; the asset is functions/<name>."""
    metadata = synthesized.resource(spec.logical_id)["Metadata"]
    asset = synthesized.outdir / metadata["aws:asset:path"]
    assert (asset / "handler.py").read_bytes() == (FUNCTIONS_DIR / spec.folder / "handler.py").read_bytes()
    assert not list(asset.rglob("__pycache__"))


@every_function
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


@every_function
def test_function_logs_to_its_own_group_with_retention(synthesized, spec, context):
    log_group_ref = synthesized.resource(spec.logical_id)["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = synthesized.resource(log_group_ref)
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == context["logRetentionDays"]


@image_functions
def test_image_function_is_built_from_its_dockerfile_with_the_handler_as_command(synthesized, spec, context):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties["PackageType"] == "Image"
    assert "Layers" not in properties and "Runtime" not in properties
    assert properties["ImageConfig"]["Command"] == ["handler.lambda_handler"]
    assert properties["MemorySize"] == context["lambdaMemoryMb"].get(spec.name, spec.memory_mb)
    assert properties["TracingConfig"] == {"Mode": "Active"}
    images = json.loads((synthesized.outdir / "FinScore.assets.json").read_text())["dockerImages"].values()
    (image,) = [a for a in images if a["source"]["dockerFile"] == f"functions/{spec.folder}/Dockerfile"]
    assert image["source"]["dockerBuildArgs"] == {"PYTHON_VERSION": context["lambdaPythonVersion"]}


@image_functions
def test_image_dockerfile_exists_and_copies_the_handler_and_the_shared_package(spec):
    dockerfile = FUNCTIONS_DIR / spec.folder / "Dockerfile"
    assert dockerfile.is_file()
    sources = dockerfile_sources(dockerfile.read_text())
    assert any(source.startswith("layers/shared/python") for source in sources), sources
    assert any(source.startswith(f"functions/{spec.folder}") for source in sources), sources


def test_dockerfile_sources_are_the_copy_arguments_of_this_stage():
    text = (
        "FROM a AS build\nCOPY --from=build /opt /opt\nCOPY ./layers/shared/python/finscore \\\n"
        "    /var/task/finscore\nADD --chown=1 functions/x/handler.py functions/x/app.py /var/task/\n"
    )
    assert dockerfile_sources(text) == ["layers/shared/python/finscore", "functions/x/handler.py", "functions/x/app.py"]


CONTEXT_VARIABLES = {variable for spec in FUNCTIONS for variable, _ in spec.context}


@every_function
def test_functions_get_the_context_tunables_their_spec_takes_and_no_others(synthesized, spec, context):
    variables = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
    for variable, key in spec.context:
        raw = context[key]
        assert variables[variable] == (str(raw).lower() if isinstance(raw, bool) else str(raw))
    assert CONTEXT_VARIABLES & set(variables) == {variable for variable, _ in spec.context}


def test_every_function_that_scores_risk_follows_the_intervention_policy():
    scorers = [spec for spec in FUNCTIONS if RISK_CUSTOMERS_TABLE in spec.writes]
    assert scorers and all("ENABLE_INTERVENTIONS" in dict(spec.context) for spec in scorers)
    assert all("SENDER_EMAIL" in dict(spec.context) for spec in FUNCTIONS if spec.sends_email)


@every_function
def test_topics_and_queues_are_named_by_ref(synthesized, spec):
    variables = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
    for topic in spec.topics:
        assert variables[topic.env_var] == {"Ref": topic.logical_id}
    if spec.queue:
        assert variables[spec.queue.env_var] == {"Ref": spec.queue.logical_id}


@every_function
def test_function_gets_the_tmp_its_spec_declares(synthesized, spec):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties.get("EphemeralStorage", {"Size": 512}) == {"Size": spec.ephemeral_storage_mb}


def test_batch_scoring_has_room_in_tmp_to_join_files_beyond_one_function(synthesized, context):
    # The join spools a fanned-out Parquet output through /tmp: files fan out when they are larger
    # than cdk.json batchFanoutBytes, so Lambda's default 512 MB cannot be enough.
    from finscore.resources import BATCH_SCORE

    size_mb = synthesized.resource(BATCH_SCORE.logical_id)["Properties"]["EphemeralStorage"]["Size"]
    assert size_mb == 10240 and size_mb * 1024 * 1024 > 4 * context["batchFanoutBytes"]
