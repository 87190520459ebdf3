"""The two layers every zip function runs with: the shared FinScore package and the serving dependencies.

The serving layer is built beforehand by layers/serving/build.py (no Docker at synth); this construct
only refuses a missing build or one made for another Python than the functions run on.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from aws_cdk import AssetHashType
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import REPO_ROOT

SHARED_LAYER_DIR = REPO_ROOT / "layers" / "shared"
SERVING_BUILD_SCRIPT = REPO_ROOT / "layers" / "serving" / "build.py"
# The shared layer's bytecode is this machine's (tests, the local run), not the Lambda runtime's.
# The serving layer keeps its own: its build writes it with the runtime's Python when it can.
PYTHON_CACHE_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


@cache
def serving_layer_build() -> ModuleType:
    """layers/serving/build.py as a module: it owns where the layer is built and what the stamp says."""
    spec = importlib.util.spec_from_file_location("finscore_serving_layer_build", SERVING_BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FunctionLayers(Construct):
    """The shared-code layer and the serving-dependencies layer, for one Python runtime on x86_64."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: lambda_.Runtime, python_version: str) -> None:
        super().__init__(scope, construct_id)
        self.shared = lambda_.LayerVersion(
            self,
            "SharedCodeLayer",
            code=lambda_.Code.from_asset(str(SHARED_LAYER_DIR), exclude=PYTHON_CACHE_EXCLUDES),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="FinScore shared package (finscore.*)",
        )
        self.shared.node.default_child.override_logical_id("SharedCodeLayer")

        build = serving_layer_build()
        stamp = build.read_stamp()
        if stamp is None:
            raise RuntimeError(
                f"The serving-dependencies layer is not built ({build.LAYER_DIR}): run "
                "`.venv/bin/python layers/serving/build.py` (add --uv PATH if uv is not on PATH)"
            )
        if stamp["python_version"] != python_version:
            raise RuntimeError(
                f"The serving-dependencies layer was built for python{stamp['python_version']} but the functions "
                f"run on python{python_version}: rerun `.venv/bin/python layers/serving/build.py`"
            )
        self.serving = lambda_.LayerVersion(
            self,
            "ServingDependenciesLayer",
            # The stamp digest already identifies the content (locked requirements, Python, platform),
            # which spares the synth from hashing ~120 MB of wheels on every run.
            code=lambda_.Code.from_asset(
                str(build.LAYER_DIR),
                exclude=[build.STAMP_FILE.name],
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=stamp["digest"],
            ),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="FinScore serving dependencies: numpy, onnxruntime, pydantic, Powertools "
            f"({stamp['platform']})",
        )
        self.serving.node.default_child.override_logical_id("ServingDependenciesLayer")

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.shared, self.serving]
