"""AWS clients for the data-access modules, one per service and execution environment.

AWS_ENDPOINT_URL points every client at the embedded AWS in the local run and in tests; in AWS it
is unset and the SDK's regional endpoints apply. AWS_ENDPOINT_URL_LAMBDA sends Lambda invocations to
the local invoke endpoint (local/lambda_invoke.py), since the embedded AWS cannot run functions.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

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


# One botocore session for every client: each session parses the SDK's endpoint and partition data
# (over a megabyte of JSON) and its defaults once, which a cold start would otherwise pay per service.
# Sessions are not safe to build clients from concurrently (the local runtime runs functions in
# threads); the clients themselves are.
_session_lock = threading.Lock()


@lru_cache(maxsize=1)
def _session() -> Any:
    # botocore itself rather than boto3: clients are all FinScore uses, and boto3's Session brings
    # s3transfer and the resource layer along for nothing.
    from botocore.session import get_session

    return get_session()


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    """A cached SDK client for SERVICE, honouring AWS_ENDPOINT_URL when set."""
    with _session_lock:
        return _session().create_client(
            service,
            region_name=region(),
            # AWS_ENDPOINT_URL_<SERVICE> (the SDKs' service-specific override) wins, as in the CLI.
            endpoint_url=os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
            or None,
            config=_CLIENT_CONFIG,
        )


def reset_clients() -> None:
    """Drop cached clients and their session (tests and the local runtime call this after changing the
    endpoint or the credentials)."""
    client.cache_clear()
    _session.cache_clear()
