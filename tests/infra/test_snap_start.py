"""SnapStart on the scoring functions: published versions, the alias API Gateway invokes, a runtime that has it."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack

from finscore.products import all_functions, products
from finscore.resources import PRODUCT_ENV
from infra.config import FinScoreConfig, cdk_json_context
from infra.constructs.api_function import LIVE_ALIAS

FUNCTIONS = all_functions()
SNAP_START = [spec for spec in FUNCTIONS if spec.snap_start]
snap_start_functions = pytest.mark.parametrize("spec", SNAP_START, ids=[spec.name for spec in SNAP_START])


def _alias(synthesized, spec) -> tuple[str, dict]:
    (found,) = [(logical_id, alias) for logical_id, alias in synthesized.resources("AWS::Lambda::Alias").items()
                if alias["Properties"]["FunctionName"] == {"Ref": spec.logical_id}]
    return found


def test_every_products_zip_api_is_a_snap_start_function_and_nothing_else_is():
    # Decided by the spec alone: a zip function serving a product's routes with its champion.
    assert SNAP_START
    assert set(SNAP_START) == {spec.api for spec in products().values() if spec.api.package == "zip"}


@snap_start_functions
def test_scoring_function_snapshots_its_published_versions(synthesized, spec):
    properties = synthesized.resource(spec.logical_id)["Properties"]
    assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    # The before-snapshot hook loads this product's champion.
    assert properties["Environment"]["Variables"][PRODUCT_ENV] == spec.product


@snap_start_functions
def test_scoring_function_has_one_version_and_the_live_alias_on_it(synthesized, spec):
    versions = {logical_id: version for logical_id, version in synthesized.resources("AWS::Lambda::Version").items()
                if version["Properties"]["FunctionName"] == {"Ref": spec.logical_id}}
    (version_id,) = versions
    assert versions[version_id]["DeletionPolicy"] == "Delete"
    _, alias = _alias(synthesized, spec)
    assert alias["Properties"]["Name"] == LIVE_ALIAS
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version_id, "Version"]}


@snap_start_functions
def test_api_gateway_invokes_the_alias_not_the_unpublished_function(synthesized, spec):
    alias_id, _ = _alias(synthesized, spec)
    integrations = [json.dumps(method["Properties"]["Integration"]["Uri"])
                    for method in synthesized.resources("AWS::ApiGateway::Method").values()
                    if method["Properties"]["Integration"].get("Type") == "AWS_PROXY"]
    to_alias = [uri for uri in integrations if f'{{"Ref": "{alias_id}"}}' in uri]
    assert len(to_alias) == len(spec.routes)
    assert not [uri for uri in integrations if f'"{spec.logical_id}", "Arn"' in uri]
    permissions = [permission["Properties"] for permission in synthesized.resources("AWS::Lambda::Permission").values()
                   if permission["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert [p for p in permissions if p["FunctionName"] == {"Ref": alias_id}]
    assert not [p for p in permissions if p["FunctionName"] == {"Fn::GetAtt": [spec.logical_id, "Arn"]}]


def test_other_functions_run_without_snapshots(synthesized):
    for spec in FUNCTIONS:
        if not spec.snap_start:
            assert "SnapStart" not in synthesized.resource(spec.logical_id)["Properties"], spec.name


def test_a_python_without_snap_start_fails_the_synth_naming_the_key():
    app = App(context={**cdk_json_context(), "lambdaPythonVersion": "3.11"})
    with pytest.raises(ValueError, match="lambdaPythonVersion.*SnapStart"):
        FinScoreConfig.from_context(Stack(app, "Config"))
