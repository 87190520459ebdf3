"""The data stores: the model and data buckets and every table (indexes, streams, TTL) the specs name.

Each bucket and table keeps the logical id its spec names, so `sam local invoke` and the local
runtime can map `{"Ref": "ModelsBucket"}` in the template to their own bucket of that name.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from finscore.products import all_tables
from finscore.resources import BUCKETS, BucketSpec, KeyAttribute, TableSpec

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def private_bucket(scope: Construct, construct_id: str, **options: Any) -> s3.Bucket:
    """A bucket as every FinScore bucket is: no public access, encrypted, TLS 1.2+ only, owned objects
    (no ACLs), kept when the stack goes; OPTIONS add what the bucket is for."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        **options,
    )


class DataStores(Construct):
    """Every bucket in resources.BUCKETS and every table of the platform and the products, locked down."""

    def __init__(self, scope: Construct, construct_id: str, *, access_log_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._access_logs_bucket(access_log_retention_days)
        self.buckets: dict[BucketSpec, s3.Bucket] = {spec: self._bucket(spec) for spec in BUCKETS}
        self.tables: dict[TableSpec, dynamodb.Table] = {spec: self._table(spec) for spec in all_tables()}

    def _access_logs_bucket(self, retention_days: int) -> s3.Bucket:
        # S3 log delivery cannot write to SSE-KMS buckets; SSE-S3 (private_bucket's) is the strongest it accepts.
        bucket = private_bucket(self, "AccessLogsBucket",
                                lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days))])
        Validations.of(bucket.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This bucket is the server access log destination of the model and data buckets; "
                "logging its own accesses into itself would log every log delivery, endlessly.",
            )
        )
        return bucket

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        # Models and training data outlive any one deployment of the stack (private_bucket retains them).
        bucket = private_bucket(self, spec.logical_id, versioned=spec.versioned,
                                server_access_logs_bucket=self.access_logs,
                                server_access_logs_prefix=f"{spec.logical_id}/")
        bucket.node.default_child.override_logical_id(spec.logical_id)
        return bucket

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.logical_id,
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The registry says which model is champion; losing it to a stray `cdk destroy` or
            # console click would take every product's scoring down.
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            stream=dynamodb.StreamViewType(spec.stream) if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
        )
        for index_name, partition_key, sort_key in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_attribute(partition_key),
                sort_key=_attribute(sort_key) if sort_key else None,
            )
        table.node.default_child.override_logical_id(spec.logical_id)
        return table


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])
