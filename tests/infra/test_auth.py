"""The Cognito user pool in the template: who signs in, the resource server's scopes, the machine clients
and the dashboard's client."""

from __future__ import annotations

from finscore.resources import APP_CLIENTS, AUTH_RESOURCE_SERVER, DASHBOARD_CLIENT, SCOPES


def test_the_resource_server_has_one_scope_per_purpose(synthesized):
    (server,) = synthesized.resources("AWS::Cognito::UserPoolResourceServer").values()
    properties = server["Properties"]
    assert properties["Identifier"] == AUTH_RESOURCE_SERVER
    assert {scope["ScopeName"] for scope in properties["Scopes"]} == {scope.name for scope in SCOPES}
    assert {scope.identifier for scope in SCOPES} == {
        "finscore/score", "finscore/customers.read", "finscore/interventions.write", "finscore/admin"}


def test_people_are_invited_and_sign_in_with_a_strong_password_and_mfa(synthesized):
    (pool,) = synthesized.resources("AWS::Cognito::UserPool").values()
    properties = pool["Properties"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert properties["MfaConfiguration"] == "ON"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[key] for key in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert properties["UserPoolTier"] == "PLUS"
    assert pool["DeletionPolicy"] == "Retain"


def _scope_names(synthesized, client: dict) -> tuple[str, ...]:
    """A client's allowed scopes as tokens carry them: each is Join(Ref(resource server), "/<scope>"),
    the Ref making the client wait for the server, and a resource server's Ref is its identifier."""
    (server_id,) = synthesized.resources("AWS::Cognito::UserPoolResourceServer")
    names = []
    for scope in client["AllowedOAuthScopes"]:
        separator, (server, suffix) = scope["Fn::Join"]
        assert separator == "" and server == {"Ref": server_id}
        names.append(AUTH_RESOURCE_SERVER + suffix)
    return tuple(sorted(names))


def test_machine_clients_use_client_credentials_with_their_scopes_only(synthesized):
    clients = {_scope_names(synthesized, client["Properties"]): client["Properties"]
               for client in synthesized.resources("AWS::Cognito::UserPoolClient").values()
               if client["Properties"]["AllowedOAuthFlows"] == ["client_credentials"]}
    assert len(clients) == len(APP_CLIENTS)
    for spec in APP_CLIENTS:
        client = clients[tuple(sorted(scope.identifier for scope in spec.scopes))]
        assert client["GenerateSecret"] is True
        assert client["AllowedOAuthFlows"] == ["client_credentials"]
        assert client["AllowedOAuthFlowsUserPoolClient"] is True
    # No system that scores can also promote, roll back or retrain.
    assert sum("finscore/admin" in scopes for scopes in clients) == 1
    assert ("finscore/admin",) in clients


def test_the_stack_says_where_to_get_a_token(template):
    outputs = template["Outputs"]
    assert {"UserPoolId", "TokenUrl", *(f"{spec.logical_id}Id" for spec in APP_CLIENTS)} <= set(outputs)
    assert "/oauth2/token" in str(outputs["TokenUrl"]["Value"])
    (domain,) = [resource for resource in template["Resources"].values()
                 if resource["Type"] == "AWS::Cognito::UserPoolDomain"]
    assert "finscore-" in str(domain["Properties"]["Domain"])


def test_the_dashboard_signs_people_in_with_a_code_and_pkce_and_no_admin_scope(synthesized):
    (client,) = [client["Properties"] for client in synthesized.resources("AWS::Cognito::UserPoolClient").values()
                 if client["Properties"]["AllowedOAuthFlows"] != ["client_credentials"]]
    # A browser keeps no secret: a public client with the authorization code flow (PKCE) only.
    assert client["AllowedOAuthFlows"] == ["code"] and not client.get("GenerateSecret")
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert _scope_names(synthesized, client) == tuple(sorted(scope.identifier for scope in DASHBOARD_CLIENT.scopes))
    assert "finscore/admin" not in _scope_names(synthesized, client)
    # It comes back only to the site CloudFront serves.
    (distribution_id,) = synthesized.resources("AWS::CloudFront::Distribution")
    (callback,) = client["CallbackURLs"]
    assert callback == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}
