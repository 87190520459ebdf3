"""AWS clients for the data-access modules, one per service and execution environment.

AWS_ENDPOINT_URL points every client at the embedded AWS in the local run and in tests; in AWS it
is unset and the SDK's regional endpoints apply. AWS_ENDPOINT_URL_LAMBDA sends Lambda invocations to
the local invoke endpoint (local/lambda_invoke.py), since the embedded AWS cannot run functions.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# Short timeouts and few retries: a scoring request must fail fast (503) rather than hang when a
# dependency is down; the registry cache keeps the last good champion serving meanwhile.
_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
)


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    """A cached boto3 client for SERVICE, honouring AWS_ENDPOINT_URL when set."""
    return boto3.session.Session().client(
        service,
        region_name=region(),
        # AWS_ENDPOINT_URL_<SERVICE> (the SDKs' service-specific override) wins, as in the CLI.
        endpoint_url=os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL") or None,
        config=_CLIENT_CONFIG,
    )


def reset_clients() -> None:
    """Drop cached clients (tests and the local runtime call this after changing the endpoint)."""
    client.cache_clear()
