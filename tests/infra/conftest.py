"""The FinScore app synthesized once per session (cdk-nag included), and helpers to read its template."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before aws_cdk is imported: jsii prints a banner on every process for Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.config import cdk_json_context  # noqa: E402
from infra.synth import synth  # noqa: E402


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template_path: Path
    template: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def resource(self, logical_id: str) -> dict[str, Any]:
        return self.template["Resources"][logical_id]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    """Synth is slow (Node, asset staging): once per session. Builds the serving layer first if missing."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    template_path = synth(outdir)
    return Synthesized(outdir, template_path, json.loads(template_path.read_text()))


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    """The cdk.json context the app was synthesized with."""
    return cdk_json_context()


@pytest.fixture(scope="session")
def assertions(template: dict[str, Any]):
    """aws_cdk.assertions.Template over the synthesized template, for Match-style checks."""
    from aws_cdk.assertions import Template

    return Template.from_json(template)
