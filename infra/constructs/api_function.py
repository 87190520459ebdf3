"""One function per resources.FunctionSpec: code, environment, log group, event sources and its own role.

Zip functions (package "zip") run functions/<folder>/handler.py with the shared and serving layers;
image functions (package "image") are built from functions/<folder>/Dockerfile with the repository
root as build context (synth needs no Docker, only deploy does). Functions whose spec says snap_start
run with Lambda SnapStart on published versions: each deployment publishes a version, and API
Gateway invokes it through the alias "live".

The role holds only what the function does, derived from its spec: read champion models (GetObject
on the model store, GetItem/Query on the registry); promote and rollback when it serves admin routes
(UpdateItem, which the registry's TransactWriteItems of Update actions is authorised by); probe every
bucket and table when it serves /health (s3:ListBucket of the probe prefix only); read its tables
by key, batch-read the ones its spec lists and write the ones it writes; read the files of its queue's
prefix and write its outputs beside it; publish to its topics, send SMS and email when it delivers;
post to WebSocket connections when it broadcasts. Variables from CDK context are the ones its spec
takes (FunctionSpec.context).
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Annotations, Duration, IgnoreMode, RemovalPolicy, Size, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from finscore.resources import (
    DATA_BUCKET,
    HEALTH_PROBE_PREFIX,
    HEALTH_ROUTE,
    METRICS_NAMESPACE,
    MODELS_BUCKET,
    PRODUCT_ENV,
    FunctionSpec,
)
from infra.config import REPO_ROOT, FinScoreConfig
from infra.constructs.data import DataStores
from infra.constructs.layers import PYTHON_CACHE_EXCLUDES, FunctionLayers
from infra.constructs.messaging import Messaging

FUNCTIONS_DIR = REPO_ROOT / "functions"
HANDLER = "handler.lambda_handler"
# The DynamoDB actions that may name a global secondary index.
INDEX_READS = ("Query", "Scan")
# The alias API Gateway invokes a SnapStart function through (FunctionSpec.snap_start).
LIVE_ALIAS = "live"
# Lambda's own DynamoDB stream poller reads these; ListStreams has no resource-level permissions.
STREAM_READS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")


def service_name(spec: FunctionSpec) -> str:
    """Powertools service name: finscore-<function name in kebab case>."""
    return "finscore-" + spec.name.replace("_", "-")


def dockerfile_sources(dockerfile_text: str) -> list[str]:
    """The build-context paths a Dockerfile COPYs or ADDs (not those of other build stages)."""
    sources = []
    for line in re.sub(r"\\\n", " ", dockerfile_text).splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from") for word in words[1:]) or len(arguments) < 2:
            continue
        sources.extend(argument.lstrip("./").rstrip("/") for argument in arguments[:-1])
    return sources


class FinScoreFunction(Construct):
    """A function of the app; its CloudFormation logical id is spec.logical_id."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        config: FinScoreConfig,
        data: DataStores,
        layers: FunctionLayers,
        messaging: Messaging,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self, "LogGroup", retention=config.log_retention, removal_policy=RemovalPolicy.RETAIN
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"FinScore {spec.name}: only the access its spec needs",
        )
        common = dict(
            description=spec.description,
            architecture=lambda_.Architecture.X86_64,
            memory_size=config.memory_mb(spec.name, spec.memory_mb),
            timeout=Duration.seconds(spec.timeout_s),
            ephemeral_storage_size=Size.mebibytes(spec.ephemeral_storage_mb),
            environment=self._environment(config, data, messaging),
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
        )
        if spec.package == "image":
            self.function: lambda_.Function = lambda_.DockerImageFunction(
                self, "Function", code=image_code(spec, config.python_version), **common
            )
        else:
            self.function = lambda_.Function(
                self,
                "Function",
                code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.folder), exclude=PYTHON_CACHE_EXCLUDES),
                handler=HANDLER,
                runtime=config.runtime,
                layers=layers.all,
                snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
                # Superseded versions go once the alias has moved on: each keeps a cached snapshot.
                current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY)
                if spec.snap_start else None,
                **common,
            )
        self.log_group.grant_write(self.role)
        self._grant_data_access(data)
        self._grant_messaging(config, messaging)
        self.stream_failures = self._add_event_sources(config, data, messaging)
        cfn_function = self.function.node.default_child
        cfn_function.override_logical_id(spec.logical_id)
        # CDK makes the function depend on its role and the role's policy; the role half is already
        # implied by the Fn::GetAtt on its ARN, and cfn-lint (W3005) rightly calls it redundant.
        policy = self.role.node.find_child("DefaultPolicy").node.default_child
        cfn_function.add_override("DependsOn", [policy.logical_id])
        # What API Gateway invokes. A SnapStart function restores from the snapshot of a published
        # version only, so its callers go through an alias on the version of this deployment.
        self.invoke_target: lambda_.IFunction = self.function
        if spec.snap_start:
            self.invoke_target = lambda_.Alias(
                self, "LiveAlias", alias_name=LIVE_ALIAS, version=self.function.current_version
            )
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "Every deployment publishes a version (current_version) and the alias API Gateway invokes points at it.",
            )
        self._acknowledge_findings()

    def _environment(self, config: FinScoreConfig, data: DataStores, messaging: Messaging) -> dict[str, str]:
        spec = self.spec
        environment = {
            "REGISTRY_TTL": str(config.registry_ttl_seconds),
            "FINSCORE_STAGE": config.api_stage_name,
            "POWERTOOLS_SERVICE_NAME": service_name(spec),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": "INFO",
            # Active tracing records every invocation either way; the X-Ray SDK's subsegments (AWS
            # calls inside the function) cost about a third of a second of cold start, so opt-in.
            "POWERTOOLS_TRACE_DISABLED": "false" if config.xray_sdk_tracing else "true",
        }
        # Refs to the logical ids resources.py names, resolved to physical names at deploy time.
        environment.update({bucket.env_var: data.buckets[bucket].bucket_name for bucket in spec.buckets})
        environment.update({table.env_var: data.tables[table].table_name for table in spec.tables})
        environment.update({topic.env_var: messaging.topics[topic].topic_arn for topic in spec.topics})
        if spec.queue is not None:
            environment[spec.queue.env_var] = messaging.queues[spec.queue].queue_url
        environment.update({variable: config.context_value(key) for variable, key in spec.settings_context})
        if spec.product is not None:
            environment[PRODUCT_ENV] = spec.product
        return environment

    def _grant_data_access(self, data: DataStores) -> None:
        spec = self.spec
        if MODELS_BUCKET in spec.buckets:
            self._allow(["s3:GetObject"], [data.buckets[MODELS_BUCKET].arn_for_objects("*")])
        if spec.queue is not None and DATA_BUCKET in spec.buckets:
            bucket = data.buckets[DATA_BUCKET]
            # Its files, and its earlier reports (a redelivered file is recognised by its summary).
            outputs = spec.output_prefixes
            prefixes = (spec.queue.s3_prefix, *outputs)
            self._allow(["s3:GetObject"], [bucket.arn_for_objects(prefix + "*") for prefix in prefixes])
            self._allow(["s3:PutObject"], [bucket.arn_for_objects(prefix + "*") for prefix in outputs])
        # One statement per table and kind of action: reads may also use the table's indexes.
        for table_spec, actions in spec.dynamodb_actions().items():
            table = data.tables[table_spec]
            index_arns = [f"{table.table_arn}/index/{name}" for name, _, _ in table_spec.global_indexes]
            reads = [f"dynamodb:{action}" for action in actions if action in INDEX_READS]
            others = [f"dynamodb:{action}" for action in actions if action not in INDEX_READS]
            self._allow(reads, [table.table_arn, *index_arns])
            self._allow(others, [table.table_arn])
        if HEALTH_ROUTE in spec.public_routes:
            # The health probe lists HEALTH_PROBE_PREFIX, and nothing else of the buckets.
            self._allow(["s3:ListBucket"], [data.buckets[bucket].bucket_arn for bucket in spec.buckets],
                        {"StringEquals": {"s3:prefix": HEALTH_PROBE_PREFIX}})

    def _grant_messaging(self, config: FinScoreConfig, messaging: Messaging) -> None:
        spec = self.spec
        self._allow(["sns:Publish"], [messaging.topics[topic].topic_arn for topic in spec.topics])
        if spec.sends_sms:
            # SMS goes to a phone number, which has no ARN to name; what is not an SNS ARN is one, so
            # this allows direct SMS and no topic, application endpoint or other account's resource.
            self.role.add_to_policy(iam.PolicyStatement(
                actions=["sns:Publish"], not_resources=[f"arn:{Stack.of(self).partition}:sns:*:*:*"]))
        if spec.sends_email:
            stack = Stack.of(self)
            domain = config.sender_email.split("@", 1)[1]
            # SES authorises against whichever identity is verified: the address or its domain.
            identities = [
                stack.format_arn(service="ses", resource="identity", resource_name=config.sender_email),
                stack.format_arn(service="ses", resource="identity", resource_name=domain),
            ]
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ses:SendEmail", "ses:SendRawEmail"],
                    resources=identities,
                    conditions={"StringEquals": {"ses:FromAddress": config.sender_email}},
                )
            )

    def _add_event_sources(self, config: FinScoreConfig, data: DataStores, messaging: Messaging) -> sqs.Queue | None:
        spec = self.spec
        if spec.queue is not None:
            self.function.add_event_source(
                event_sources.SqsEventSource(
                    messaging.queues[spec.queue], batch_size=config.queue_batch_size, report_batch_item_failures=True,
                    max_concurrency=config.queue_max_concurrency,
                )
            )
            for child in self.function.node.children:
                if child.node.id.startswith("SqsEventSource"):
                    Validations.of(child).acknowledge(
                        Acknowledgment(
                            id="Serverless-LambdaEventSourceMappingDestination",
                            reason="Lambda offers on-failure destinations for stream and Kafka mappings only; a "
                            "message that keeps failing moves to the queue's redrive dead-letter queue after "
                            "maxReceiveCount receives, so nothing is lost.",
                        )
                    )
        if not spec.streams:
            return None
        # Batches that still fail after the retries are recorded here (shard, sequence numbers) so
        # that they can be replayed; the stream itself keeps records for 24 hours.
        failures = messaging.dead_letter_queue(self, "StreamFailures")
        for table_spec in spec.streams:
            self.function.add_event_source(
                event_sources.DynamoEventSource(
                    data.tables[table_spec],
                    # Delivery must see every intervention ever written; the broadcaster only news.
                    starting_position=lambda_.StartingPosition.LATEST
                    if spec.posts_to_connections
                    else lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=config.stream_batch_size,
                    bisect_batch_on_error=True,
                    retry_attempts=config.stream_retry_attempts,
                    on_failure=event_sources.SqsDlq(failures),
                    report_batch_item_failures=True,
                    filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.or_(*spec.stream_events)})]
                    if spec.stream_events else None,
                )
            )
        return failures

    def _allow(self, actions: list[str], resources: list[str], conditions: dict | None = None) -> None:
        if actions and resources:
            self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions))

    def _acknowledge_findings(self) -> None:
        spec = self.spec
        policy = Validations.of(self.role.node.find_child("DefaultPolicy"))
        wildcard_uses = ["X-Ray's PutTraceSegments and PutTelemetryRecords (added by active tracing): X-Ray does "
                         "not support resource-level permissions for them"]
        if spec.streams:
            wildcard_uses.append("dynamodb:ListStreams (added by the stream event source): it has no "
                                 "resource-level permissions")
        policy.acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Resource '*' only where AWS offers nothing narrower: " + "; ".join(wildcard_uses) + ".",
            )
        )
        if MODELS_BUCKET in spec.buckets:
            policy.acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{MODELS_BUCKET.logical_id}.Arn>/*]",
                    reason="s3:GetObject only, on the model store only: champion artifacts live under "
                    "<product>/<version>/ keys that training creates after deployment, so no fixed key list exists.",
                )
            )
        if spec.queue is not None and DATA_BUCKET in spec.buckets:
            for prefix in (spec.queue.s3_prefix, *spec.output_prefixes):
                policy.acknowledge(
                    Acknowledgment(
                        id=f"AwsSolutions-IAM5[Resource::<{DATA_BUCKET.logical_id}.Arn>/{prefix}*]",
                        reason=f"Objects under {prefix} only: the files users drop there (and the reports and "
                        "outputs written for them) have names chosen at upload time.",
                    )
                )
        for table_spec in spec.tables:
            if table_spec.global_indexes and (table_spec in spec.reads or table_spec in spec.listings):
                policy.acknowledge(
                    Acknowledgment(
                        id=f"AwsSolutions-IAM5[Resource::<{table_spec.logical_id}.Arn>/index/*]",
                        reason="Queries on this table's own global secondary indexes (CDK's grant form); "
                        "the indexes are the ones resources.py declares for the table and nothing else.",
                    )
                )
        if spec.routes or spec.public_routes or spec.admin_routes or spec.websocket_routes:
            Validations.of(self.function).acknowledge(
                Acknowledgment(
                    id="Serverless-LambdaDLQ",
                    reason="Invoked only synchronously by API Gateway: a failure is returned to the caller as an "
                    "HTTP error and nothing is retried asynchronously, so a dead-letter queue would never receive "
                    "a message.",
                ),
            )
        elif spec.streams or spec.queue is not None:
            Validations.of(self.function).acknowledge(
                Acknowledgment(
                    id="Serverless-LambdaDLQ",
                    reason="Invoked only by event source mappings, never asynchronously: failed stream batches go "
                    "to the mapping's on-failure SQS queue and failed queue messages to the queue's redrive "
                    "dead-letter queue, so a function-level DLQ would never receive anything.",
                ),
            )


def image_code(spec: FunctionSpec, python_version: str) -> lambda_.DockerImageCode:
    """functions/<folder>/Dockerfile built with the repository root as context, holding only what it copies."""
    dockerfile = FUNCTIONS_DIR / spec.folder / "Dockerfile"
    if not dockerfile.is_file():
        raise RuntimeError(f"{spec.name} is an image function but {dockerfile} does not exist")
    # The repository root holds .venv, node_modules and cdk.out: hashing and sending them as build
    # context would take minutes, so the context is the Dockerfile, its Dockerfile.dockerignore (which
    # docker reads beside a -f Dockerfile) and its COPY sources. CDK keeps a Dockerfile only at the root.
    staged = [dockerfile, dockerfile.with_name(dockerfile.name + ".dockerignore")]
    sources = [str(path.relative_to(REPO_ROOT)) for path in staged if path.is_file()]
    sources += dockerfile_sources(dockerfile.read_text())
    include = [f"!{source}" for source in sources] + [f"!{source}/**" for source in sources]
    return lambda_.DockerImageCode.from_image_asset(
        str(REPO_ROOT),
        file=str(dockerfile.relative_to(REPO_ROOT)),
        cmd=[HANDLER],
        # The Lambda base image of the Python the zip functions run on (cdk.json lambdaPythonVersion).
        build_args={"PYTHON_VERSION": python_version},
        exclude=["**", *include, "**/__pycache__", "**/*.pyc"],
        ignore_mode=IgnoreMode.DOCKER,
    )
