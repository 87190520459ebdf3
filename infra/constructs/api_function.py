"""One zip API function per resources.FunctionSpec: code, layers, environment, log group and its own role.

The role holds only what the function's routes do: read champion models (GetObject on the model
store, GetItem/Query on the registry); promote and rollback when it serves admin routes
(UpdateItem, which the registry's TransactWriteItems of Update actions is authorised by); probe
every bucket and table when it serves /health (HeadBucket is authorised by s3:ListBucket).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from finscore.resources import MODELS_BUCKET, REGISTRY_TABLE, FunctionSpec
from infra.config import REPO_ROOT, FinScoreConfig
from infra.constructs.data import DataStores
from infra.constructs.layers import PYTHON_CACHE_EXCLUDES, FunctionLayers

FUNCTIONS_DIR = REPO_ROOT / "functions"
HANDLER = "handler.lambda_handler"
METRICS_NAMESPACE = "FinScore"
HEALTH_ROUTE = ("GET", "/health")


def service_name(spec: FunctionSpec) -> str:
    """Powertools service name: finscore-<function name in kebab case>."""
    return "finscore-" + spec.name.replace("_", "-")


class ApiFunction(Construct):
    """A synchronous API Gateway target; its CloudFormation logical id is spec.logical_id."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        config: FinScoreConfig,
        data: DataStores,
        layers: FunctionLayers,
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
            description=f"FinScore {spec.name}: only the data access its routes need",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.name), exclude=PYTHON_CACHE_EXCLUDES),
            handler=HANDLER,
            runtime=config.runtime,
            architecture=lambda_.Architecture.X86_64,
            memory_size=config.memory_mb(spec.name, spec.memory_mb),
            timeout=Duration.seconds(spec.timeout_s),
            layers=layers.all,
            environment=self._environment(config, data),
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
        )
        self.log_group.grant_write(self.role)
        self._grant_data_access(data)
        cfn_function = self.function.node.default_child
        cfn_function.override_logical_id(spec.logical_id)
        # CDK makes the function depend on its role and the role's policy; the role half is already
        # implied by the Fn::GetAtt on its ARN, and cfn-lint (W3005) rightly calls it redundant.
        policy = self.role.node.find_child("DefaultPolicy").node.default_child
        cfn_function.add_override("DependsOn", [policy.logical_id])
        self._acknowledge_findings()

    def _environment(self, config: FinScoreConfig, data: DataStores) -> dict[str, str]:
        environment = {
            "REGISTRY_TTL": str(config.registry_ttl_seconds),
            "FINSCORE_STAGE": config.api_stage_name,
            "POWERTOOLS_SERVICE_NAME": service_name(self.spec),
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": "INFO",
            # Active tracing records every invocation either way; the X-Ray SDK's subsegments (AWS
            # calls inside the function) cost about a third of a second of cold start, so opt-in.
            "POWERTOOLS_TRACE_DISABLED": "false" if config.xray_sdk_tracing else "true",
        }
        # Refs to the logical ids resources.py names, resolved to physical names at deploy time.
        environment.update({bucket.env_var: data.buckets[bucket].bucket_name for bucket in self.spec.buckets})
        environment.update({table.env_var: data.tables[table].table_name for table in self.spec.tables})
        return environment

    def _grant_data_access(self, data: DataStores) -> None:
        spec = self.spec
        if MODELS_BUCKET in spec.buckets:
            self._allow(["s3:GetObject"], [data.buckets[MODELS_BUCKET].arn_for_objects("*")])
        for table_spec in spec.tables:
            table = data.tables[table_spec]
            index_arns = [f"{table.table_arn}/index/{name}" for name, _, _ in table_spec.global_indexes]
            self._allow(["dynamodb:GetItem", "dynamodb:Query"], [table.table_arn, *index_arns])
        if spec.admin_routes and REGISTRY_TABLE in spec.tables:
            self._allow(["dynamodb:UpdateItem"], [data.tables[REGISTRY_TABLE].table_arn])
        if HEALTH_ROUTE in spec.public_routes:
            self._allow(["s3:ListBucket"], [data.buckets[bucket].bucket_arn for bucket in spec.buckets])
            self._allow(["dynamodb:DescribeTable"], [data.tables[table].table_arn for table in spec.tables])

    def _allow(self, actions: list[str], resources: list[str]) -> None:
        if resources:
            self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))

    def _acknowledge_findings(self) -> None:
        policy = Validations.of(self.role.node.find_child("DefaultPolicy"))
        policy.acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="Only X-Ray's PutTraceSegments and PutTelemetryRecords (added by active tracing) have "
                "Resource '*': X-Ray does not support resource-level permissions for them.",
            )
        )
        if MODELS_BUCKET in self.spec.buckets:
            policy.acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{MODELS_BUCKET.logical_id}.Arn>/*]",
                    reason="s3:GetObject only, on the model store only: champion artifacts live under "
                    "<product>/<version>/ keys that training creates after deployment, so no fixed key list exists.",
                )
            )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="Serverless-LambdaDLQ",
                reason="Invoked only synchronously by API Gateway: a failure is returned to the caller as an "
                "HTTP error and nothing is retried asynchronously, so a dead-letter queue would never receive "
                "a message.",
            ),
        )
