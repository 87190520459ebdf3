"""The FinScore stack: data stores, messaging, layers, one function per FunctionSpec, the REST API in front,
the live-updates WebSocket API, the dashboard's site and the alarms, alerts and dashboard that watch them."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from finscore.products import all_functions
from finscore.resources import API_BASE_PATH, BATCH_SCORE, DASHBOARD_CLIENT
from infra.config import FinScoreConfig
from infra.constructs.api_function import FinScoreFunction
from infra.constructs.auth import ApiAuth
from infra.constructs.batch import BatchScoring
from infra.constructs.data import DataStores
from infra.constructs.layers import FunctionLayers
from infra.constructs.lifecycle import ModelLifecycle
from infra.constructs.live_api import LiveApi
from infra.constructs.messaging import Messaging
from infra.constructs.monitoring import Monitoring
from infra.constructs.rest_api import ScoringApi
from infra.constructs.site import DashboardSite

STACK_NAME = "FinScore"


class FinScoreStack(Stack):
    def __init__(self, scope: Construct, construct_id: str = STACK_NAME, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = FinScoreConfig.from_context(self)
        self.data = DataStores(self, "Data", access_log_retention_days=config.log_retention_days)
        self.messaging = Messaging(self, "Messaging", config=config, data=self.data)
        self.layers = FunctionLayers(self, "Layers", runtime=config.runtime, python_version=config.python_version)
        self.functions = {
            spec: FinScoreFunction(
                self, spec.logical_id, spec=spec, config=config, data=self.data, layers=self.layers,
                messaging=self.messaging,
            )
            for spec in all_functions()
        }
        self.batch = BatchScoring(self, "Batch", config=config, data=self.data,
                                  function=next(fn for spec, fn in self.functions.items() if spec.name == BATCH_SCORE.name))
        self.lifecycle = ModelLifecycle(self, "Lifecycle", data=self.data, messaging=self.messaging,
                                        functions=self.functions)
        self.auth = ApiAuth(self, "Auth", domain_prefix=config.auth_domain_prefix)
        self.site = DashboardSite(self, "Site", access_logs=self.data.access_logs)
        self.api = ScoringApi(
            self,
            "Api",
            config=config,
            functions={spec: fn.invoke_target for spec, fn in self.functions.items() if spec.serves_rest},
            auth=self.auth,
            cors_origins=(self.site.origin,),
        )
        # The functions answer CORS for the same origins the preflights allow.
        for spec, fn in self.functions.items():
            if spec.serves_rest:
                fn.function.add_environment("CORS_ALLOWED_ORIGINS", ",".join(self.api.cors_origins))
        self.live = LiveApi(
            self, "Live", config=config, functions={spec: fn.function for spec, fn in self.functions.items()}
        )
        dashboard_client = self.auth.add_dashboard_client(self.site.origin + "/")
        self.live.admit_tokens_of(f"https://cognito-idp.{self.region}.amazonaws.com/{self.auth.user_pool.user_pool_id}",
                                  dashboard_client.user_pool_client_id)
        # What the app reads at start (config.json): where the API is and how people sign in.
        self.site.deploy({
            "auth": "cognito",
            "apiUrl": self.api.api.url_for_path(API_BASE_PATH),
            "wsUrl": self.live.url,
            "cognito": {"domain": self.auth.domain.base_url(), "clientId": dashboard_client.user_pool_client_id,
                        "scopes": [scope.identifier for scope in DASHBOARD_CLIENT.scopes]},
        })
        # Last: it alarms on every dead-letter queue made before it.
        self.monitoring = Monitoring(
            self, "Monitoring", config=config, messaging=self.messaging,
            functions={spec: fn.function for spec, fn in self.functions.items()}, api=self.api.api,
            state_machine=self.batch.state_machine, event_bus=self.lifecycle.bus,
        )
        CfnOutput(self, "DashboardUrl", value=self.site.origin + "/", description="The dashboard (Cognito sign-in)")
        CfnOutput(self, f"{DASHBOARD_CLIENT.logical_id}Id", value=dashboard_client.user_pool_client_id,
                  description="The dashboard's public app client (hosted UI, authorization code + PKCE)")
        CfnOutput(self, "LiveUrl", value=self.live.url, description="WebSocket URL of the live risk updates")
        CfnOutput(self, "ApiBaseUrl", value=self.api.api.url_for_path(API_BASE_PATH))
        CfnOutput(
            self,
            "ApiKeyId",
            value=self.api.api_key.key_id,
            description="`aws apigateway get-api-key --include-value --api-key <id>` prints the key",
        )
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id,
                  description="The Cognito user pool whose access tokens the API accepts")
        CfnOutput(self, "TokenUrl", value=self.auth.token_url,
                  description="POST grant_type=client_credentials&scope=... with a client's id and secret (Basic auth)")
        for spec, app_client in self.auth.clients.items():
            CfnOutput(self, f"{spec.logical_id}Id", value=app_client.user_pool_client_id,
                      description=f"App client for tokens with {' '.join(s.identifier for s in spec.scopes)}; "
                      "`aws cognito-idp describe-user-pool-client` shows its secret")
        CfnOutput(self, "AlertTopicArn", value=self.monitoring.topic.topic_arn,
                  description="Alarms and ModelRejected/DriftDetected events; subscribe operators here")
        for spec, bucket in self.data.buckets.items():
            CfnOutput(self, f"{spec.logical_id}Name", value=bucket.bucket_name)
        for spec, table in self.data.tables.items():
            CfnOutput(self, f"{spec.logical_id}Name", value=table.table_name)
        for spec, topic in self.messaging.topics.items():
            CfnOutput(self, f"{spec.logical_id}Arn", value=topic.topic_arn)
        for spec, queue in self.messaging.queues.items():
            CfnOutput(self, f"{spec.logical_id}Url", value=queue.queue_url)
