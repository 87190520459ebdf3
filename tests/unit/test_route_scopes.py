"""Every route declares the scope a caller's token needs, beside the route in its function's spec."""

from __future__ import annotations

import pytest

from finscore.products import all_functions
from finscore.resources import (
    ADMIN_SCOPE,
    CUSTOMER_DATA_SCOPE,
    HEALTH_ROUTE,
    PLATFORM_API,
    SCOPES,
    SCORE_SCOPE,
    FunctionSpec,
    Route,
)


def test_plain_routes_take_the_functions_scope_and_named_ones_keep_theirs():
    spec = FunctionSpec("demo_api", "DemoApiFunction", "demo", routes=(
        ("POST", "/demo/score"), Route("GET", "/demo/people", CUSTOMER_DATA_SCOPE)))
    assert spec.routes == (Route("POST", "/demo/score", SCORE_SCOPE), Route("GET", "/demo/people", CUSTOMER_DATA_SCOPE))
    assert FunctionSpec("d", "D", "d", routes=(("GET", "/d"),), scope=CUSTOMER_DATA_SCOPE).routes[0].scope == \
        CUSTOMER_DATA_SCOPE


def test_public_routes_need_no_scope_and_admin_routes_the_admin_scope():
    assert {route.scope for route in PLATFORM_API.public_routes} == {None}
    assert HEALTH_ROUTE in PLATFORM_API.public_routes
    assert {route.scope for route in PLATFORM_API.admin_routes} == {ADMIN_SCOPE}
    with pytest.raises(ValueError, match="admin routes"):
        FunctionSpec("d", "D", "d", admin_routes=(Route("POST", "/d", SCORE_SCOPE),))


def test_every_routed_function_declares_known_scopes():
    for spec in all_functions():
        for route in (*spec.routes, *spec.admin_routes):
            assert route.scope in SCOPES, (spec.name, route)
    # Nothing but health and the API's own description is public.
    assert {(route.method, route.path) for spec in all_functions() for route in spec.all_routes
            if route.scope is None} == {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs")}
