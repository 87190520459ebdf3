"""Powertools Logger, Tracer and Metrics shared by every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, which
the CDK app and the local runtime set per function. Construction is cheap and does no I/O.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Routes that publish no metric of their own (health, docs) are normal, not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FinScore")
