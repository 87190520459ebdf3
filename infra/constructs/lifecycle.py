"""Model lifecycle: retraining schedules, the daily drift check, drift capture and their permissions.

The two image functions come from FinScoreFunction (the same construct as risk_explain's); this
construct adds what only the lifecycle needs. Rules (cdk.json context):

- a retraining rule per product with a trainer, on its spec's schedule unless `retrainSchedules`
  {product: schedule expression} overrides it, invoking model_retrain with input {"product": ...};
  a dead-letter queue on each target keeps events that could not be delivered;
- `driftSchedule`: the daily drift_monitor run;
- `retrainOnDrift`: when true, DriftDetected events invoke model_retrain (the monitor also marks the
  event retrain: true, which the retrain handler requires).

Permissions are least privilege: prefixes of the data bucket per role, events:PutEvents on the
default bus, cloudwatch:PutMetricData only in the FinScore namespace, lambda:InvokeFunction on
model_retrain only for the platform function.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from constructs import Construct

from finscore.products import products
from finscore.resources import (
    CAPTURE_PREFIX,
    CUSTOM_API,
    CUSTOM_MODEL_KEY_PREFIX,
    CUSTOM_TRAINING_PREFIX,
    DATA_BUCKET,
    DRIFT_MONITOR,
    EVENT_BUS_ENV,
    EVENT_SOURCE,
    MODEL_RETRAIN,
    METRICS_NAMESPACE,
    MODELS_BUCKET,
    PLATFORM_API,
    FunctionSpec,
)
from infra.constructs.api_function import FinScoreFunction
from infra.constructs.data import DataStores
from infra.constructs.messaging import Messaging

TRAINING_PREFIX = "training/"
# Monthly, after the products' own runs; cdk.json customRetrainSchedule overrides it ("" turns it off).
CUSTOM_RETRAIN_SCHEDULE = "cron(0 5 2 * ? *)"
TRAINING_REPORTS_PREFIX = "training-reports/"
DRIFT_REPORTS_PREFIX = "drift/"
_SCHEDULE = re.compile(r"^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$")


def _schedule(key: str, value: Any) -> events.Schedule:
    if not isinstance(value, str) or not _SCHEDULE.match(value):
        raise ValueError(f"CDK context {key!r} must be a cron(...) or rate(...) expression, got {value!r}")
    return events.Schedule.expression(value)


class ModelLifecycle(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, data: DataStores, messaging: Messaging,
                 functions: Mapping[FunctionSpec, FinScoreFunction]) -> None:
        super().__init__(scope, construct_id)
        context = self.node.try_get_context
        by_name = {spec.name: fn for spec, fn in functions.items()}
        retrain = by_name[MODEL_RETRAIN.name]
        drift = by_name[DRIFT_MONITOR.name]
        self.bus = bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.failures = messaging.dead_letter_queue(self, "LifecycleFailures")

        trained = {name: spec.retrain_schedule for name, spec in products().items() if spec.trainer}
        overrides = context("retrainSchedules") or {}
        if not isinstance(overrides, dict) or set(overrides) - set(trained):
            raise ValueError(f"CDK context 'retrainSchedules' must map products with a trainer "
                             f"({', '.join(trained)}) to schedules, got {overrides!r}")
        schedules = {name: overrides.get(name, default) for name, default in trained.items()}
        self.retrain_rules = {}
        for product, expression in sorted((name, value) for name, value in schedules.items() if value):
            self.retrain_rules[product] = events.Rule(
                self, f"Retrain{product.title()}Schedule", schedule=_schedule(f"retrainSchedules.{product}", expression),
                description=f"FinScore: retrain {product} on schedule",
                targets=[self._target(retrain, {"product": product})],
            )
        # Custom models are retrained together from their stored definitions, on their own schedule.
        custom_schedule = context("customRetrainSchedule")
        custom_schedule = CUSTOM_RETRAIN_SCHEDULE if custom_schedule is None else custom_schedule
        if custom_schedule:
            self.retrain_rules["custom"] = events.Rule(
                self, "RetrainCustomModelsSchedule", schedule=_schedule("customRetrainSchedule", custom_schedule),
                description="FinScore: retrain every custom model on schedule",
                targets=[self._target(retrain, {"custom_models": "all"})],
            )
        self.drift_rule = events.Rule(
            self, "DriftSchedule", schedule=_schedule("driftSchedule", context("driftSchedule")),
            description="FinScore: daily drift check of every champion", targets=[self._target(drift, None)],
        )
        retrain_on_drift = context("retrainOnDrift") in (True, "true")
        if retrain_on_drift:
            self.drift_retrain_rule = events.Rule(
                self, "RetrainOnDrift", description="FinScore: retrain a product whose inputs drifted",
                event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=["DriftDetected"]),
                targets=[self._target(retrain, None)],
            )

        # Environment.
        for fn in (retrain, drift):
            fn.function.add_environment(EVENT_BUS_ENV, bus.event_bus_name)
        drift.function.add_environment("RETRAIN_ON_DRIFT", "true" if retrain_on_drift else "false")
        platform = next(fn for spec, fn in functions.items() if spec.name == PLATFORM_API.name)
        # The custom models' API starts a custom model's training as the platform's starts a product's.
        custom = by_name[CUSTOM_API.name]
        for fn in (platform, custom):
            fn.function.add_environment("RETRAIN_FUNCTION_NAME", retrain.function.function_name)
        rate = float(context("driftCaptureRate") if context("driftCaptureRate") is not None else 0.05)
        if not 0 <= rate <= 1:
            raise ValueError(f"CDK context 'driftCaptureRate' must be between 0 and 1, got {rate}")
        # Every product's API captures a sample of what it scores.
        scoring = {spec.api: spec.name for spec in products().values()}
        for spec in scoring:
            functions[spec].function.add_environment("DRIFT_CAPTURE_RATE", str(rate))

        # Permissions.
        data_bucket, models_bucket = data.buckets[DATA_BUCKET], data.buckets[MODELS_BUCKET]
        for fn in (retrain, drift):
            self._allow(fn, ["events:PutEvents"], [bus.event_bus_arn])
        self._allow(retrain, ["s3:ListBucket"], [data_bucket.bucket_arn], {"StringLike": {"s3:prefix": [f"{TRAINING_PREFIX}*"]}})
        self._allow(retrain, ["s3:GetObject"], [data_bucket.arn_for_objects(f"{TRAINING_PREFIX}*")])
        self._allow(retrain, ["s3:PutObject"], [data_bucket.arn_for_objects(f"{TRAINING_REPORTS_PREFIX}*")])
        self._allow(retrain, ["s3:PutObject"], [models_bucket.arn_for_objects("*")])
        self._allow(drift, ["s3:ListBucket"], [data_bucket.bucket_arn],
                    {"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}*", f"{DRIFT_REPORTS_PREFIX}*"]}})
        self._allow(drift, ["s3:GetObject"], [data_bucket.arn_for_objects(f"{CAPTURE_PREFIX}*"),
                                              data_bucket.arn_for_objects(f"{DRIFT_REPORTS_PREFIX}*")])
        self._allow(drift, ["s3:PutObject"], [data_bucket.arn_for_objects(f"{DRIFT_REPORTS_PREFIX}*")])
        self._allow(drift, ["cloudwatch:PutMetricData"], ["*"],
                    {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}})
        self._allow(platform, ["lambda:InvokeFunction"], [retrain.function.function_arn])
        self._allow(custom, ["lambda:InvokeFunction"], [retrain.function.function_arn])
        # A PUT checks that training files exist; an upload through the API writes one.
        self._allow(custom, ["s3:ListBucket"], [data_bucket.bucket_arn],
                    {"StringLike": {"s3:prefix": [f"{CUSTOM_TRAINING_PREFIX}*"]}})
        self._allow(custom, ["s3:PutObject"], [data_bucket.arn_for_objects(f"{CUSTOM_TRAINING_PREFIX}*"),
                                               data_bucket.arn_for_objects(
                                                   f"{CAPTURE_PREFIX}{CUSTOM_MODEL_KEY_PREFIX}*")])
        custom.function.add_environment("DRIFT_CAPTURE_RATE", str(rate))
        self._allow(platform, ["s3:ListBucket"], [data_bucket.bucket_arn],
                    {"StringLike": {"s3:prefix": [f"{DRIFT_REPORTS_PREFIX}*"]}})
        self._allow(platform, ["s3:GetObject"], [data_bucket.arn_for_objects(f"{DRIFT_REPORTS_PREFIX}*")])
        for spec, product in scoring.items():
            self._allow(functions[spec], ["s3:PutObject"], [data_bucket.arn_for_objects(f"{CAPTURE_PREFIX}{product}/*")])

        # Asynchronous invocations (rules, the admin route) that fail after Lambda's retries land here.
        for fn in (retrain, drift):
            fn.function.configure_async_invoke(
                on_failure=destinations.SqsDestination(self.failures), retry_attempts=1, max_event_age=Duration.hours(6)
            )
        self._acknowledge(retrain, drift, platform, custom,
                          {functions[spec]: product for spec, product in scoring.items()})

    def _target(self, fn: FinScoreFunction, payload: dict | None) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            fn.function,
            event=events.RuleTargetInput.from_object(payload) if payload is not None else None,
            dead_letter_queue=self.failures,
            retry_attempts=2,
            max_event_age=Duration.hours(2),
        )

    @staticmethod
    def _allow(fn: FinScoreFunction, actions: list[str], resources: list[str],
               conditions: dict[str, Any] | None = None) -> None:
        fn.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions))

    def _acknowledge(self, retrain: FinScoreFunction, drift: FinScoreFunction, platform: FinScoreFunction,
                     custom: FinScoreFunction, scoring: Mapping[FinScoreFunction, str]) -> None:
        data_id, models_id = DATA_BUCKET.logical_id, MODELS_BUCKET.logical_id

        def ack(fn: FinScoreFunction, resource: str, reason: str) -> None:
            Validations.of(fn.role.node.find_child("DefaultPolicy")).acknowledge(
                Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{resource}]", reason=reason))

        ack(retrain, f"<{data_id}.Arn>/{TRAINING_PREFIX}*", "Reads the training files users drop under training/; "
            "their names are chosen at upload time.")
        ack(retrain, f"<{data_id}.Arn>/{TRAINING_REPORTS_PREFIX}*", "Writes one rejects report per run under "
            "training-reports/, named by the run id, which exists only once the run starts.")
        ack(retrain, f"<{models_id}.Arn>/*", "Publishes new model versions under <product>/<version>/ keys created at "
            "training time.")
        ack(drift, f"<{data_id}.Arn>/{CAPTURE_PREFIX}*", "Reads the captured samples the scoring functions write "
            "under capture/<product>/<date>/<uuid>.jsonl, named by the writer at write time.")
        ack(drift, f"<{data_id}.Arn>/{DRIFT_REPORTS_PREFIX}*", "Reads and writes the daily reports under "
            "drift/<product>/<date>.json, one per product and day of the monitor run.")
        ack(drift, "*", "cloudwatch:PutMetricData has no resource-level permissions; it is limited to the FinScore "
            "namespace by the cloudwatch:namespace condition.")
        ack(platform, f"<{data_id}.Arn>/{DRIFT_REPORTS_PREFIX}*", "GET /models/{product}/drift reads the latest "
            "report under drift/<product>/, whose file names are dates chosen by the daily monitor run.")
        ack(custom, f"<{data_id}.Arn>/{CUSTOM_TRAINING_PREFIX}*", "Uploads a custom model's training files under "
            "training/custom/<name>/ with the names users give them.")
        ack(custom, f"<{data_id}.Arn>/{CAPTURE_PREFIX}{CUSTOM_MODEL_KEY_PREFIX}*",
            "Drift capture of custom models writes "
            "sample objects under capture/custom-<name>/<date>/, for models users register after deployment.")
        for fn, product in scoring.items():
            ack(fn, f"<{data_id}.Arn>/{CAPTURE_PREFIX}{product}/*", "Drift capture writes its sample "
                "objects under capture/<product>/<date>/ with names made at write time.")
        for fn in (retrain, drift):
            Validations.of(fn.function).acknowledge(Acknowledgment(
                id="Serverless-LambdaDLQ",
                reason="Invoked asynchronously by EventBridge rules and the admin route: failed invocations go to "
                "the on-failure destination (an encrypted SQS queue) after Lambda's retry, and undeliverable "
                "events to each rule target's dead-letter queue, which is what a function DLQ would hold.",
            ))
