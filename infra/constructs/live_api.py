"""The live-updates WebSocket API: routes from every FunctionSpec's websocket_routes, and the
management endpoint for every function that posts to connections (LIVE_ENDPOINT_URL and
execute-api:ManageConnections on this stage's @connections only).

Pushed messages name customers and their risk, so $connect admits only dashboards signed in through
Cognito: WebSocket APIs take no Cognito authorizer, and a browser cannot sign a URL with SigV4, so
the $connect integration itself checks the user's access token (?token=) against the user pool's
keys, issuer, the dashboard's client and the customer-data scope, and refuses the handshake otherwise.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from finscore.resources import FunctionSpec
from infra.config import FinScoreConfig

LIVE_ENDPOINT_VARIABLE = "LIVE_ENDPOINT_URL"
TOKEN_ISSUER_VARIABLE = "LIVE_TOKEN_ISSUER"
TOKEN_CLIENT_VARIABLE = "LIVE_TOKEN_CLIENT_ID"
API_LOGICAL_ID = "LiveWebSocketApi"
_ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller",'
    '"user":"$context.identity.user","requestTime":"$context.requestTime","eventType":"$context.eventType",'
    '"routeKey":"$context.routeKey","status":"$context.status","connectionId":"$context.connectionId"}'
)


class LiveApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FinScoreConfig,
        functions: dict[FunctionSpec, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self, "WebSocketApi", api_name="FinScoreLive", description="FinScore live risk updates for dashboards"
        )
        self.api.node.default_child.override_logical_id(API_LOGICAL_ID)
        self.connect_functions: list[lambda_.Function] = []
        for spec, function in functions.items():
            for route_key in spec.websocket_routes:
                route = self.api.add_route(
                    route_key,
                    integration=integrations.WebSocketLambdaIntegration(f"{spec.logical_id}{_name(route_key)}",
                                                                        function),
                )
                if route_key == "$connect":
                    self.connect_functions.append(function)
                _acknowledge_route_findings(route, route_key)
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=config.api_stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_stage_throttle_rate_limit, burst_limit=config.api_stage_throttle_burst_limit
            ),
        )
        cfn_stage = self.stage.node.default_child
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=_ACCESS_LOG_FORMAT
        )
        # ERROR, not INFO, and no data trace: pushed messages carry customers' risk data.
        cfn_stage.add_property_override("DefaultRouteSettings.LoggingLevel", "ERROR")
        cfn_stage.add_property_override("DefaultRouteSettings.DataTraceEnabled", False)
        cfn_stage.add_property_override("DefaultRouteSettings.DetailedMetricsEnabled", True)
        for spec, function in functions.items():
            if spec.posts_to_connections:
                function.add_environment(LIVE_ENDPOINT_VARIABLE, self.stage.callback_url)
                self.stage.grant_management_api_access(function)
                Validations.of(function.role.node.find_child("DefaultPolicy")).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                        f"<AWS::AccountId>:<{API_LOGICAL_ID}>/{config.api_stage_name}/*/@connections/*]",
                        reason="execute-api:ManageConnections on this stage's @connections only (any method: POST "
                        "to push, GET and DELETE to inspect and close): connection ids are assigned by API Gateway "
                        "when a dashboard connects, so no fixed list exists.",
                    )
                )

    def admit_tokens_of(self, issuer: str, client_id: str) -> None:
        """Let $connect admit dashboards with an access token ISSUER issued to CLIENT_ID (and no one else)."""
        for function in self.connect_functions:
            function.add_environment(TOKEN_ISSUER_VARIABLE, issuer)
            function.add_environment(TOKEN_CLIENT_VARIABLE, client_id)

    @property
    def url(self) -> str:
        return self.stage.url


def _name(route_key: str) -> str:
    return route_key.strip("$").capitalize() + "Integration"


def _acknowledge_route_findings(route: apigwv2.WebSocketRoute, route_key: str) -> None:
    cfn_route = route.node.default_child
    if route_key == "$connect":
        reason = ("$connect admits only a dashboard with a valid Cognito access token (?token=): its integration "
                  "checks the token's signature, issuer, client and scope, because WebSocket APIs take no Cognito "
                  "user pool authorizer and browsers cannot sign URLs with SigV4.")
    else:
        reason = ("API Gateway allows authorization on $connect only; this route runs for a connection that "
                  "$connect already admitted with a valid access token, and it only forgets that connection.")
    Validations.of(cfn_route).acknowledge(
        Acknowledgment(id="AwsSolutions-APIG4", reason=reason),
        Acknowledgment(id="AwsSolutions-COG4", reason=reason),
    )
