"""Creates the buckets and tables of the CDK app in the embedded AWS, under their local names."""

from __future__ import annotations

from botocore.exceptions import ClientError

from finscore import resources
from finscore.aws import client


def create_resources() -> dict[str, str]:
    """Create (idempotently) every bucket and table; returns {ENV_VAR: local name}."""
    names: dict[str, str] = {}
    s3 = client("s3")
    for bucket in resources.BUCKETS:
        name = resources.local_name(bucket.logical_id)
        try:
            s3.create_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        if bucket.versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        names[bucket.env_var] = name
    dynamodb = client("dynamodb")
    for table in resources.TABLES:
        name = resources.local_name(table.logical_id)
        keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
        attributes = {key.name: key.type for key in keys}
        for _, partition, sort in table.global_indexes:
            attributes[partition.name] = partition.type
            if sort:
                attributes[sort.name] = sort.type
        request = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": keys[0].name, "KeyType": "HASH"}]
            + ([{"AttributeName": keys[1].name, "KeyType": "RANGE"}] if len(keys) > 1 else []),
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in attributes.items()],
        }
        if table.global_indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index_name,
                    "KeySchema": [{"AttributeName": partition.name, "KeyType": "HASH"}]
                    + ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else []),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index_name, partition, sort in table.global_indexes
            ]
        try:
            dynamodb.create_table(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        names[table.env_var] = name
    return names
