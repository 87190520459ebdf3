"""The state machine that fans large files out: with finscore.s3, the only modules batch scoring reaches
boto3 through; every SDK error becomes ServiceUnavailable so that the message is retried.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from finscore.aws import client
from finscore.errors import ServiceUnavailable


class BatchStateMachine:
    """The Step Functions state machine that fans a large file out over chunks."""

    def __init__(self, arn: str):
        self.arn = arn

    def start(self, name: str, document: dict[str, Any]) -> bool:
        """Start an execution called NAME; False when one of that name already exists (a redelivery)."""
        try:
            client("stepfunctions").start_execution(stateMachineArn=self.arn, name=name, input=json.dumps(document))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise ServiceUnavailable(f"Cannot start {self.arn}: {exc}") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"Cannot start {self.arn}: {exc}") from exc
        return True
