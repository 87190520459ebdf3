"""Batch scoring in the template: the function's event source, its grants, and the fan-out state machine."""

from __future__ import annotations

import json

from finscore.resources import BATCH_INCOMING_QUEUE, BATCH_SCORE, BATCH_STATE_MACHINE, DATA_BUCKET
from infra.constructs import batch


def _definition(template) -> dict:
    parts = template["Resources"][BATCH_STATE_MACHINE.logical_id]["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(part if isinstance(part, str) else "FUNCTION_ARN" for part in parts))


def _policy_statements(synthesized, role_logical_id_prefix: str) -> list[dict]:
    statements = []
    for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        if logical_id.startswith(role_logical_id_prefix):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_state_machine_plans_maps_chunks_distributed_and_joins(template, context):
    definition = _definition(template)
    assert definition["StartAt"] == "Plan"
    states = definition["States"]
    assert states["Plan"]["Next"] == "ScoreChunks" and states["ScoreChunks"]["Next"] == "Join"
    assert states["Join"]["End"] is True
    assert states["Plan"]["Parameters"] == {"action": "plan", "source.$": "$.source"}
    chunks = states["ScoreChunks"]
    assert chunks["Type"] == "Map" and chunks["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert chunks["ItemsPath"] == "$.chunks"
    assert chunks["ItemSelector"] == {"action": "score_chunk", "job.$": "$.job", "chunk.$": "$$.Map.Item.Value"}
    assert chunks["MaxConcurrency"] == context["batchMaxConcurrency"]
    # Chunk results stay in S3: the execution's state never grows with the number of chunks.
    assert chunks["ResultPath"] is None
    assert states["Join"]["Parameters"]["chunk_count.$"] == "States.ArrayLength($.chunks)"
    tasks = [states["Plan"], chunks["ItemProcessor"]["States"]["ScoreChunk"], states["Join"]]
    for task in tasks:
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.SdkClientException", "ServiceUnavailable"} <= retried
        assert task["Resource"] == "FUNCTION_ARN"


def test_a_step_failing_for_good_is_recorded_in_the_manifest_and_fails_the_execution(template):
    states = _definition(template)["States"]
    for step in ("Plan", "ScoreChunks", "Join"):
        (catch,) = states[step]["Catch"]
        assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailure"}
    record = states["RecordFailure"]
    assert record["Parameters"] == {"action": "record_failure", "state.$": "$"}
    assert record["Next"] == "Failed"
    assert states["Failed"] == {"Type": "Fail", "Error": "BatchScoringFailed", "CausePath": "$.reason"}
    (unrecorded,) = record["Catch"]
    assert states[unrecorded["Next"]]["Type"] == "Fail"


def test_state_machine_logs_every_event_and_is_traced(template):
    properties = template["Resources"][BATCH_STATE_MACHINE.logical_id]["Properties"]
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["TracingConfiguration"] == {"Enabled": True}


def test_function_knows_the_state_machine_and_may_start_only_it(synthesized, template):
    variables = template["Resources"][BATCH_SCORE.logical_id]["Properties"]["Environment"]["Variables"]
    name = template["Resources"][BATCH_STATE_MACHINE.logical_id]["Properties"]["StateMachineName"]
    assert json.dumps(variables[BATCH_STATE_MACHINE.env_var]).endswith(f':stateMachine:{name}"]]}}')
    assert int(variables["BATCH_FANOUT_BYTES"]) >= 1024 * 1024
    statements = _policy_statements(synthesized, f"{BATCH_SCORE.logical_id}Role")
    starts = [s for s in statements if "states:StartExecution" in json.dumps(s["Action"])]
    assert len(starts) == 1 and starts[0]["Resource"] == variables[BATCH_STATE_MACHINE.env_var]
    actions = {action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:DeleteObject" not in actions and not any(action.endswith("*") for action in actions)
    written = [s["Resource"] for s in statements if s["Action"] == "s3:PutObject"][0]
    assert sorted(part["Fn::Join"][1][1] for part in written) == ["/batch-parts/*", "/scored/*"]


def test_state_machine_invokes_only_the_batch_function(synthesized):
    statements = _policy_statements(synthesized, "BatchStateMachineRole")
    invokes = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert len(invokes) == 1
    assert {"Fn::GetAtt": [BATCH_SCORE.logical_id, "Arn"]} in invokes[0]["Resource"]


def test_queue_feeds_the_function_with_partial_batch_failures(synthesized):
    mappings = [m["Properties"] for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
                if m["Properties"]["FunctionName"] == {"Ref": BATCH_SCORE.logical_id}]
    assert len(mappings) == 1
    assert mappings[0]["EventSourceArn"] == {"Fn::GetAtt": [BATCH_INCOMING_QUEUE.logical_id, "Arn"]}
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_chunk_parts_expire(template):
    rules = template["Resources"][DATA_BUCKET.logical_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    (parts,) = [rule for rule in rules if rule.get("Prefix") == batch.PARTS_PREFIX]
    assert parts["Status"] == "Enabled" and parts["ExpirationInDays"] >= 1
