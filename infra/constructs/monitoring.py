"""Monitoring: the alert topic, the alarms that publish to it, the lifecycle events routed to it and
the operations dashboard.

Everything derives from what the stack built from the registries: every function (errors, throttles,
p99 duration against its timeout), the REST API stage (5XX, p99 latency), every dead-letter queue
Messaging made (depth), the batch state machine (failed, timed out) and every product's MaxPSI from
the drift monitor (at the monitor's alert level). A new product brings its functions and its MaxPSI
alarm with it. ModelRejected and DriftDetected events go to the topic too; cdk.json `alertEmail`
subscribes an address when set.
"""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from finscore.drift.statistics import PSI_ALERT, PSI_WARN
from finscore.drift.store import MAX_PSI_METRIC
from finscore.events import DRIFT_DETECTED, MODEL_REJECTED
from finscore.products import products
from finscore.resources import EVENT_SOURCE, METRICS_NAMESPACE, FunctionSpec
from infra.config import FinScoreConfig
from infra.constructs.messaging import Messaging

PERIOD = Duration.minutes(5)
# A p99 this close to the timeout means invocations are about to be cut off.
DURATION_ALARM_SHARE_OF_TIMEOUT = 0.8
# Twice the cold-start budget (SPEC §6: 1 s): a p99 above it for 15 minutes is more than cold starts.
API_P99_LATENCY_MS = 2000
# Duration and latency alarm on a sustained p99 (three periods), not on one slow burst.
SUSTAINED_PERIODS = 3
# The drift monitor runs daily and puts one MaxPSI datapoint per product.
DRIFT_PERIOD = Duration.days(1)
ALERT_EVENTS = (MODEL_REJECTED, DRIFT_DETECTED)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FinScoreConfig,
        messaging: Messaging,
        functions: Mapping[FunctionSpec, lambda_.IFunction],
        api: apigw.RestApi,
        state_machine: sfn.StateMachine,
        event_bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._alert_topic()
        # Alerts that could not be delivered (a rule target or the email endpoint failing) wait here,
        # and this queue is watched like every other dead-letter queue.
        self.undelivered = messaging.dead_letter_queue(self, "UndeliveredAlerts")
        if config.alert_email:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(config.alert_email, dead_letter_queue=self.undelivered)
            )
        self.events_rule = events.Rule(
            self,
            "LifecycleAlerts",
            event_bus=event_bus,
            description="FinScore: rejected model versions and detected drift to the alert topic",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=list(ALERT_EVENTS)),
            targets=[targets.SnsTopic(self.topic, dead_letter_queue=self.undelivered, retry_attempts=8,
                                      max_event_age=Duration.hours(24))],
        )
        self.alarms: list[cloudwatch.Alarm] = []
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=Stack.of(self).stack_name,
                                              default_interval=Duration.hours(24))
        self._api(api)
        grouped = {name: spec.all_functions for name, spec in products().items()}
        product_functions = {fn for specs in grouped.values() for fn in specs}
        for product, specs in grouped.items():
            self.dashboard.add_widgets(_heading(f"Product: {product}"))
            for spec in specs:
                self._function(spec, functions[spec])
            self._drift(product)
        self.dashboard.add_widgets(_heading("Platform"))
        for spec, function in functions.items():
            if spec not in product_functions:
                self._function(spec, function)
        self._state_machine(state_machine)
        self._dead_letter_queues(messaging.all_dead_letter_queues)

    def _alert_topic(self) -> sns.Topic:
        # A key of our own, not alias/aws/sns: CloudWatch alarms and EventBridge can publish to an
        # encrypted topic only when the key policy lets their service principals use the key (the
        # events rule's target grants EventBridge its share; the alarms' is granted here).
        key = kms.Key(self, "AlertKey", description="FinScore alert topic", enable_key_rotation=True)
        alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com",
                                      conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}})
        key.grant(alarms, "kms:Decrypt", "kms:GenerateDataKey*")
        return sns.Topic(self, "AlertTopic", display_name="FinScore alerts", master_key=key, enforce_ssl=True)

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str,
               comparison: cloudwatch.ComparisonOperator =
               cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
               evaluation_periods: int = 1) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            alarm_description=f"FinScore: {description}",
            # No datapoint means nothing happened (no invocations, no executions, an empty queue).
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def _api(self, api: apigw.RestApi) -> None:
        stage = api.deployment_stage
        server_errors = stage.metric_server_error(period=PERIOD, statistic="Sum")
        latency = stage.metric_latency(period=PERIOD, statistic="p99")
        self._alarm("Api5xx", server_errors, threshold=1,
                    description="the REST API answered 5XX (errors are 4xx unless the service itself failed)")
        self._alarm("ApiLatencyP99", latency, threshold=API_P99_LATENCY_MS, evaluation_periods=SUSTAINED_PERIODS,
                    comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    description=f"REST API p99 latency above {API_P99_LATENCY_MS} ms for "
                    f"{SUSTAINED_PERIODS} periods")
        self.dashboard.add_widgets(
            _heading("API"),
            cloudwatch.GraphWidget(
                title="Requests", width=12,
                left=[stage.metric_count(period=PERIOD, statistic="Sum", label="requests"),
                      stage.metric_client_error(period=PERIOD, statistic="Sum", label="4XX"),
                      stage.metric_server_error(period=PERIOD, statistic="Sum", label="5XX")],
            ),
            cloudwatch.GraphWidget(
                title="Latency (ms)", width=12,
                left=[stage.metric_latency(period=PERIOD, statistic="p50", label="p50"),
                      stage.metric_latency(period=PERIOD, statistic="p99", label="p99"),
                      stage.metric_integration_latency(period=PERIOD, statistic="p99", label="integration p99")],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=API_P99_LATENCY_MS, label="alarm")],
            ),
        )

    def _function(self, spec: FunctionSpec, function: lambda_.IFunction) -> None:
        duration_ms = spec.timeout_s * 1000 * DURATION_ALARM_SHARE_OF_TIMEOUT
        self._alarm(f"{spec.logical_id}Errors", function.metric_errors(period=PERIOD, statistic="Sum"),
                    threshold=1, description=f"{spec.name} invocations failed")
        self._alarm(f"{spec.logical_id}Throttles", function.metric_throttles(period=PERIOD, statistic="Sum"),
                    threshold=1, description=f"{spec.name} invocations were throttled")
        self._alarm(f"{spec.logical_id}DurationP99", function.metric_duration(period=PERIOD, statistic="p99"),
                    threshold=duration_ms, evaluation_periods=SUSTAINED_PERIODS,
                    comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    description=f"{spec.name} p99 duration above {DURATION_ALARM_SHARE_OF_TIMEOUT:.0%} of its "
                    f"{spec.timeout_s} s timeout for {SUSTAINED_PERIODS} periods")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{spec.name}: invocations", width=12,
                left=[function.metric_invocations(period=PERIOD, statistic="Sum", label="invocations"),
                      function.metric_errors(period=PERIOD, statistic="Sum", label="errors"),
                      function.metric_throttles(period=PERIOD, statistic="Sum", label="throttles")],
            ),
            cloudwatch.GraphWidget(
                title=f"{spec.name}: duration (ms)", width=12,
                left=[function.metric_duration(period=PERIOD, statistic="p50", label="p50"),
                      function.metric_duration(period=PERIOD, statistic="p99", label="p99")],
                left_annotations=[cloudwatch.HorizontalAnnotation(value=duration_ms, label="alarm")],
            ),
        )

    def _drift(self, product: str) -> None:
        max_psi = cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=MAX_PSI_METRIC,
                                    dimensions_map={"product": product}, period=DRIFT_PERIOD,
                                    statistic="Maximum")
        self._alarm(f"{product.title()}MaxPsi", max_psi, threshold=PSI_ALERT,
                    description=f"{product}'s scoring inputs drifted (PSI at the alert level, {PSI_ALERT})")
        self.dashboard.add_widgets(cloudwatch.GraphWidget(
            title=f"{product}: drift ({MAX_PSI_METRIC})", width=24, left=[max_psi.with_(label=MAX_PSI_METRIC)],
            left_annotations=[cloudwatch.HorizontalAnnotation(value=PSI_WARN, label="warn"),
                              cloudwatch.HorizontalAnnotation(value=PSI_ALERT, label="alert")],
        ))

    def _state_machine(self, state_machine: sfn.StateMachine) -> None:
        failed = state_machine.metric_failed(period=PERIOD, statistic="Sum")
        timed_out = state_machine.metric_timed_out(period=PERIOD, statistic="Sum")
        self._alarm("BatchExecutionsFailed", failed, threshold=1, description="a batch fan-out execution failed")
        self._alarm("BatchExecutionsTimedOut", timed_out, threshold=1,
                    description="a batch fan-out execution timed out")
        self.dashboard.add_widgets(cloudwatch.GraphWidget(
            title="Batch fan-out executions", width=12,
            left=[state_machine.metric_started(period=PERIOD, statistic="Sum", label="started"),
                  state_machine.metric_succeeded(period=PERIOD, statistic="Sum", label="succeeded"),
                  failed.with_(label="failed"), timed_out.with_(label="timed out")],
        ))

    def _dead_letter_queues(self, queues: list[sqs.Queue]) -> None:
        stack = Stack.of(self)
        depths = []
        for queue in queues:
            logical_id = stack.resolve(queue.node.default_child.logical_id)
            # Its place in the app (Lifecycle/LifecycleFailures), which says whose failures it holds.
            place = queue.node.path.split("/", 1)[1]
            depth = queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum")
            self._alarm(f"{logical_id}Depth", depth, threshold=0,
                        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        description=f"messages wait in the dead-letter queue {place} for inspection and redrive")
            depths.append(depth.with_(label=place))
        self.dashboard.add_widgets(cloudwatch.GraphWidget(title="Dead-letter queues (messages)", width=12,
                                                          left=depths))


def _heading(text: str) -> cloudwatch.TextWidget:
    return cloudwatch.TextWidget(markdown=f"## {text}", width=24, height=1)
