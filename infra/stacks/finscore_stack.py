"""The FinScore stack: data stores, layers, one function per API FunctionSpec and the REST API in front."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from finscore.resources import API_BASE_PATH, FUNCTIONS
from infra.config import FinScoreConfig
from infra.constructs.api_function import ApiFunction
from infra.constructs.data import DataStores
from infra.constructs.layers import FunctionLayers
from infra.constructs.rest_api import ScoringApi

STACK_NAME = "FinScore"


class FinScoreStack(Stack):
    def __init__(self, scope: Construct, construct_id: str = STACK_NAME, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = FinScoreConfig.from_context(self)
        self.data = DataStores(self, "Data", access_log_retention_days=config.log_retention_days)
        self.layers = FunctionLayers(self, "Layers", runtime=config.runtime, python_version=config.python_version)
        self.functions = {
            spec: ApiFunction(self, spec.logical_id, spec=spec, config=config, data=self.data, layers=self.layers)
            for spec in FUNCTIONS
        }
        self.api = ScoringApi(
            self, "Api", config=config, functions={spec: fn.function for spec, fn in self.functions.items()}
        )
        CfnOutput(self, "ApiBaseUrl", value=self.api.api.url_for_path(API_BASE_PATH))
        CfnOutput(
            self,
            "ApiKeyId",
            value=self.api.api_key.key_id,
            description="`aws apigateway get-api-key --include-value --api-key <id>` prints the key",
        )
        for spec, bucket in self.data.buckets.items():
            CfnOutput(self, f"{spec.logical_id}Name", value=bucket.bucket_name)
        for spec, table in self.data.tables.items():
            CfnOutput(self, f"{spec.logical_id}Name", value=table.table_name)
