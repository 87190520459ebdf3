"""cdk-nag (AwsSolutions + Serverless) and cfn-lint on the synthesized app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from finscore.products import products
from infra.compliance import add_compliance_checks

# Every acknowledged finding of the platform, reviewed: a new one must be added here on purpose.
PLATFORM_ACKNOWLEDGED = {
    "AwsSolutions-S1",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::<ModelsBucket.Arn>/*]",
    "AwsSolutions-APIG2",
    "AwsSolutions-APIG4",
    "AwsSolutions-COG4",
    "Serverless-LambdaDLQ",
    # The data bucket's notification handler (CDK's), stream/queue failure queues, the WebSocket API.
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<LiveWebSocketApi>"
    "/prod/*/@connections/*]",
    "AwsSolutions-SQS3",
    "Serverless-SQSRedrivePolicy",
    "Serverless-LambdaEventSourceMappingDestination",
    # Lifecycle: training files and reports, drift capture and reports (infra/constructs/lifecycle.py).
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/training/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/training-reports/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/capture/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/drift/*]",
    # Custom models: their training files uploaded through the API, their table listed by its catalog index.
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/training/custom/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/capture/custom-*]",
    "AwsSolutions-IAM5[Resource::<CustomModelsTable.Arn>/index/*]",
    # Batch: incoming files, outputs and chunk parts, the state machine's invoke and child executions
    # (the batch function's spec, infra/constructs/batch.py).
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/incoming/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/scored/*]",
    "AwsSolutions-IAM5[Resource::<DataBucket.Arn>/batch-parts/*]",
    "AwsSolutions-IAM5[Resource::<BatchScoreFunction.Arn>:*]",
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:'
    '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"BatchScoreStateMachine"}]}]}:*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:'
    '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"BatchScoreStateMachine"}]}]}/*:*]',
    # The dashboard's site (infra/constructs/site.py): CloudFront without geo limits, a web ACL of its own,
    # access logs or a custom certificate, and CDK's BucketDeployment function that copies the built app.
    "AwsSolutions-CFR1",
    "AwsSolutions-CFR2",
    "AwsSolutions-CFR3",
    "AwsSolutions-CFR4",
    "AwsSolutions-L1",
    "Serverless-LambdaLatestVersion",
    "Serverless-LambdaTracing",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Resource::<DashboardSiteBucket.Arn>/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
}




def product_acknowledgements() -> set[str]:
    """What each product's declaration makes the stack accept, in the forms reviewed above for the
    platform: its API's drift capture prefix, its queues' prefixes and the outputs written beside them,
    and queries on its tables' own indexes by the functions that read them."""
    found = set()
    for spec in products().values():
        found.add(f"AwsSolutions-IAM5[Resource::<DataBucket.Arn>/capture/{spec.name}/*]")
        for function in spec.all_functions:
            if function.queue is not None:
                found |= {f"AwsSolutions-IAM5[Resource::<DataBucket.Arn>/{prefix}*]"
                          for prefix in (function.queue.s3_prefix, *function.output_prefixes)}
            found |= {f"AwsSolutions-IAM5[Resource::<{table.logical_id}.Arn>/index/*]" for table in function.tables
                      if table.global_indexes and (table in function.reads or table in function.listings)}
    return found


ACKNOWLEDGED = PLATFORM_ACKNOWLEDGED | product_acknowledgements()


def _acknowledgements(template) -> list[tuple[str, str, str]]:
    """(logical id, rule, reason) for every acknowledgement cdk-nag wrote into the template."""
    return [
        (logical_id, rule["id"], rule["reason"])
        for logical_id, resource in template["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_nag_packs_report_no_unacknowledged_finding(synthesized):
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_every_acknowledgement_is_reviewed_and_has_a_written_reason(template):
    acknowledgements = _acknowledgements(template)
    # The packs ran on this app: they wrote the audit trail of what they were told to accept.
    assert {rule for _, rule, _ in acknowledgements} == ACKNOWLEDGED
    for logical_id, rule, reason in acknowledgements:
        assert len(reason.split()) >= 12, f"{logical_id} {rule}: the reason should say why, specifically"


def test_an_unacknowledged_finding_fails_the_synth(tmp_path):
    # Given the compliance checks on an app with a bucket that breaks AwsSolutions rules
    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "NagCanary"), "PlainBucket")
    add_compliance_checks(app)
    # When it is synthesized, then the synth fails and the report names the findings
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {violation["ruleName"] for plugin in report["pluginReports"] for violation in plugin["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_cfn_lint_is_clean(synthesized):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(synthesized.template_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
