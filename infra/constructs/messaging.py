"""Topics and queues of the platform and the products (finscore.products): each queue with its
dead-letter queue and the data bucket's ObjectCreated notifications that feed it, the queues that
keep stream batches which failed every retry, and the SES identity email is sent from.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from finscore.products import all_functions, all_queues, all_topics
from finscore.resources import DATA_BUCKET, QueueSpec, TopicSpec
from infra.config import FinScoreConfig
from infra.constructs.data import DataStores

# SQS keeps a message at most 14 days: the longest window to inspect and redrive a failure.
DEAD_LETTER_RETENTION = Duration.days(14)


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: FinScoreConfig, data: DataStores) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        # Every dead-letter queue of the stack, whichever construct asked for it: monitoring alarms on each.
        self.all_dead_letter_queues: list[sqs.Queue] = []
        self.topics: dict[TopicSpec, sns.Topic] = {spec: self._topic(spec) for spec in all_topics()}
        self.dead_letter_queues: dict[QueueSpec, sqs.Queue] = {}
        self.queues: dict[QueueSpec, sqs.Queue] = {spec: self._queue(spec) for spec in all_queues()}
        for spec, queue in self.queues.items():
            # Every QueueSpec is fed by the data bucket's files under its prefix.
            data.buckets[DATA_BUCKET].add_event_notification(
                s3.EventType.OBJECT_CREATED, s3n.SqsDestination(queue), s3.NotificationKeyFilter(prefix=spec.s3_prefix)
            )
        if self.queues:
            self._tidy_notifications(data)
        # SES sends only from a verified identity: created here (cdk.json createSenderIdentity), the
        # deployment has one to verify (SES mails the address a link) instead of failing every send.
        self.sender_identity = ses.EmailIdentity(
            self, "SenderIdentity", identity=ses.Identity.email(config.sender_email)
        ) if config.create_sender_identity and any(spec.sends_email for spec in all_functions()) else None

    def _tidy_notifications(self, data: DataStores) -> None:
        """Drop the dependencies cfn-lint (W3005) calls redundant and acknowledge CDK's handler role."""
        stack = Stack.of(self)
        bucket = data.buckets[DATA_BUCKET]
        notifications_construct = bucket.node.find_child("Notifications")
        notifications = notifications_construct.node.find_child("Resource")
        handler = next(child for child in stack.node.children if child.node.id.startswith("BucketNotificationsHandler"))
        # The queues themselves are already implied by the GetAtt of their ARNs; their policies (which
        # S3 checks when the configuration is written), the bucket policy and the handler's policy stay.
        keep = [
            bucket.policy.node.default_child,
            *(queue.node.find_child("Policy").node.default_child for queue in self.queues.values()),
            notifications_construct.node.find_child("HandlerPolicy").node.default_child,
        ]
        notifications.add_override("DependsOn", sorted(stack.get_logical_id(resource) for resource in keep))
        # The handler's role is already implied by the GetAtt of its ARN.
        handler.node.find_child("Resource").add_override("DependsOn", [])
        Validations.of(handler.node.find_child("Role")).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                reason="CDK's own handler that writes the data bucket's notification configuration at deploy time "
                "(a CloudFormation bucket cannot reference its queue's policy without a cycle); it holds only "
                "CloudWatch Logs writes from this AWS-managed policy and s3:PutBucketNotification.",
            )
        )

    def _topic(self, spec: TopicSpec) -> sns.Topic:
        topic = sns.Topic(
            self,
            spec.logical_id,
            display_name="FinScore app push",
            # The AWS-managed SNS key: publishers in the account need no key policy of their own.
            master_key=kms.Alias.from_alias_name(self, f"{spec.logical_id}Key", "alias/aws/sns"),
            enforce_ssl=True,
        )
        topic.node.default_child.override_logical_id(spec.logical_id)
        return topic

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        dead_letters = self.dead_letter_queue(self, spec.dead_letter_logical_id, logical_id=spec.dead_letter_logical_id)
        consumer_timeouts = [function.timeout_s for function in all_functions() if function.queue == spec]
        queue = sqs.Queue(
            self,
            spec.logical_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # AWS's advice for Lambda consumers: six times the function timeout, so a message is not
            # handed to a second invocation while the first still works on it.
            visibility_timeout=Duration.seconds(6 * max(consumer_timeouts, default=30)),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=self.config.queue_max_receive_count, queue=dead_letters
            ),
        )
        queue.node.default_child.override_logical_id(spec.logical_id)
        self.dead_letter_queues[spec] = dead_letters
        return queue

    def dead_letter_queue(self, scope: Construct, construct_id: str, *, logical_id: str | None = None) -> sqs.Queue:
        """An encrypted, TLS-only queue that holds failures for inspection and replay."""
        queue = sqs.Queue(
            scope,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        if logical_id:
            queue.node.default_child.override_logical_id(logical_id)
        self.all_dead_letter_queues.append(queue)
        Validations.of(queue.node.default_child).acknowledge(
            Acknowledgment(
                id="Serverless-SQSRedrivePolicy",
                reason="This queue is the end of a failure path: what lands here is kept 14 days for operators to "
                "inspect and redrive; redriving it elsewhere would only move the same failures one step further.",
            ),
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter destination (of a queue's redrive policy or a stream "
                "mapping's on-failure destination); a dead-letter queue of a dead-letter queue would only move "
                "the same failures one step further.",
            )
        )
        return queue
