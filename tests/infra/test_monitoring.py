"""Monitoring: alarms on every function, the API, every dead-letter queue, the batch state machine and every
product's drift, all alerting one topic; the dashboard; ModelRejected and DriftDetected routed to the topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from finscore.drift.statistics import PSI_ALERT
from finscore.drift.store import MAX_PSI_METRIC
from finscore.resources import METRICS_NAMESPACE
from finscore.events import DRIFT_DETECTED, MODEL_REJECTED
from finscore.products import all_functions, products
from finscore.resources import BATCH_STATE_MACHINE, EVENT_SOURCE
from infra.synth import STACK_NAME, build_app

FUNCTIONS = all_functions()
PRODUCTS = list(products())


def _alert_topic(template) -> str:
    return template["Outputs"]["AlertTopicArn"]["Value"]["Ref"]


def _alarms(synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()]


def _alarms_on(synthesized, namespace: str, metric: str, **dimensions) -> list[dict[str, Any]]:
    return [
        alarm for alarm in _alarms(synthesized)
        if alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric
        and {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])} == dimensions
    ]


def _references(value: Any) -> set[str]:
    """Logical ids that VALUE refers to (Ref or Fn::GetAtt), at any depth."""
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_references(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value))
    return set()


def _dead_letter_queues(synthesized) -> set[str]:
    """Queues the template names as where failures go: queue and subscription redrive policies, rule
    target dead-letter configs, stream mappings' and asynchronous invocations' on-failure destinations."""
    found: set[str] = set()
    for resource in synthesized.template["Resources"].values():
        properties = resource.get("Properties", {})
        found |= _references(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"))
        found |= _references(properties.get("DestinationConfig", {}).get("OnFailure"))
        found |= _references([target.get("DeadLetterConfig") for target in properties.get("Targets", [])
                              if isinstance(target, dict)])
    return {logical_id for logical_id in found
            if synthesized.template["Resources"][logical_id]["Type"] == "AWS::SQS::Queue"}


def test_every_alarm_alerts_the_topic_and_there_are_enough_of_them(synthesized):
    alarms = _alarms(synthesized)
    topic = _alert_topic(synthesized.template)
    assert len(alarms) >= 10
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm["AlarmDescription"]
        # Quiet is not failure: no invocations, no executions, an empty queue.
        assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
def test_every_function_has_errors_throttles_and_p99_duration_alarms(synthesized, spec):
    function = {"Ref": spec.logical_id}
    (errors,) = _alarms_on(synthesized, "AWS/Lambda", "Errors", FunctionName=function)
    (throttles,) = _alarms_on(synthesized, "AWS/Lambda", "Throttles", FunctionName=function)
    (duration,) = _alarms_on(synthesized, "AWS/Lambda", "Duration", FunctionName=function)
    for alarm in (errors, throttles):
        assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert duration["ExtendedStatistic"] == "p99"
    # Before the timeout cuts invocations off, not after.
    assert 0 < duration["Threshold"] < spec.timeout_s * 1000


def test_every_dead_letter_queue_has_a_depth_alarm(synthesized):
    dead_letter_queues = _dead_letter_queues(synthesized)
    # Every queue with no redrive policy of its own is the end of a failure path, and is found above.
    ends = {logical_id for logical_id, queue in synthesized.resources("AWS::SQS::Queue").items()
            if "RedrivePolicy" not in queue["Properties"]}
    assert dead_letter_queues == ends and len(ends) >= 3
    for logical_id in dead_letter_queues:
        (alarm,) = _alarms_on(synthesized, "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                              QueueName={"Fn::GetAtt": [logical_id, "QueueName"]})
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def _api_stage(synthesized, context) -> str:
    (stage,) = [logical_id for logical_id, stage in synthesized.resources("AWS::ApiGateway::Stage").items()
                if stage["Properties"]["StageName"] == context["apiStageName"]]
    return stage


def test_api_alarms_on_5xx_and_p99_latency(synthesized, context):
    # The Ref of a stage is its name.
    stage = {"ApiName": "FinScore", "Stage": {"Ref": _api_stage(synthesized, context)}}
    (server_errors,) = _alarms_on(synthesized, "AWS/ApiGateway", "5XXError", **stage)
    (latency,) = _alarms_on(synthesized, "AWS/ApiGateway", "Latency", **stage)
    assert server_errors["Statistic"] == "Sum" and server_errors["Threshold"] == 1
    # API Gateway gives up on an integration after 29 s: the alarm must fire well before.
    assert latency["ExtendedStatistic"] == "p99" and 0 < latency["Threshold"] < 29_000


@pytest.mark.parametrize("metric", ["ExecutionsFailed", "ExecutionsTimedOut"])
def test_batch_state_machine_failures_alarm(synthesized, metric):
    (alarm,) = _alarms_on(synthesized, "AWS/States", metric, StateMachineArn={"Ref": BATCH_STATE_MACHINE.logical_id})
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_product_has_a_drift_alarm_at_the_monitors_alert_level(synthesized, product):
    (alarm,) = _alarms_on(synthesized, METRICS_NAMESPACE, MAX_PSI_METRIC, product=product)
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (PSI_ALERT, "GreaterThanOrEqualToThreshold")


def _dashboard_metrics(synthesized) -> list[list]:
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    # Tokens become the logical ids they refer to (or the pseudo parameter's name).
    body = "".join(part if isinstance(part, str) else next(iter(_references(part))) for part in parts)
    widgets = json.loads(body)["widgets"]
    return [metric for widget in widgets for metric in widget.get("properties", {}).get("metrics", [])]


def test_dashboard_shows_every_function_product_and_the_api(synthesized, context):
    metrics = _dashboard_metrics(synthesized)
    shown = {(metric[0], metric[1], *metric[2:-1]) for metric in metrics}
    for spec in FUNCTIONS:
        for name in ("Invocations", "Errors", "Throttles", "Duration"):
            assert ("AWS/Lambda", name, "FunctionName", spec.logical_id) in shown, (spec.name, name)
    for product in PRODUCTS:
        assert (METRICS_NAMESPACE, MAX_PSI_METRIC, "product", product) in shown
    for name in ("Count", "4XXError", "5XXError", "Latency"):
        assert ("AWS/ApiGateway", name, "ApiName", "FinScore", "Stage", _api_stage(synthesized, context)) in shown
    assert {queue for namespace, name, *dimensions in shown if namespace == "AWS/SQS"
            for queue in dimensions[1::2]} == _dead_letter_queues(synthesized)


def test_model_rejected_and_drift_detected_go_to_the_alert_topic(synthesized):
    topic = {"Ref": _alert_topic(synthesized.template)}
    rules = [rule["Properties"] for rule in synthesized.resources("AWS::Events::Rule").values()
             if any(target["Arn"] == topic for target in rule["Properties"]["Targets"])]
    (rule,) = rules
    assert rule["EventPattern"]["source"] == [EVENT_SOURCE]
    assert set(rule["EventPattern"]["detail-type"]) == {MODEL_REJECTED, DRIFT_DETECTED}
    (target,) = rule["Targets"]
    assert "DeadLetterConfig" in target


def test_alert_topic_key_lets_alarms_and_eventbridge_publish(synthesized):
    topic = synthesized.resource(_alert_topic(synthesized.template))["Properties"]
    (key_id,) = _references(topic["KmsMasterKeyId"])
    key = synthesized.resource(key_id)["Properties"]
    assert key["EnableKeyRotation"] is True
    services: set[str] = set()
    for statement in key["KeyPolicy"]["Statement"]:
        if "kms:GenerateDataKey*" in statement["Action"]:
            service = statement["Principal"].get("Service", [])
            services |= {service} if isinstance(service, str) else set(service)
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services


def _email_subscriptions(template) -> list[dict]:
    topic = {"Ref": _alert_topic(template)}
    return [resource["Properties"] for resource in template["Resources"].values()
            if resource["Type"] == "AWS::SNS::Subscription" and resource["Properties"]["TopicArn"] == topic
            and resource["Properties"]["Protocol"] == "email"]


def test_no_email_subscription_without_alert_email(synthesized, context):
    assert not context["alertEmail"]
    assert _email_subscriptions(synthesized.template) == []


def test_alert_email_subscribes_the_address_with_a_dead_letter_queue(synthesized, tmp_path):
    # Given alertEmail set, as `cdk synth -c alertEmail=...` would (synthesized: the serving layer is built)
    build_app(tmp_path, {"alertEmail": "ops@bank.example"}).synth()
    template = json.loads((tmp_path / f"{STACK_NAME}.template.json").read_text())
    # Then the topic emails the address, and undeliverable alerts wait in a watched queue
    (subscription,) = _email_subscriptions(template)
    assert subscription["Endpoint"] == "ops@bank.example"
    assert "deadLetterTargetArn" in subscription["RedrivePolicy"]
    assert json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"] == []
