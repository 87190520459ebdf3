"""Who may call the REST API: a Cognito user pool with FinScore's resource server and scopes, the app
clients machines get tokens with (client credentials), the domain of its token endpoint, and the
authorizer every method but the public ones takes, with the scope its route declares.

The scopes and app clients are finscore.resources.SCOPES and APP_CLIENTS, which the local run also
creates in the embedded Cognito.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from finscore.resources import (
    APP_CLIENTS,
    AUTH_RESOURCE_SERVER,
    DASHBOARD_CLIENT,
    SCOPES,
    USER_POOL_LOGICAL_ID,
    AppClientSpec,
)

# Machine tokens are short-lived; a client asks for a new one with its secret.
ACCESS_TOKEN_VALIDITY = Duration.minutes(60)


class ApiAuth(Construct):
    """The user pool, its resource server, one app client per AppClientSpec, the domain and the authorizer."""

    def __init__(self, scope: Construct, construct_id: str, *, domain_prefix: str | None) -> None:
        super().__init__(scope, construct_id)
        # People sign in to the dashboard here, invited by an administrator: no self sign-up, a strong
        # password and a TOTP second factor; the Plus feature plan's threat protection blocks
        # compromised credentials and risky sign-ins. Machines use the clients below.
        self.user_pool = cognito.UserPool(
            self,
            USER_POOL_LOGICAL_ID,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.server_scopes = server_scopes = {scope: cognito.ResourceServerScope(scope_name=scope.name, scope_description=scope.description)
                         for scope in SCOPES}
        self.resource_server = self.user_pool.add_resource_server(
            "ResourceServer", identifier=AUTH_RESOURCE_SERVER, scopes=list(server_scopes.values())
        )
        self.clients: dict[AppClientSpec, cognito.UserPoolClient] = {
            spec: self.user_pool.add_client(
                spec.logical_id,
                generate_secret=True,
                # Client credentials only: no user signs in through a machine client.
                auth_flows=cognito.AuthFlow(),
                o_auth=cognito.OAuthSettings(
                    flows=cognito.OAuthFlows(client_credentials=True),
                    scopes=[cognito.OAuthScope.resource_server(self.resource_server, server_scopes[scope])
                            for scope in spec.scopes],
                ),
                access_token_validity=ACCESS_TOKEN_VALIDITY,
                enable_token_revocation=True,
                prevent_user_existence_errors=True,
            )
            for spec in APP_CLIENTS
        }
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix or f"finscore-{Aws.ACCOUNT_ID}"),
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.user_pool],
            authorizer_name="FinScoreCognito",
        )

    def add_dashboard_client(self, site_url: str) -> cognito.UserPoolClient:
        """The dashboard's client: people sign in through the hosted UI and come back to SITE_URL with a
        code, which the app trades for tokens with its PKCE verifier (a public client: no secret)."""
        client = self.user_pool.add_client(
            DASHBOARD_CLIENT.logical_id,
            generate_secret=False,
            auth_flows=cognito.AuthFlow(),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.resource_server(self.resource_server, self.server_scopes[scope])
                        for scope in DASHBOARD_CLIENT.scopes],
                callback_urls=[site_url],
                logout_urls=[site_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            access_token_validity=ACCESS_TOKEN_VALIDITY,
            id_token_validity=ACCESS_TOKEN_VALIDITY,
            refresh_token_validity=Duration.hours(12),
            enable_token_revocation=True,
            prevent_user_existence_errors=True,
        )
        return client

    @property
    def token_url(self) -> str:
        return self.domain.base_url() + "/oauth2/token"
