"""API Gateway REST proxy events and responses, as the local gateway, `finscore invoke` and tests use them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Mapping

from finscore import resources
from finscore.products import all_functions
from finscore.products.api import route_matches


def find_route(method: str, path: str) -> tuple[resources.FunctionSpec, str, dict[str, str]] | None:
    """(function, resource template with /v1, path parameters) serving METHOD PATH, or None."""
    base = resources.API_BASE_PATH
    if not path.startswith(base + "/") and path != base:
        return None
    relative = path[len(base):] or "/"
    for spec in all_functions():
        for route in spec.all_routes:
            if route.method != method:
                continue
            parameters = route_matches(route.path, relative)
            if parameters is not None:
                return spec, base + route.path, parameters
    return None


def route_access(spec: resources.FunctionSpec, method: str, template: str) -> str:
    """'public', 'admin' or 'key' for the route TEMPLATE (with /v1) of SPEC."""
    scope = route_scope(spec, method, template)
    if scope is None:
        return "public"
    return "admin" if scope == resources.ADMIN_SCOPE else "key"


def route_scope(spec: resources.FunctionSpec, method: str, template: str) -> resources.Scope | None:
    """The scope a token needs for the route TEMPLATE (with /v1) of SPEC; None for a public route."""
    relative = template[len(resources.API_BASE_PATH):]
    return next(route.scope for route in spec.all_routes if (route.method, route.path) == (method, relative))


def rest_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | bytes | dict | list | None = None,
    api_key_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST API Lambda-proxy event, shaped as API Gateway sends it; CLAIMS are those of the
    caller's token, which a Cognito user pool authorizer passes on (requestContext.authorizer.claims)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    is_base64 = False
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            body, is_base64 = base64.b64encode(body).decode(), True
    headers = dict(headers or {})
    query = dict(query or {})
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": next((v for k, v in headers.items() if k.lower() == "user-agent"), ""), "apiKeyId": api_key_id},
            **({"authorizer": {"claims": dict(claims)}} if claims else {}),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_event(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """A proxy event for a concrete PATH (with /v1), resource and path parameters filled in from the route table."""
    route = find_route(method, path)
    if route is not None:
        _, template, parameters = route
        kwargs.setdefault("resource", template)
        kwargs.setdefault("path_parameters", parameters)
    return rest_event(method, path, **kwargs)
