"""What the caller of a route may see, from the identity API Gateway puts in the event."""

from __future__ import annotations

from typing import Any

from finscore.errors import FieldIssue, Forbidden
from finscore.settings import ApiSettings, load_settings


def caller_key_id(event: Any) -> str | None:
    """The API key id of the request (API Gateway's requestContext.identity.apiKeyId), if any."""
    return event.request_context.identity.api_key_id


def require_customer_data_scope(event: Any, parameter: str) -> None:
    """403 unless the caller's API key is one of CUSTOMER_DATA_KEY_IDS (cdk.json customerDataApiKeyIds)."""
    if caller_key_id(event) not in load_settings(ApiSettings).customer_data_key_ids:
        raise Forbidden("This API key may not read customers' contact details; ask for them masked",
                        [FieldIssue(parameter, "needs an API key with the customer-data scope")])
