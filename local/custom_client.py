"""The HTTP calls of `finscore custom`: the /v1/custom-models routes, by urllib, with the API key (the
admin key for the admin routes) and, where the API asks for them, Cognito access tokens."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

# Long enough for a 1,000-record score request on a cold function; a wait polls with short calls.
TIMEOUT_S = 60


class ApiError(Exception):
    """An answer of 400 or above in the API's error shape; STATUS 0 when nothing answered."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []

    @property
    def client_error(self) -> bool:
        return 400 <= self.status < 500

    def words(self) -> str:
        """The error as a person reads it: the API's message, then one line per bad field."""
        lines = [f"{self.message} ({self.status} {self.code})" if self.status else self.message]
        lines += [f"  {detail.get('field') or '-'}: {detail.get('issue')}" for detail in self.details]
        return "\n".join(lines)


def _error_of(status: int, payload: bytes) -> ApiError:
    try:
        error = json.loads(payload)["error"]
        return ApiError(status, str(error.get("code") or "error"), str(error.get("message") or ""),
                        [detail for detail in error.get("details") or [] if isinstance(detail, dict)])
    except (ValueError, KeyError, TypeError):
        text = payload.decode("utf-8", "replace").strip()[:500]
        return ApiError(status, "error", text or f"HTTP {status} without a body")


@dataclass(frozen=True)
class CustomModelsApi:
    """The custom-model routes under BASE_URL (the API's URL up to and including /v1)."""

    base_url: str
    api_key: str
    admin_key: str | None = None
    token: str | None = None
    admin_token: str | None = None

    def register(self, name: str, definition: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/custom-models/{_quoted(name)}", definition, admin=True)

    def describe(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/custom-models/{_quoted(name)}")

    def list_models(self) -> dict[str, Any]:
        return self._call("GET", "/custom-models")

    def card(self, name: str) -> str:
        return self._call("GET", f"/custom-models/{_quoted(name)}/card")

    def score(self, name: str, records: list[Any]) -> dict[str, Any]:
        return self._call("POST", f"/custom-models/{_quoted(name)}/score", {"records": records})

    def retire(self, name: str) -> dict[str, Any]:
        return self._call("DELETE", f"/custom-models/{_quoted(name)}", admin=True)

    def _call(self, method: str, path: str, body: Any = None, *, admin: bool = False) -> Any:
        """The answer's JSON document (or text, for Markdown); ApiError for a status of 400 or above and
        when the API cannot be reached."""
        headers = {"x-api-key": (self.admin_key or self.api_key) if admin else self.api_key,
                   "Accept": "application/json, text/markdown"}
        token = self.admin_token if admin else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url.rstrip("/") + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                payload, content_type = response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            raise _error_of(exc.code, exc.read()) from exc
        except (OSError, ValueError) as exc:  # refused, timed out, a malformed URL
            raise ApiError(0, "unreachable", f"{method} {url} got no answer: {exc}") from exc
        if "json" in content_type:
            return json.loads(payload)
        return payload.decode("utf-8")


def _quoted(name: str) -> str:
    # The API refuses a bad name with a 4xx naming it; quoting keeps such a name in its path segment.
    return urllib.parse.quote(name, safe="")
