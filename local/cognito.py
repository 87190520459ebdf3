"""The embedded Cognito: the CDK app's user pool, resource server and app clients under their local names,
the tokens the local run hands out, and the check the local gateway makes of them with FINSCORE_AUTH=cognito.

moto (5.2 here) has no OAuth2 token endpoint, so no client-credentials grant: the nearest real token it
issues is an access token of an admin-initiated sign-in (ADMIN_USER_PASSWORD_AUTH), signed with the key
it publishes at /<pool>/.well-known/jwks.json. Its "scope" claim is always aws.cognito.signin.user.admin,
so a client's scopes are expressed the one way moto carries them: a machine user per client and set of
scopes, member of one group per scope, each group named after the scope's identifier (finscore/score);
the token lists them in cognito:groups. The gateway takes a token's scopes from both claims and passes the
function the claims a client-credentials token would carry ("scope": the scopes, space-separated).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from finscore import resources
from finscore.aws import client

AUTH_ENV = "FINSCORE_AUTH"
AUTH_MODES = ("key", "cognito")


def auth_mode() -> str:
    """How the local gateway checks callers: "key" (API keys, the default) or "cognito" (FINSCORE_AUTH)."""
    mode = (os.environ.get(AUTH_ENV) or "key").strip().lower()
    if mode not in AUTH_MODES:
        raise ValueError(f"{AUTH_ENV} must be one of {', '.join(AUTH_MODES)}, got {mode!r}")
    return mode


@dataclass(frozen=True)
class AppClient:
    logical_id: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]  # scope identifiers it may ask for


@dataclass(frozen=True)
class LocalUserPool:
    """What a caller needs to get and check tokens of the embedded user pool."""

    user_pool_id: str
    region: str
    clients: dict[str, AppClient] = field(default_factory=dict)  # by logical id

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def as_state(self) -> dict[str, Any]:
        """For the stack's state file (FINSCORE_HOME/stack.json)."""
        return {"user_pool_id": self.user_pool_id, "region": self.region, "issuer": self.issuer,
                "clients": {name: {"client_id": c.client_id, "client_secret": c.client_secret, "scopes": list(c.scopes)}
                            for name, c in self.clients.items()}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LocalUserPool:
        return cls(state["user_pool_id"], state["region"], {
            name: AppClient(name, c["client_id"], c["client_secret"], tuple(c["scopes"]))
            for name, c in state["clients"].items()})

    def client_for(self, scopes: tuple[str, ...]) -> AppClient:
        """The app client that may ask for every scope of SCOPES (its own scopes when SCOPES is empty)."""
        for app_client in self.clients.values():
            if set(scopes) <= set(app_client.scopes):
                return app_client
        known = sorted(scope for app_client in self.clients.values() for scope in app_client.scopes)
        raise ValueError(f"No app client may ask for {' '.join(scopes)}; the scopes are {', '.join(known)} and "
                         "finscore/admin comes from its own client, with no other scope")


def create_user_pool() -> LocalUserPool:
    """Create (idempotently, by name) the user pool, its resource server with every scope, a group per scope
    and the app clients of finscore.resources, as the CDK app does; returns their ids and secrets."""
    cognito = client("cognito-idp")
    name = resources.local_name(resources.USER_POOL_LOGICAL_ID)
    pool_id = next((pool["Id"] for pool in cognito.list_user_pools(MaxResults=60)["UserPools"] if pool["Name"] == name),
                   None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(PoolName=name, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
                                           MfaConfiguration="OFF")["UserPool"]["Id"]
        cognito.create_resource_server(
            UserPoolId=pool_id, Identifier=resources.AUTH_RESOURCE_SERVER, Name=resources.AUTH_RESOURCE_SERVER,
            Scopes=[{"ScopeName": scope.name, "ScopeDescription": scope.description} for scope in resources.SCOPES])
        for scope in resources.SCOPES:
            cognito.create_group(UserPoolId=pool_id, GroupName=scope.identifier, Description=scope.description)
    existing = {c["ClientName"]: c["ClientId"]
                for c in cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]}
    clients = {}
    for spec in resources.APP_CLIENTS:
        client_name = resources.local_name(spec.logical_id)
        if client_name in existing:
            described = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=existing[client_name])
        else:
            described = cognito.create_user_pool_client(
                UserPoolId=pool_id, ClientName=client_name, GenerateSecret=True,
                AllowedOAuthFlows=["client_credentials"], AllowedOAuthFlowsUserPoolClient=True,
                AllowedOAuthScopes=[scope.identifier for scope in spec.scopes],
                # What moto can issue tokens by (see the module's docstring); not on the deployed clients.
                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
            )
        details = described["UserPoolClient"]
        clients[spec.logical_id] = AppClient(spec.logical_id, details["ClientId"], details["ClientSecret"],
                                             tuple(details["AllowedOAuthScopes"]))
    region = pool_id.split("_", 1)[0]
    return LocalUserPool(pool_id, region, clients)


def _secret_hash(username: str, app_client: AppClient) -> str:
    digest = hmac.new(app_client.client_secret.encode(), (username + app_client.client_id).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def issue_token(pool: LocalUserPool, scopes: tuple[str, ...] = (), client_id: str | None = None) -> str:
    """An access token of the embedded user pool for SCOPES (identifiers; empty: every scope of the client),
    from the app client CLIENT_ID or the one that may ask for them."""
    app_client = (next(c for c in pool.clients.values() if c.client_id == client_id) if client_id
                  else pool.client_for(scopes))
    wanted = tuple(sorted(set(scopes) or set(app_client.scopes)))
    refused = [scope for scope in wanted if scope not in app_client.scopes]
    if refused:
        raise ValueError(f"Client {app_client.logical_id} may not ask for {' '.join(refused)}")
    cognito = client("cognito-idp")
    # One machine user per client and scope set, in exactly the groups of its scopes.
    username = f"{app_client.logical_id.lower()}.{hashlib.sha256(' '.join(wanted).encode()).hexdigest()[:12]}"
    try:
        cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool.user_pool_id, Username=username, MessageAction="SUPPRESS")
        for scope in wanted:
            cognito.admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username=username, GroupName=scope)
    password = secrets.token_urlsafe(24) + "!Aa1"
    cognito.admin_set_user_password(UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool.user_pool_id, ClientId=app_client.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password,
                        "SECRET_HASH": _secret_hash(username, app_client)})
    return answer["AuthenticationResult"]["AccessToken"]


def fetch_jwks(pool: LocalUserPool) -> dict[str, Any]:
    """The user pool's published signing keys, from the embedded AWS (AWS_ENDPOINT_URL) when it runs as a
    server, otherwise from Cognito's address (which moto answers in process)."""
    import requests

    host = f"cognito-idp.{pool.region}.amazonaws.com"
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    url = f"{endpoint or 'https://' + host}/{pool.user_pool_id}/.well-known/jwks.json"
    answer = requests.get(url, headers={"Host": host} if endpoint else {}, timeout=10)
    answer.raise_for_status()
    return answer.json()


class InvalidToken(Exception):
    """A token the gateway refuses (401): unreadable, badly signed, expired, not an access token of a client."""


class TokenVerifier:
    """What API Gateway's Cognito user pool authorizer checks of a token, against the embedded user pool."""

    def __init__(self, pool: LocalUserPool, jwks: dict[str, Any], clock: Callable[[], float] = time.time):
        from joserfc.jwk import KeySet

        self.pool = pool
        self._clock = clock
        self._keys = KeySet.import_key_set(jwks)
        self._client_ids = {app_client.client_id for app_client in pool.clients.values()}

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of TOKEN once its signature (RS256, a published key), issuer, expiry, use and client
        hold; InvalidToken saying which does not."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            claims = jwt.decode(token, self._keys, algorithms=["RS256"]).claims
        except (JoseError, ValueError) as exc:
            raise InvalidToken(f"The token is not one this user pool signed ({type(exc).__name__})") from exc
        if claims.get("iss") != self.pool.issuer:
            raise InvalidToken("The token was issued by another user pool")
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or expires <= self._clock():
            raise InvalidToken("The token has expired")
        if claims.get("token_use") != "access":
            raise InvalidToken("Send an access token, not an id token")
        if claims.get("client_id") not in self._client_ids:
            raise InvalidToken("The token was issued to a client this API does not know")
        return claims


def granted_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """The resource server's scopes a verified token grants: those of its "scope" claim, and the groups
    named after a scope (how the embedded Cognito carries them; see the module's docstring)."""
    known = {scope.identifier for scope in resources.SCOPES}
    groups = claims.get("cognito:groups") or []
    named = str(claims.get("scope") or "").split() + (list(groups) if isinstance(groups, list) else [])
    return frozenset(scope for scope in named if scope in known)
