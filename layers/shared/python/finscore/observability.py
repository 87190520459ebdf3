"""Powertools Logger, Tracer and Metrics shared by every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which
the CDK app and the local runtime set per function. Construction is cheap and does no I/O.

What belongs to one invocation (the Lambda context and correlation id in every log line, the metrics
added before they are flushed) is kept per thread. Powertools keeps it per process, which is the same
in Lambda (one invocation at a time per execution environment), but the local runtime runs every
function in threads of one process: per process, a log line or metric of one function would be
written with another's context or flushed into another's log.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from typing import Any, Callable, Iterable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from finscore.resources import METRICS_NAMESPACE

# Routes that publish no metric of their own (health, docs) are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")


class InvocationLogger(Logger):
    """Powertools Logger whose appended keys (inject_lambda_context's, the correlation id) hold for the
    calling thread only; the service and level set at construction hold for all."""

    def append_keys(self, **additional_keys: object) -> None:
        self.thread_safe_append_keys(**additional_keys)

    def remove_keys(self, keys: Iterable[str]) -> None:
        self.thread_safe_remove_keys(keys)

    def get_current_keys(self) -> dict[str, Any]:
        return {**self.registered_formatter.get_current_keys(), **self.thread_safe_get_current_keys()}


def _per_thread(name: str, initial: Callable[["InvocationEMFProvider"], Any]) -> property:
    def get(provider: "InvocationEMFProvider") -> Any:
        state = provider._threads.__dict__
        if name not in state:
            state[name] = initial(provider)
        return state[name]

    def set_(provider: "InvocationEMFProvider", value: Any) -> None:
        setattr(provider._threads, name, value)

    return property(get, set_)


class InvocationEMFProvider(AmazonCloudWatchEMFProvider):
    """The EMF provider with the metrics, dimensions and metadata of the running invocation kept per
    thread, so that `log_metrics` flushes what its own invocation added; default dimensions, namespace
    and service are shared."""

    metric_set = _per_thread("metric_set", lambda provider: {})
    metadata_set = _per_thread("metadata_set", lambda provider: {})
    dimension_sets = _per_thread("dimension_sets", lambda provider: [])
    timestamp = _per_thread("timestamp", lambda provider: None)
    dimension_set = _per_thread(
        "dimension_set", lambda provider: {name: str(value) for name, value in provider.default_dimensions.items()}
    )

    def __init__(self, **options: Any) -> None:
        self._threads = threading.local()
        super().__init__(**options)


logger = InvocationLogger()
metrics = Metrics(namespace=METRICS_NAMESPACE, provider=InvocationEMFProvider(namespace=METRICS_NAMESPACE))

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
