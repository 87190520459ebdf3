"""Synthesize the FinScore app in-process: `synth(outdir)` returns the CloudFormation template path.

Used by the infra tests and the local runtime (which reads handlers and environments from the
template); `cdk synth` runs the same app through infra/app.py. The cdk.json context is applied
here as it is by the CDK CLI, whose `-c` values still take precedence when the CLI runs the app.

    .venv/bin/python -m infra.synth [OUTDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from aws_cdk import App

from infra.compliance import add_compliance_checks
from infra.config import REPO_ROOT, cdk_json_context
from infra.constructs.layers import serving_layer_build
from infra.stacks.finscore_stack import STACK_NAME, FinScoreStack

DEFAULT_OUTDIR = REPO_ROOT / "cdk.out"


def build_app(outdir: str | Path | None = None, overrides: dict | None = None) -> App:
    """The FinScore app with its one stack and the cdk-nag packs; outdir None means CDK_OUTDIR/cdk.out.
    OVERRIDES replace cdk.json context values, as `cdk synth -c key=value` does."""
    # Asset and path metadata are what the CDK CLI adds by default; `sam local invoke` needs them to
    # find each function's code and layers in the cloud assembly.
    context = {**cdk_json_context(), **(overrides or {}), "aws:cdk:enable-asset-metadata": True,
               "aws:cdk:enable-path-metadata": True}
    app = App(outdir=str(outdir) if outdir else None, context=context)
    FinScoreStack(app, STACK_NAME, description="FinScore: serverless ML scoring for retail finance")
    add_compliance_checks(app)
    return app


def ensure_serving_layer(uv: str | None = None) -> None:
    """Build the serving layer when there is none for the configured Python (first run needs PyPI)."""
    build = serving_layer_build()
    stamp = build.read_stamp()
    if stamp is None or stamp["python_version"] != build.python_version():
        build.build_serving_layer(uv)


def synth(outdir: str | Path = DEFAULT_OUTDIR) -> Path:
    """Synthesize into OUTDIR (cdk-nag included: raises on an unacknowledged finding)."""
    ensure_serving_layer()
    outdir = Path(outdir)
    build_app(outdir).synth()
    return outdir / f"{STACK_NAME}.template.json"


if __name__ == "__main__":
    print(synth(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTDIR))
