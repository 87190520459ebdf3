"""What a caller may see: contact details masked unless the token (or, without one, the key) has the
customer-data scope; CORS only for the configured origins."""

from __future__ import annotations

from finscore.api.resolver import create_resolver
from local.apigw import http_event
from tests.handlers import FakeContext, invoke


def _detail(customer_id: str, key_id: str, contact: str | None = None, scope: str | None = None):
    query = {"contact": contact} if contact else {}
    claims = {"scope": scope, "token_use": "access", "client_id": "machine"} if scope is not None else None
    return invoke("risk_api", http_event("GET", f"/v1/risk/customers/{customer_id}", query=query, api_key_id=key_id,
                                         claims=claims))


def test_contact_details_are_masked_by_default(customer):
    status, detail = _detail(customer, "local")
    assert status == 200 and detail["contact"] == "masked"
    assert "*" in detail["phone"] and detail["email"].split("@")[0].endswith("***")


def test_full_contact_details_need_the_customer_data_scope(customer, monkeypatch):
    status, answer = _detail(customer, "local", "full")
    assert status == 403 and answer["error"]["details"][0]["field"] == "contact"

    # The local run grants the scope to the admin key (cdk.json customerDataApiKeyIds in AWS).
    status, detail = _detail(customer, "local-admin", "full")
    assert status == 200 and detail["contact"] == "full"
    assert "*" not in detail["phone"] and "***" not in detail["email"]


def test_a_token_with_the_customer_data_scope_reads_full_contact_details(customer):
    status, detail = _detail(customer, "local", "full", scope="finscore/score finscore/customers.read")
    assert status == 200 and "*" not in detail["phone"]

    # The token decides when there is one: the admin key id adds nothing to a token without the scope.
    status, answer = _detail(customer, "local-admin", "full", scope="finscore/score")
    assert status == 403 and answer["error"]["code"] == "forbidden"
    assert answer["error"]["details"][0]["field"] == "contact"


def _preflight_headers(origin: str) -> dict:
    event = http_event("GET", "/v1/version", headers={"Origin": origin})
    app = create_resolver()

    @app.get("/v1/version")
    def version() -> dict:
        return {"ok": True}

    return app.resolve(event, FakeContext()).get("multiValueHeaders") or {}


def test_cors_answers_only_the_configured_origins(monkeypatch):
    from finscore.settings import reset_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://dashboard.example.com,http://127.0.0.1:5173")
    reset_settings()
    assert _preflight_headers("https://dashboard.example.com")["Access-Control-Allow-Origin"] == [
        "https://dashboard.example.com"]
    assert "Access-Control-Allow-Origin" not in _preflight_headers("https://evil.example.net")

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "")
    reset_settings()
    assert "Access-Control-Allow-Origin" not in _preflight_headers("https://dashboard.example.com")
