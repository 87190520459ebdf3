"""Starting a retraining run: an asynchronous invocation of the model_retrain function.

The platform function answers 202 at once; the run (minutes) reports through lifecycle events, the
registry and training-reports/ in the data bucket. Locally AWS_ENDPOINT_URL_LAMBDA points the Lambda
client at local/lambda_invoke.py, which runs the local function in a background thread.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable

def invoke_retrain(function_name: str, payload: Mapping[str, Any]) -> None:
    """Queue one run of the retraining function (InvocationType=Event: Lambda retries and keeps failures)."""
    try:
        response = client("lambda").invoke(
            FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable(f"Cannot start retraining ({function_name}): {exc}") from exc
    if response.get("StatusCode") != 202:
        raise ServiceUnavailable(f"Retraining function {function_name} answered {response.get('StatusCode')}")
