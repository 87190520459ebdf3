"""cdk-nag at synth: the AwsSolutions and Serverless packs, through CDK's policy validation.

Any finding not acknowledged (Validations.of(construct).acknowledge, next to the construct, with its
reason) interrupts the synth, so `cdk synth` and infra.synth.synth fail on a new violation.
"""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks


def add_compliance_checks(app: App) -> None:
    # write_suppressions_to_cloud_formation: each acknowledged rule and its reason is also written into
    # the resource's template Metadata (cdk_nag.rules_to_suppress), an audit trail reviewers and the
    # infra tests read.
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True),
        ServerlessChecks(app, verbose=True, write_suppressions_to_cloud_formation=True),
    )
