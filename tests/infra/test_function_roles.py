"""Least privilege: one role per function, holding only the data access its routes need."""

from __future__ import annotations

import json

import pytest

from finscore.resources import DATA_BUCKET, FUNCTIONS, MODELS_BUCKET, PLATFORM_API, RECOMMEND_API, REGISTRY_TABLE

TRACING_AND_LOGS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "logs:CreateLogStream", "logs:PutLogEvents"}
WRITES = {
    "s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
}


def _role_of(synthesized, spec) -> str:
    return synthesized.resource(spec.logical_id)["Properties"]["Role"]["Fn::GetAtt"][0]


def _statements(synthesized, spec) -> list[dict]:
    role = _role_of(synthesized, spec)
    statements = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _grants(synthesized, spec) -> dict[str, list[str]]:
    """action -> the resources it is allowed on, each rendered as compact JSON."""
    grants: dict[str, list[str]] = {}
    for statement in _statements(synthesized, spec):
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            grants.setdefault(action, []).extend(json.dumps(resource, sort_keys=True) for resource in resources)
    return grants


def _arn(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def _objects_of(logical_id: str) -> str:
    return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [logical_id, "Arn"]}, "/*"]]}, sort_keys=True)


def test_each_function_has_its_own_role_assumable_by_lambda_only(synthesized):
    roles = [_role_of(synthesized, spec) for spec in FUNCTIONS]
    assert len(set(roles)) == len(FUNCTIONS)
    for role in roles:
        properties = synthesized.resource(role)["Properties"]
        (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "ManagedPolicyArns" not in properties


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
def test_no_function_may_write_objects_or_create_registry_items(synthesized, spec):
    grants = _grants(synthesized, spec)
    assert not WRITES & set(grants)
    assert not any(action.endswith("*") for action in grants)
    assert grants["s3:GetObject"] == [_objects_of(MODELS_BUCKET.logical_id)]


def test_recommend_function_only_reads_models_and_the_registry(synthesized):
    grants = _grants(synthesized, RECOMMEND_API)
    assert set(grants) == TRACING_AND_LOGS | {"s3:GetObject", "dynamodb:GetItem", "dynamodb:Query"}
    assert grants["dynamodb:GetItem"] == grants["dynamodb:Query"] == [_arn(REGISTRY_TABLE.logical_id)]


def test_platform_function_may_also_move_the_champion_and_probe_dependencies(synthesized):
    grants = _grants(synthesized, PLATFORM_API)
    assert set(grants) == TRACING_AND_LOGS | {
        "s3:GetObject",
        "s3:ListBucket",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DescribeTable",
    }
    # promote/rollback: TransactWriteItems of Update actions, authorised per item by UpdateItem.
    assert grants["dynamodb:UpdateItem"] == [_arn(REGISTRY_TABLE.logical_id)]
    # /health: HeadBucket is authorised by s3:ListBucket, DescribeTable checks the registry.
    assert sorted(grants["s3:ListBucket"]) == sorted(_arn(b.logical_id) for b in (MODELS_BUCKET, DATA_BUCKET))
    assert grants["dynamodb:DescribeTable"] == [_arn(REGISTRY_TABLE.logical_id)]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
def test_wildcard_resources_are_only_xray(synthesized, spec):
    for action, resources in _grants(synthesized, spec).items():
        if '"*"' in resources:
            assert action.startswith("xray:"), action
