"""The REST API in the template: /v1 routes for every FunctionSpec, Cognito scopes and keys, throttling."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from finscore.products import all_functions
from finscore.resources import ADMIN_SCOPE, API_BASE_PATH, SCOPES

FUNCTIONS = all_functions()


def _resource_paths(synthesized) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource -> its full path, e.g. /v1/models/{product}."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        parent = properties["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""  # GetAtt RootResourceId: the API root
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path_of(logical_id) for logical_id in resources}


@pytest.fixture(scope="module")
def methods(synthesized) -> dict[tuple[str, str], dict]:
    """(HTTP method, full path) -> the method's Properties, for every route's method; the CORS preflights
    (OPTIONS, answered by API Gateway itself without credentials, as browsers send them) are left out."""
    paths = _resource_paths(synthesized)
    found = {}
    for method in synthesized.resources("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        if properties["HttpMethod"] == "OPTIONS":
            continue
        found[(properties["HttpMethod"], paths[properties["ResourceId"]["Ref"]])] = properties
    return found


def _routes(kind: str):
    return [
        pytest.param(spec, method, path, id=f"{method} {path}")
        for spec in FUNCTIONS
        for method, path, _ in getattr(spec, kind)
    ]


def _invoked_function(properties: dict) -> str:
    """The logical id of the Lambda function a proxy integration invokes, directly or through its alias."""
    uri = json.dumps(properties["Integration"]["Uri"])
    return next(spec.logical_id for spec in FUNCTIONS
                if f'"{spec.logical_id}", "Arn"' in uri or f'"Ref": "{spec.logical_id}LiveAlias' in uri)


def test_every_method_is_a_declared_route(methods):
    declared = {
        (method, API_BASE_PATH + path)
        for spec in FUNCTIONS
        for method, path, _ in spec.all_routes
    }
    assert set(methods) == declared


def _authorizer_id(synthesized) -> str:
    (logical_id,) = synthesized.resources("AWS::ApiGateway::Authorizer")
    return logical_id


@pytest.mark.parametrize(("spec", "method", "path"), _routes("routes"))
def test_route_requires_a_token_with_its_scope_and_an_api_key(synthesized, methods, spec, method, path):
    properties = methods[(method, API_BASE_PATH + path)]
    route = next(route for route in spec.routes if (route.method, route.path) == (method, path))
    assert properties["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert properties["AuthorizerId"] == {"Ref": _authorizer_id(synthesized)}
    assert properties["AuthorizationScopes"] == [route.scope.identifier]
    assert properties["ApiKeyRequired"] is True
    assert properties["Integration"]["Type"] == "AWS_PROXY"
    assert _invoked_function(properties) == spec.logical_id


@pytest.mark.parametrize(("spec", "method", "path"), _routes("public_routes"))
def test_public_route_needs_no_key(methods, spec, method, path):
    properties = methods[(method, API_BASE_PATH + path)]
    assert not properties.get("ApiKeyRequired", False)
    assert properties["AuthorizationType"] == "NONE"
    assert _invoked_function(properties) == spec.logical_id


@pytest.mark.parametrize(("spec", "method", "path"), _routes("admin_routes"))
def test_admin_route_needs_the_admin_scope_and_a_key(methods, spec, method, path):
    properties = methods[(method, API_BASE_PATH + path)]
    assert properties["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert properties["AuthorizationScopes"] == [ADMIN_SCOPE.identifier]
    assert properties["ApiKeyRequired"] is True
    assert _invoked_function(properties) == spec.logical_id


def test_every_method_but_the_public_ones_takes_a_cognito_token_with_one_scope(methods):
    public = {("GET", f"{API_BASE_PATH}/health"), ("GET", f"{API_BASE_PATH}/openapi.json"),
              ("GET", f"{API_BASE_PATH}/docs")}
    known = {scope.identifier for scope in SCOPES}
    for route, properties in methods.items():
        if route in public or route[0] == "OPTIONS":
            continue
        assert properties["AuthorizationType"] == "COGNITO_USER_POOLS", route
        assert len(properties["AuthorizationScopes"]) == 1 and properties["AuthorizationScopes"][0] in known, route


def test_customer_data_and_interventions_need_their_own_scopes(methods):
    scopes = {route: properties.get("AuthorizationScopes") for route, properties in methods.items()}
    assert scopes[("GET", f"{API_BASE_PATH}/risk/customers/{{customer_id}}")] == ["finscore/customers.read"]
    assert scopes[("GET", f"{API_BASE_PATH}/risk/high-risk")] == ["finscore/customers.read"]
    assert scopes[("PATCH", f"{API_BASE_PATH}/risk/interventions/{{intervention_id}}")] == [
        "finscore/interventions.write"]
    assert scopes[("POST", f"{API_BASE_PATH}/risk/score")] == ["finscore/score"]


def test_the_authorizer_trusts_the_user_pool(synthesized):
    authorizer = synthesized.resource(_authorizer_id(synthesized))["Properties"]
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"


def test_only_health_and_the_api_description_are_public(methods):
    public = {route for route, properties in methods.items() if not properties.get("ApiKeyRequired", False)}
    assert public == {route for route, properties in methods.items() if properties["AuthorizationType"] == "NONE"}
    assert public == {("GET", f"{API_BASE_PATH}/health"), ("GET", f"{API_BASE_PATH}/openapi.json"),
                      ("GET", f"{API_BASE_PATH}/docs")}


def test_stage_traces_logs_and_throttles(assertions, context):
    assertions.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": context["apiStageName"],
            "TracingEnabled": True,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp('"status"')},
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "HttpMethod": "*",
                            "ResourcePath": "/*",
                            "LoggingLevel": "ERROR",
                            "DataTraceEnabled": False,
                            "ThrottlingRateLimit": context["apiStageThrottleRateLimit"],
                            "ThrottlingBurstLimit": context["apiStageThrottleBurstLimit"],
                        }
                    )
                ]
            ),
        },
    )


def test_usage_plan_throttles_and_meters_the_stage(synthesized, context):
    (plan,) = synthesized.resources("AWS::ApiGateway::UsagePlan").values()
    properties = plan["Properties"]
    assert properties["Throttle"] == {
        "RateLimit": context["apiThrottleRateLimit"],
        "BurstLimit": context["apiThrottleBurstLimit"],
    }
    assert properties["Quota"] == {"Limit": context["apiQuotaPerDay"], "Period": "DAY"}
    (stage_logical_id,) = synthesized.resources("AWS::ApiGateway::Stage")
    assert properties["ApiStages"][0]["Stage"] == {"Ref": stage_logical_id}
    assert len(synthesized.resources("AWS::ApiGateway::UsagePlanKey")) == 1


def test_one_invoke_permission_per_function_scoped_to_this_api(synthesized):
    (api_logical_id,) = synthesized.resources("AWS::ApiGateway::RestApi")
    permissions = [
        permission for permission in synthesized.resources("AWS::Lambda::Permission").values()
        # (EventBridge rules' permissions name their rule ARN, not a joined API ARN)
        if {"Ref": api_logical_id} in permission["Properties"]["SourceArn"].get("Fn::Join", ["", []])[1]
    ]
    # A SnapStart function is invoked through its alias (test_snap_start.py checks which one).
    invoked = sorted(
        permission["Properties"]["FunctionName"].get("Fn::GetAtt", [None])[0]
        or permission["Properties"]["FunctionName"]["Ref"].split("LiveAlias")[0]
        for permission in permissions
    )
    assert invoked == sorted(
        spec.logical_id for spec in FUNCTIONS if spec.routes or spec.public_routes or spec.admin_routes
    )
    for permission in permissions:
        assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
        assert {"Ref": api_logical_id} in permission["Properties"]["SourceArn"]["Fn::Join"][1]


def _rendered_error(gateway_response: dict) -> dict:
    """The error body API Gateway would send; it substitutes messageString already JSON-quoted."""
    template = gateway_response["ResponseTemplates"]["application/json"]
    return json.loads(template.replace("$context.error.messageString", '"Forbidden"'))["error"]


def test_gateway_errors_use_the_finscore_error_shape(synthesized):
    responses = synthesized.resources("AWS::ApiGateway::GatewayResponse").values()
    by_type = {response["Properties"]["ResponseType"]: response["Properties"] for response in responses}
    expected = {"DEFAULT_4XX", "DEFAULT_5XX", "INVALID_API_KEY", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"}
    assert expected <= set(by_type)
    for response_type, properties in by_type.items():
        error = _rendered_error(properties)
        assert set(error) == {"code", "message", "details"}, response_type
        assert error["code"].islower() and error["message"] == "Forbidden" and error["details"] == []
    # The local gateway answers a missing or wrong key with the same code.
    assert _rendered_error(by_type["INVALID_API_KEY"])["code"] == "forbidden"
    assert _rendered_error(by_type["THROTTLED"])["code"] == "throttled"


def _preflights(template: dict) -> list[dict]:
    return [resource for resource in template["Resources"].values()
            if resource["Type"] == "AWS::ApiGateway::Method" and resource["Properties"]["HttpMethod"] == "OPTIONS"]


def _site_origin(template: dict) -> dict:
    (distribution_id,) = [logical_id for logical_id, resource in template["Resources"].items()
                          if resource["Type"] == "AWS::CloudFront::Distribution"]
    return {"Fn::GetAtt": [distribution_id, "DomainName"]}


def test_every_route_answers_a_preflight_for_the_dashboard_site_only(synthesized):
    preflights = _preflights(synthesized.template)
    assert len(preflights) == len({route.path for spec in all_functions() for route in spec.all_routes})
    origin = {"Fn::Join": ["", ["'https://", _site_origin(synthesized.template), "'"]]}
    for preflight in preflights:
        headers = preflight["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == origin
        # Every method a route has may be sent from the site (custom models' upload and retire: PUT, DELETE).
        allowed = set(headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
        assert {route.method for spec in all_functions() for route in spec.all_routes} <= allowed
    # The functions answer CORS for the same origin.
    for spec in all_functions():
        if spec.serves_rest:
            variables = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
            assert variables["CORS_ALLOWED_ORIGINS"] == {"Fn::Join": ["", ["https://", _site_origin(synthesized.template)]]}


def test_configured_origins_are_allowed_beside_the_site_and_the_synth_stays_clean(tmp_path):
    from infra.synth import build_app

    origin = "https://dashboard.example.com"
    # When an owner allows another browser origin, then the synth (cdk-nag included) still passes...
    assembly = build_app(tmp_path, {"corsAllowedOrigins": origin}).synth()
    template = assembly.get_stack_by_name("FinScore").template
    # ...and every route's preflight answers that origin and the site's, no other.
    for preflight in _preflights(template):
        answer = json.dumps(preflight["Properties"]["Integration"])
        assert origin in answer and json.dumps(_site_origin(template)) in answer


def test_access_logs_name_the_calling_api_key(synthesized):
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage").values()
    fields = json.loads(stage["Properties"]["AccessLogSetting"]["Format"])
    assert fields["apiKeyId"] == "$context.identity.apiKeyId"
    # The standard fields stay: who called, what, when and with what answer.
    assert {"requestId", "ip", "caller", "user", "requestTime", "httpMethod", "resourcePath", "status",
            "protocol", "responseLength"} <= set(fields)
