"""Model manifests, the S3 model store, the DynamoDB registry and the champion cache."""
