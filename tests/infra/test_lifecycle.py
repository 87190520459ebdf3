"""The lifecycle rules and permissions in the synthesized template (infra/constructs/lifecycle.py)."""

from __future__ import annotations

import json

from finscore.products import products
from finscore.products.recommend.spec import RECOMMEND_API
from finscore.products.risk.spec import RISK_API
from finscore.resources import DRIFT_MONITOR, MODEL_RETRAIN, PLATFORM_API
from infra.constructs.lifecycle import CUSTOM_RETRAIN_SCHEDULE


def _rules(synthesized) -> list[dict]:
    return [rule["Properties"] for rule in synthesized.resources("AWS::Events::Rule").values()]


def _targets_function(rule: dict, logical_id: str) -> bool:
    return any(target["Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]} for target in rule["Targets"])


def expected_schedules(context) -> dict[str, str]:
    """Each product with a trainer on its spec's schedule, unless cdk.json overrides it."""
    return {name: context["retrainSchedules"].get(name, spec.retrain_schedule)
            for name, spec in products().items() if spec.trainer}


def test_one_retrain_schedule_per_product_with_a_trainer_with_its_input_and_a_dlq(synthesized, context):
    schedules = {rule["ScheduleExpression"]: rule for rule in _rules(synthesized)
                 if _targets_function(rule, MODEL_RETRAIN.logical_id) and "ScheduleExpression" in rule}
    expected = expected_schedules(context)
    # ...and one for every custom model, each retrained from its stored definition.
    custom = {expression: rule for expression, rule in schedules.items()
              if json.loads(rule["Targets"][0]["Input"]) == {"custom_models": "all"}}
    assert list(custom) == [context.get("customRetrainSchedule", CUSTOM_RETRAIN_SCHEDULE)]
    schedules = {expression: rule for expression, rule in schedules.items() if expression not in custom}
    assert set(schedules) == set(expected.values()) and len(set(expected.values())) == len(expected)
    for product, expression in expected.items():
        (target,) = schedules[expression]["Targets"]
        assert json.loads(target["Input"]) == {"product": product}
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_daily_drift_schedule_targets_the_monitor(synthesized, context):
    (rule,) = [rule for rule in _rules(synthesized) if _targets_function(rule, DRIFT_MONITOR.logical_id)]
    assert rule["ScheduleExpression"] == context["driftSchedule"]
    assert "DeadLetterConfig" in rule["Targets"][0]


def test_retrain_on_drift_rule_follows_the_context(synthesized, context):
    on_drift = [rule for rule in _rules(synthesized)
                if "EventPattern" in rule and _targets_function(rule, MODEL_RETRAIN.logical_id)]
    if context["retrainOnDrift"]:
        assert on_drift[0]["EventPattern"] == {"source": ["finscore.models"], "detail-type": ["DriftDetected"]}
    else:
        assert on_drift == []


def _statements(synthesized, spec) -> list[dict]:
    role = synthesized.resource(spec.logical_id)["Properties"]["Role"]["Fn::GetAtt"][0]
    return [statement for policy in synthesized.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]]


def _with_action(statements: list[dict], action: str) -> list[dict]:
    return [s for s in statements if action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


def test_events_go_to_the_default_bus_only(synthesized):
    for spec in (MODEL_RETRAIN, DRIFT_MONITOR):
        (statement,) = _with_action(_statements(synthesized, spec), "events:PutEvents")
        assert "event-bus/default" in json.dumps(statement["Resource"])
        env = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
        assert env["EVENT_BUS_NAME"] == "default"


def test_metric_data_is_limited_to_the_finscore_namespace(synthesized):
    (statement,) = _with_action(_statements(synthesized, DRIFT_MONITOR), "cloudwatch:PutMetricData")
    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "FinScore"}}


def test_platform_invokes_only_model_retrain_and_knows_its_name(synthesized):
    (statement,) = _with_action(_statements(synthesized, PLATFORM_API), "lambda:InvokeFunction")
    assert statement["Resource"] == {"Fn::GetAtt": [MODEL_RETRAIN.logical_id, "Arn"]}
    env = synthesized.resource(PLATFORM_API.logical_id)["Properties"]["Environment"]["Variables"]
    assert env["RETRAIN_FUNCTION_NAME"] == {"Ref": MODEL_RETRAIN.logical_id}


def test_scoring_functions_capture_at_the_configured_rate(synthesized, context):
    for spec in (RECOMMEND_API, RISK_API):
        env = synthesized.resource(spec.logical_id)["Properties"]["Environment"]["Variables"]
        assert float(env["DRIFT_CAPTURE_RATE"]) == context["driftCaptureRate"]


def test_async_failures_of_lifecycle_functions_reach_a_queue(synthesized):
    configs = synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
    functions = {c["Properties"]["FunctionName"]["Ref"] for c in configs if "OnFailure" in
                 c["Properties"].get("DestinationConfig", {})}
    assert {MODEL_RETRAIN.logical_id, DRIFT_MONITOR.logical_id} <= functions


def test_a_deployment_does_not_train_on_synthetic_data(synthesized, context):
    assert context["allowSyntheticTraining"] is False
    env = synthesized.resource(MODEL_RETRAIN.logical_id)["Properties"]["Environment"]["Variables"]
    assert env["ALLOW_SYNTHETIC_TRAINING"] == "false"
