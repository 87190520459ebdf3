"""Powertools Logger, Tracer and Metrics shared by every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which
the CDK app and the local runtime set per function. Construction is cheap and does no I/O.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics

# Routes that publish no metric of their own (health, docs) are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics(namespace="FinScore")

Handler = Callable[[dict, Any], Any]


class LazyTracer:
    """Powertools Tracer, built on the first invocation and only when tracing is on.

    Building a Tracer imports the X-Ray SDK (about a third of a second of cold start) even when
    POWERTOOLS_TRACE_DISABLED is set; Lambda's active tracing records the invocation without it, so
    the SDK is loaded only where its subsegments were asked for.
    """

    def __init__(self) -> None:
        self._tracer = None

    @property
    def enabled(self) -> bool:
        return os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() not in ("1", "true", "yes")

    @property
    def tracer(self):
        if self._tracer is None:
            from aws_lambda_powertools import Tracer

            self._tracer = Tracer()
        return self._tracer

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        traced: list[Handler] = []

        @functools.wraps(handler)
        def invoke(event: dict, context: Any) -> Any:
            if not traced:
                traced.append(self.tracer.capture_lambda_handler(handler) if self.enabled else handler)
            return traced[0](event, context)

        return invoke


tracer = LazyTracer()
