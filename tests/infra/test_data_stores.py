"""Buckets and tables in the template: the logical ids resources.py names, locked down."""

from __future__ import annotations

import pytest

from finscore.products import all_tables
from finscore.resources import BUCKETS

TABLES = all_tables()

_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _all_buckets(synthesized):
    return synthesized.resources("AWS::S3::Bucket")


def test_every_bucket_blocks_public_access_and_is_encrypted(synthesized):
    buckets = _all_buckets(synthesized)
    assert {spec.logical_id for spec in BUCKETS} <= set(buckets)
    for logical_id, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == _BLOCK_ALL, logical_id
        (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), logical_id


def test_every_bucket_denies_requests_without_tls(synthesized):
    policies = synthesized.resources("AWS::S3::BucketPolicy").values()
    protected = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition", {}).get("Bool") == {
                "aws:SecureTransport": "false"
            }:
                protected.add(policy["Properties"]["Bucket"]["Ref"])
    assert protected == set(_all_buckets(synthesized))


@pytest.mark.parametrize("spec", BUCKETS, ids=[spec.logical_id for spec in BUCKETS])
def test_bucket_versioning_and_access_logs_follow_the_spec(synthesized, spec):
    bucket = synthesized.resource(spec.logical_id)
    versioning = bucket["Properties"].get("VersioningConfiguration", {}).get("Status")
    assert (versioning == "Enabled") is spec.versioned
    assert bucket["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == f"{spec.logical_id}/"
    assert bucket["DeletionPolicy"] == "Retain"


def test_models_bucket_is_versioned(synthesized):
    assert synthesized.resource("ModelsBucket")["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


@pytest.mark.parametrize("spec", TABLES, ids=[spec.logical_id for spec in TABLES])
def test_table_has_the_spec_keys_pitr_and_encryption(synthesized, spec):
    table = synthesized.resource(spec.logical_id)
    properties = table["Properties"]
    expected_keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
    if spec.sort_key:
        expected_keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
    assert properties["KeySchema"] == expected_keys
    declared = {
        attribute["AttributeName"]: attribute["AttributeType"] for attribute in properties["AttributeDefinitions"]
    }
    for key in filter(None, (spec.partition_key, spec.sort_key)):
        assert declared[key.name] == key.type
    assert [index["IndexName"] for index in properties.get("GlobalSecondaryIndexes", [])] == [
        name for name, _, _ in spec.global_indexes
    ]
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == "Retain"
