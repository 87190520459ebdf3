"""The live-updates WebSocket API: routes from websocket_routes, $connect admitting the dashboard's Cognito
tokens, the broadcaster's endpoint."""

from __future__ import annotations

import json

from finscore.products import all_functions
from finscore.products.risk.spec import LIVE_BROADCAST

FUNCTIONS = all_functions()


def test_every_websocket_route_reaches_its_function(synthesized):
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in synthesized.resources("AWS::ApiGatewayV2::Route").values()}
    declared = {route: spec for spec in FUNCTIONS for route in spec.websocket_routes}
    assert set(routes) == set(declared)
    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    for route_key, properties in routes.items():
        integration_id = properties["Target"]["Fn::Join"][1][1]["Ref"]
        uri = json.dumps(integrations[integration_id]["Properties"]["IntegrationUri"])
        assert f'"{declared[route_key].logical_id}", "Arn"' in uri
    # A browser cannot sign with SigV4: $connect's function checks the user's access token itself.
    assert routes["$connect"].get("AuthorizationType", "NONE") == "NONE"


def test_connect_admits_only_tokens_of_the_dashboard_client(synthesized):
    connect = next(spec for spec in FUNCTIONS if "$connect" in spec.websocket_routes)
    variables = synthesized.resource(connect.logical_id)["Properties"]["Environment"]["Variables"]
    (pool_id,) = synthesized.resources("AWS::Cognito::UserPool")
    (dashboard_client,) = [logical_id for logical_id, client in synthesized.resources("AWS::Cognito::UserPoolClient").items()
                           if client["Properties"]["AllowedOAuthFlows"] == ["code"]]
    assert variables["LIVE_TOKEN_CLIENT_ID"] == {"Ref": dashboard_client}
    issuer = json.dumps(variables["LIVE_TOKEN_ISSUER"])
    assert "https://cognito-idp." in issuer and json.dumps({"Ref": pool_id}) in issuer


def test_stage_logs_access_and_errors_and_throttles(synthesized, context):
    (stage,) = synthesized.resources("AWS::ApiGatewayV2::Stage").values()
    properties = stage["Properties"]
    assert properties["StageName"] == context["apiStageName"]
    assert "connectionId" in properties["AccessLogSettings"]["Format"]
    settings = properties["DefaultRouteSettings"]
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] == context["apiStageThrottleRateLimit"]


def test_broadcaster_gets_the_stage_callback_url(synthesized, context):
    variables = synthesized.resource(LIVE_BROADCAST.logical_id)["Properties"]["Environment"]["Variables"]
    url = json.dumps(variables["LIVE_ENDPOINT_URL"])
    assert '"https://"' in url and '"Ref": "LiveWebSocketApi"' in url and f"/{context['apiStageName']}" in url
    assert "LiveUrl" in synthesized.template["Outputs"]
