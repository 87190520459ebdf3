"""Least privilege: one role per function, holding only the data access its routes need."""

from __future__ import annotations

import json

import pytest

from finscore.products import all_functions, all_tables
from finscore.products.recommend.spec import RECOMMEND_API
from finscore.products.risk.spec import (
    APP_PUSH_TOPIC,
    INTERVENTION_DELIVERY,
    LIVE_BROADCAST,
    LIVE_CONNECTIONS,
    RISK_API,
    RISK_EXPLAIN,
    RISK_INGEST,
)
from finscore.resources import (
    ACTIVITY_TABLE,
    CUSTOM_MODELS_TABLE,
    DATA_BUCKET,
    DRIFT_MONITOR,
    HEALTH_PROBE_PREFIX,
    MODEL_RETRAIN,
    MODELS_BUCKET,
    PLATFORM_API,
    REGISTRY_TABLE,
)

FUNCTIONS = all_functions()
TRACING_AND_LOGS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "logs:CreateLogStream", "logs:PutLogEvents"}
WRITES = {
    "s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
}
TABLE_WRITE_ACTIONS = WRITES - {"s3:PutObject", "s3:DeleteObject"}


def _role_of(synthesized, spec) -> str:
    return synthesized.resource(spec.logical_id)["Properties"]["Role"]["Fn::GetAtt"][0]


def _statements(synthesized, spec) -> list[dict]:
    role = _role_of(synthesized, spec)
    statements = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _grants(synthesized, spec) -> dict[str, list[str]]:
    """action -> the resources it is allowed on, each rendered as compact JSON."""
    grants: dict[str, list[str]] = {}
    for statement in _statements(synthesized, spec):
        assert statement["Effect"] == "Allow"
        if "NotResource" in statement:
            continue  # read by the tests that expect one
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            grants.setdefault(action, []).extend(json.dumps(resource, sort_keys=True) for resource in resources)
    return grants


def _capture_objects(product: str) -> str:
    return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [DATA_BUCKET.logical_id, "Arn"]}, f"/capture/{product}/*"]]},
                      sort_keys=True)


def _arn(logical_id: str) -> str:
    return json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}, sort_keys=True)


def _objects_of(logical_id: str) -> str:
    return json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [logical_id, "Arn"]}, "/*"]]}, sort_keys=True)


def test_each_function_has_its_own_role_assumable_by_lambda_only(synthesized):
    roles = [_role_of(synthesized, spec) for spec in FUNCTIONS]
    assert len(set(roles)) == len(FUNCTIONS)
    for role in roles:
        properties = synthesized.resource(role)["Properties"]
        (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "ManagedPolicyArns" not in properties


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
def test_functions_write_only_the_tables_they_own_and_never_the_registry(synthesized, spec):
    grants = _grants(synthesized, spec)
    assert not any(action.endswith("*") for action in grants)
    assert "s3:DeleteObject" not in grants
    written = {resource for action in TABLE_WRITE_ACTIONS - {"dynamodb:UpdateItem"} for resource in grants.get(action, [])}
    if spec == MODEL_RETRAIN:
        # Retraining registers candidates and moves the champion: the one writer of the registry. It also
        # records custom models' runs.
        assert written == {_arn(REGISTRY_TABLE.logical_id), _arn(CUSTOM_MODELS_TABLE.logical_id)}
        return
    writes = {f"dynamodb:{action}" for action in ("PutItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem")}
    assert written == {_arn(table.logical_id) for table, actions in spec.dynamodb_actions().items()
                       if writes & {f"dynamodb:{action}" for action in actions}}
    assert _arn(REGISTRY_TABLE.logical_id) not in written
    if MODELS_BUCKET in spec.buckets:
        assert _objects_of(MODELS_BUCKET.logical_id) in grants["s3:GetObject"]


@pytest.mark.parametrize("spec", [RECOMMEND_API, PLATFORM_API, RISK_EXPLAIN], ids=lambda spec: spec.name)
def test_read_only_functions_have_no_writes(synthesized, spec):
    grants = _grants(synthesized, spec)
    # Scoring functions write only their drift capture sample (capture/<product>/).
    if spec == RECOMMEND_API:
        assert grants.pop("s3:PutObject") == [_capture_objects("recommend")]
    assert not (WRITES - {"dynamodb:UpdateItem"}) & set(grants)
    if spec == RISK_EXPLAIN:
        assert "dynamodb:UpdateItem" not in grants


def test_risk_api_writes_customers_transactions_interventions_and_idempotency(synthesized):
    grants = _grants(synthesized, RISK_API)
    assert sorted(grants["dynamodb:PutItem"]) == sorted(
        _arn(logical_id)
        for logical_id in ("RiskCustomersTable", "RiskTransactionsTable", "InterventionsTable", "IdempotencyTable")
    )
    assert grants["s3:PutObject"] == [_capture_objects("risk")]
    # Counters are only moved (UpdateItem in a transaction) and read in one batch; search terms only queried.
    assert _arn("RiskCountersTable") in grants["dynamodb:UpdateItem"]
    assert _arn("RiskCountersTable") in grants["dynamodb:BatchGetItem"]
    assert _arn("RiskCountersTable") not in grants["dynamodb:PutItem"]
    assert _arn("RiskCustomerSearchTable") in grants["dynamodb:Query"]
    assert "dynamodb:Scan" not in grants


def test_risk_ingest_reads_its_prefix_and_writes_only_reports(synthesized):
    grants = _grants(synthesized, RISK_INGEST)
    prefix = RISK_INGEST.queue.s3_prefix

    def objects(key_prefix: str) -> str:
        return json.dumps(
            {"Fn::Join": ["", [{"Fn::GetAtt": [DATA_BUCKET.logical_id, "Arn"]}, f"/{key_prefix}*"]]}, sort_keys=True
        )

    assert objects(prefix) in grants["s3:GetObject"]
    assert sorted(grants["s3:PutObject"]) == sorted(objects(p) for p in RISK_INGEST.output_prefixes)
    assert not any(p.startswith(prefix) for p in RISK_INGEST.output_prefixes), "reports there would notify again"
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= set(grants)


def test_delivery_publishes_to_its_topic_sends_sms_and_email_from_the_sender_only(synthesized, context):
    statements = _statements(synthesized, INTERVENTION_DELIVERY)
    assert _grants(synthesized, INTERVENTION_DELIVERY)["sns:Publish"] == [json.dumps({"Ref": APP_PUSH_TOPIC.logical_id})]
    # SMS: anything that is not an SNS resource, i.e. a phone number; no topic but its own.
    (sms,) = [s for s in statements if "NotResource" in s]
    assert sms["Action"] == "sns:Publish"
    assert sms["NotResource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}
    (email,) = [s for s in statements if "ses:SendEmail" in s["Action"]]
    assert email["Condition"] == {"StringEquals": {"ses:FromAddress": context["senderEmail"]}}
    assert all("identity/" in json.dumps(resource) for resource in email["Resource"])
    grants = _grants(synthesized, INTERVENTION_DELIVERY)
    assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "sqs:SendMessage"} <= set(grants)


def test_broadcaster_manages_connections_of_its_stage_only(synthesized, context):
    statements = _statements(synthesized, LIVE_BROADCAST)
    (manage,) = [s for s in statements if s["Action"] == "execute-api:ManageConnections"]
    rendered = json.dumps(manage["Resource"])
    assert '"Ref": "LiveWebSocketApi"' in rendered and f"/{context['apiStageName']}/*/@connections/*" in rendered


def test_recommend_function_only_reads_models_and_the_registry(synthesized):
    grants = _grants(synthesized, RECOMMEND_API)
    assert set(grants) == TRACING_AND_LOGS | {"s3:GetObject", "s3:PutObject", "dynamodb:GetItem", "dynamodb:Query",
                                              "dynamodb:UpdateItem"}
    assert grants["dynamodb:GetItem"] == grants["dynamodb:Query"] == [_arn(REGISTRY_TABLE.logical_id)]
    # ...and adds to its hourly activity counts, nothing more.
    assert grants["dynamodb:UpdateItem"] == [_arn(ACTIVITY_TABLE.logical_id)]


def test_platform_function_may_also_move_the_champion_and_probe_dependencies(synthesized):
    grants = _grants(synthesized, PLATFORM_API)
    assert set(grants) == TRACING_AND_LOGS | {
        "s3:GetObject",
        "s3:ListBucket",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DescribeTable",
        "lambda:InvokeFunction",
    }
    # retrain: an asynchronous invocation of model_retrain and nothing else.
    assert grants["lambda:InvokeFunction"] == [_arn(MODEL_RETRAIN.logical_id)]
    # promote/rollback: TransactWriteItems of Update actions, authorised per item by UpdateItem.
    assert grants["dynamodb:UpdateItem"] == [_arn(REGISTRY_TABLE.logical_id)]
    # /health: lists the probe prefix of each bucket, DescribeTable checks every table of the platform.
    # (the data bucket twice: the health probe, and listing drift/ under a prefix condition)
    assert sorted(set(grants["s3:ListBucket"])) == sorted(_arn(b.logical_id) for b in (MODELS_BUCKET, DATA_BUCKET))
    # Every listing names its prefixes: the probe's, and drift reports'.
    conditions = [statement.get("Condition", {}) for statement in _statements(synthesized, PLATFORM_API)
                  if "s3:ListBucket" in statement["Action"]]
    assert conditions and all([key for keys in condition.values() for key in keys] == ["s3:prefix"]
                              for condition in conditions)
    assert {"StringEquals": {"s3:prefix": HEALTH_PROBE_PREFIX}} in conditions
    assert sorted(grants["dynamodb:DescribeTable"]) == sorted(_arn(table.logical_id) for table in all_tables())
    # ...and reads only the registry and the activity counts: the other tables' names are there to be probed.
    assert grants["dynamodb:GetItem"] == [_arn(REGISTRY_TABLE.logical_id)]
    assert sorted(grants["dynamodb:Query"]) == sorted(_arn(t.logical_id) for t in (REGISTRY_TABLE, ACTIVITY_TABLE))


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.name for spec in FUNCTIONS])
def test_wildcard_resources_are_only_where_aws_has_nothing_narrower(synthesized, spec):
    for action, resources in _grants(synthesized, spec).items():
        if '"*"' in resources:
            allowed = action.startswith("xray:") or (action == "dynamodb:ListStreams" and spec.streams) or (
                action == "cloudwatch:PutMetricData" and spec == DRIFT_MONITOR)
            assert allowed, action


@pytest.mark.parametrize(("spec", "table", "actions"), [
    (INTERVENTION_DELIVERY, "InterventionsTable", {"dynamodb:UpdateItem"}),
    (LIVE_CONNECTIONS, "LiveConnectionsTable", {"dynamodb:PutItem", "dynamodb:DeleteItem"}),
    (LIVE_BROADCAST, "LiveConnectionsTable", {"dynamodb:Scan", "dynamodb:DeleteItem"}),
    (RISK_EXPLAIN, "RiskCustomersTable", {"dynamodb:GetItem"}),
], ids=lambda value: getattr(value, "name", None) or str(value))
def test_narrow_functions_hold_exactly_the_table_actions_their_code_calls(synthesized, spec, table, actions):
    on_table = {action for action, resources in _grants(synthesized, spec).items()
                if action.startswith("dynamodb:") and _arn(table) in resources}
    assert on_table == actions
