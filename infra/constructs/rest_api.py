"""The REST API: /v1 routes of every function (finscore.products.all_functions), a Cognito token with the
route's scope and an API key on every method but the public ones, a usage plan, and a WAF web ACL in front
of the stage (infra/constructs/waf.py).

The token says what a caller may do (its scopes, infra/constructs/auth.py); the API key which client it
is, for the usage plan's throttling and quota. Admin routes take Cognito with the admin scope rather than
AWS_IAM: a method has exactly one authorization type, API keys cannot be scoped to methods, and the
admin scope is granted to the admin app client alone, so no system that scores can promote, roll back
or retrain. /v1/health, /v1/openapi.json and /v1/docs answer without credentials (SPEC §7).
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from finscore.resources import API_BASE_PATH, CORS_METHODS, FunctionSpec
from infra.config import FinScoreConfig
from infra.constructs.auth import ApiAuth
from infra.constructs.waf import ApiFirewall

# API Gateway's own refusals (no key, throttled, ...) in FinScore's one error shape, with the codes
# the local gateway uses. Gateway response templates allow plain $context substitution only (no
# VTL), hence one fixed code per response type; messageString arrives already JSON-quoted.
_GATEWAY_ERROR_CODES = {
    apigw.ResponseType.ACCESS_DENIED: "forbidden",
    # No token, or one the authorizer refuses (expired, forged, another pool's, lacking the scope).
    apigw.ResponseType.UNAUTHORIZED: "unauthorized",
    apigw.ResponseType.INVALID_API_KEY: "forbidden",
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: "forbidden",
    apigw.ResponseType.THROTTLED: "throttled",
    apigw.ResponseType.QUOTA_EXCEEDED: "quota_exceeded",
    apigw.ResponseType.REQUEST_TOO_LARGE: "request_too_large",
    apigw.ResponseType.DEFAULT_4_XX: "request_rejected",
    apigw.ResponseType.DEFAULT_5_XX: "gateway_error",
}

# One JSON line per request: CDK's standard fields, plus the id of the API key that called, so a
# client's traffic (and a key to revoke) can be told apart in the logs; the key itself is never logged.
ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "user": apigw.AccessLogField.context_identity_user(),
    "caller": apigw.AccessLogField.context_identity_caller(),
    "apiKeyId": apigw.AccessLogField.context_identity_api_key_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
}


def _error_template(code: str) -> str:
    return '{"error": {"code": "' + code + '", "message": $context.error.messageString, "details": []}}'


class ScoringApi(Construct):
    """The API, its stage (tracing, JSON access logs, throttling, web ACL), routes, usage plan and first key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FinScoreConfig,
        functions: dict[FunctionSpec, lambda_.IFunction],
        auth: ApiAuth,
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.auth = auth
        # The dashboard's origin and any cdk.json adds (corsAllowedOrigins): no other page may call the API.
        self.cors_origins = tuple(dict.fromkeys((*cors_origins, *config.cors_allowed_origins)))
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name="FinScore",
            description="FinScore scoring API",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.REGIONAL]),
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            # The account-level role API Gateway needs to write execution logs to CloudWatch.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=config.api_stage_name,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                # ERROR, not INFO, and no data trace: request bodies carry customers' financial data.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                # Caps every method for all callers together, including /health and IAM-signed admin
                # calls that no usage plan meters.
                throttling_rate_limit=config.api_stage_throttle_rate_limit,
                throttling_burst_limit=config.api_stage_throttle_burst_limit,
            ),
        )
        for response_type, code in _GATEWAY_ERROR_CODES.items():
            self.api.add_gateway_response(
                f"{response_type.response_type}Response",
                type=response_type,
                templates={"application/json": _error_template(code)},
            )
        self._add_routes(functions, config)
        self.usage_plan, self.api_key = self._metered_access(config)
        self.firewall = ApiFirewall(self, "Firewall", stage=self.api.deployment_stage,
                                    rate_limit_per_5min=config.waf_rate_limit_per_5min)
        self._acknowledge_findings()

    def _add_routes(self, functions: dict[FunctionSpec, lambda_.IFunction], config: FinScoreConfig) -> None:
        base = self.api.root.add_resource(API_BASE_PATH.strip("/"))
        for spec, function in functions.items():
            # One invoke permission per function for this API instead of two per method: the
            # function's resource policy has a 20 KB limit that a product with a dozen routes
            # would otherwise approach, and every method of this API is ours.
            integration = apigw.LambdaIntegration(function, scope_permission_to_method=False)
            for route in spec.all_routes:
                resource = base.resource_for_path(route.path.strip("/"))
                if route.scope is None:
                    _acknowledge_public_method(resource.add_method(route.method, integration, api_key_required=False))
                    continue
                resource.add_method(
                    route.method, integration, api_key_required=True,
                    authorization_type=apigw.AuthorizationType.COGNITO, authorizer=self.auth.authorizer,
                    authorization_scopes=[route.scope.identifier],
                )
            if self.cors_origins:
                for path in {route.path for route in spec.all_routes}:
                    resource = base.resource_for_path(path.strip("/"))
                    if resource.node.try_find_child("OPTIONS") is None:
                        resource.add_cors_preflight(
                            allow_origins=list(self.cors_origins),
                            allow_headers=["Content-Type", "Authorization", "x-api-key", "Idempotency-Key"],
                            allow_methods=list(CORS_METHODS),
                        )

    def _metered_access(self, config: FinScoreConfig) -> tuple[apigw.UsagePlan, apigw.IApiKey]:
        plan = self.api.add_usage_plan(
            "UsagePlan",
            name="FinScore",
            description="Per-key throttling and daily quota for FinScore API clients",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.api_throttle_rate_limit, burst_limit=config.api_throttle_burst_limit
            ),
            quota=apigw.QuotaSettings(limit=config.api_quota_per_day, period=apigw.Period.DAY),
        )
        plan.add_api_stage(stage=self.api.deployment_stage)
        # One key to start with; further clients get their own keys on the same plan.
        key = apigw.ApiKey(self, "ClientApiKey", description="FinScore API client key")
        plan.add_api_key(key)
        return plan, key

    def _acknowledge_findings(self) -> None:
        Validations.of(self.api.node.default_child).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG2",
                reason="Requests are validated in the functions by the same pydantic models that drive the "
                "OpenAPI document, so a bad field gets FinScore's error shape naming the field (SPEC §3, §7); "
                "an API Gateway validator would answer first with its own shape and a second copy of the schemas.",
            )
        )
        Validations.of(self.api.node.find_child("CloudWatchRole")).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                reason="The account-level role API Gateway uses to write the execution logs the stage enables; "
                "this AWS-managed policy is the one AWS documents for it and grants CloudWatch Logs writes only.",
            )
        )


def _acknowledge_public_method(method: apigw.Method) -> None:
    reason = (
        "/v1/health, /v1/openapi.json and /v1/docs answer without credentials by design: probes call health "
        "(dependency status only) and browsers open the API's own description; none returns customer or model "
        "data, and stage throttling caps them."
    )
    Validations.of(method).acknowledge(*(Acknowledgment(id=finding, reason=reason)
                                         for finding in ("AwsSolutions-APIG4", "AwsSolutions-COG4")))
