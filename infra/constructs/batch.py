"""Batch scoring's fan-out: the Step Functions state machine that scores large files in chunks.

The batch_score function itself (its image, role and SQS event source on the incoming/ queue) comes
from FinScoreFunction like every other function, and the queue, its dead-letter queue and the S3
notification from Messaging. This construct adds the state machine

    Plan (batch_score: {"action": "plan"})
      -> ScoreChunks: Distributed Map over the plan's chunks (batch_score: {"action": "score_chunk"}),
         at most cdk.json `batchMaxConcurrency` at once
      -> Join (batch_score: {"action": "join"})
    any of them failing for good -> RecordFailure (the file's manifest says why) -> Failed

and what the function needs to start it: the state machine's ARN (built from its fixed name, since
the state machine already depends on the function), states:StartExecution on it alone, the
fan-out size (`batchFanoutBytes`) and an expiry rule for the chunk parts under batch-parts/.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from finscore.resources import BATCH_PARTS_PREFIX, BATCH_SCORE, BATCH_STATE_MACHINE, DATA_BUCKET
from infra.config import FinScoreConfig
from infra.constructs.api_function import FinScoreFunction
from infra.constructs.data import DataStores

PARTS_PREFIX = BATCH_PARTS_PREFIX
# Parts are joined minutes after they are written; a day leaves time to inspect a failed join.
PARTS_EXPIRY = Duration.days(2)
# The errors batch_score raises that a later attempt may not meet: S3 or the registry unreachable.
RETRYABLE_ERRORS = ["ServiceUnavailable", "ModelUnavailable"]


class BatchScoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: FinScoreConfig, data: DataStores,
                 function: FinScoreFunction) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.max_concurrency = config.batch_max_concurrency
        fanout_bytes = config.batch_fanout_bytes
        self.name = f"{stack.stack_name}-batch-score"
        arn = stack.format_arn(service="states", resource="stateMachine", resource_name=self.name,
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

        data.buckets[DATA_BUCKET].add_lifecycle_rule(
            id="ExpireBatchParts", prefix=PARTS_PREFIX, expiration=PARTS_EXPIRY,
            abort_incomplete_multipart_upload_after=Duration.days(1),
        )
        self.log_group = logs.LogGroup(self, "LogGroup", retention=config.log_retention,
                                       removal_policy=RemovalPolicy.RETAIN)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(self._definition(function)),
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        cfn_state_machine = self.state_machine.node.default_child
        cfn_state_machine.override_logical_id(BATCH_STATE_MACHINE.logical_id)
        # The role half of CDK's dependencies is implied by the GetAtt of its ARN (cfn-lint W3005);
        # the policy (invoke, logs, tracing) must still exist before the first execution runs.
        policy = self.state_machine.role.node.find_child("DefaultPolicy").node.default_child
        cfn_state_machine.add_override("DependsOn", [stack.get_logical_id(policy)])

        function.function.add_environment(BATCH_STATE_MACHINE.env_var, arn)
        function.function.add_environment("BATCH_FANOUT_BYTES", str(fanout_bytes))
        function.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[arn]))
        self._acknowledge_findings(function)

    def _task(self, construct_id: str, function: FinScoreFunction, payload: sfn.TaskInput | None,
              **options) -> tasks.LambdaInvoke:
        # Without a payload the task's whole input is the event (the Map's item selector builds it).
        task = tasks.LambdaInvoke(
            self, construct_id, lambda_function=function.function, payload=payload,
            payload_response_only=True, retry_on_service_exceptions=True, **options,
        )
        task.add_retry(errors=RETRYABLE_ERRORS, interval=Duration.seconds(10), max_attempts=3, backoff_rate=2)
        return task

    def _definition(self, function: FinScoreFunction) -> sfn.IChainable:
        plan = self._task("Plan", function, sfn.TaskInput.from_object(
            {"action": "plan", "source": sfn.JsonPath.object_at("$.source")}))
        chunks = sfn.DistributedMap(
            self,
            "ScoreChunks",
            items_path="$.chunks",
            item_selector={
                "action": "score_chunk",
                "job": sfn.JsonPath.object_at("$.job"),
                "chunk": sfn.JsonPath.object_at("$$.Map.Item.Value"),
            },
            max_concurrency=self.max_concurrency,
            # Every chunk's counts are in its part manifest in S3; the execution history keeps none.
            result_path=sfn.JsonPath.DISCARD,
        )
        chunks.item_processor(self._task("ScoreChunk", function, None,
                                         result_selector={"index.$": "$.index"}))
        join = self._task("Join", function, sfn.TaskInput.from_object({
            "action": "join",
            "job": sfn.JsonPath.object_at("$.job"),
            "chunk_count": sfn.JsonPath.array_length(sfn.JsonPath.list_at("$.chunks")),
        }))
        # Whatever fails for good (after the retries) is caught: batch_score writes the file's manifest
        # with the reason, and the execution fails with it, which the monitoring alarms on.
        record = self._task("RecordFailure", function, sfn.TaskInput.from_object(
            {"action": "record_failure", "state": sfn.JsonPath.entire_payload}))
        record.add_catch(sfn.Fail(self, "FailedUnrecorded", error="BatchScoringFailed",
                                  cause="the failure could not be recorded in the file's manifest"))
        record.next(sfn.Fail(self, "Failed", error="BatchScoringFailed", cause_path="$.reason"))
        for step in (plan, chunks, join):
            step.add_catch(record, result_path="$.failure")
        return plan.next(chunks).next(join)

    def _acknowledge_findings(self, function: FinScoreFunction) -> None:
        Validations.of(self.state_machine.role.node.find_child("DefaultPolicy")).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{BATCH_SCORE.logical_id}.Arn>:*]",
                reason="lambda:InvokeFunction on batch_score and its versions and aliases only (CDK's grant form "
                "for a task that invokes a function); the state machine invokes nothing else.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray's PutTraceSegments, PutTelemetryRecords and sampling calls (tracing) and CloudWatch "
                "Logs' log-delivery calls (execution logging) support no resource-level permissions.",
            ),
        )
        # The Distributed Map runs each chunk as a child execution of this state machine and must
        # describe and stop those executions, whose names Step Functions chooses at run time.
        executions = ('arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:'
                      '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"%s"}]}]}' % BATCH_STATE_MACHINE.logical_id)
        Validations.of(self.state_machine.node.find_child("DistributedMapPolicy")).acknowledge(
            *(Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{executions}{suffix}]",
                reason="The Distributed Map's child executions of this state machine only (CDK's policy for "
                "DescribeExecution and StopExecution): their names are chosen by Step Functions at run time.",
            ) for suffix in (":*", "/*:*")),
        )
