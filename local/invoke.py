"""`finscore invoke <function> -e <event.json>`: what `sam local invoke` does, without Docker.

The handler, code location and environment come from the synthesized template, as SAM reads them;
`Ref`s to buckets and tables become their local names. The handler runs in this process against the
running stack's embedded AWS: the one FINSCORE_AWS_PORT names when it is set, else the one
FINSCORE_HOME/stack.json records (`finscore run` writes it). When none answers, the call is refused
rather than made against an empty AWS, where every stored customer would be unknown; `--throwaway-aws`
asks for an embedded AWS started for the call (on a free port) with the trained models and the sample
data `make run` loads, stopped after it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from finscore import resources
from finscore.products import all_functions, all_queues, all_tables, all_topics
from local.embedded_aws import EmbeddedAws, free_port, port_in_use
from local.gateway import LocalFunction
from local.home import START_HINT, NoRunningStack, running_stack

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "cdk.out" / "FinScore.template.json"


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The synthesized template, synthesized again when the code or the app changed since."""
    if not path.is_file() or _newest_source() > path.stat().st_mtime:
        from infra.synth import synth

        path = synth(path.parent)
    return json.loads(path.read_text())


def _newest_source() -> float:
    """Latest change under the folders whose content lands in the template or its assets."""
    folders = (ROOT / "functions", ROOT / "layers" / "shared", ROOT / "infra")
    files = (f for folder in folders for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
    return max((f.stat().st_mtime for f in files), default=0.0)


def find_function(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    """The template resource of a function given by folder name (recommend_api) or logical id."""
    logical_ids = {spec.name: spec.logical_id for spec in all_functions()}
    wanted = logical_ids.get(name, name)
    found = template.get("Resources", {}).get(wanted)
    if not found or found.get("Type") != "AWS::Lambda::Function":
        known = ", ".join(sorted(logical_ids))
        raise SystemExit(f"No function {name!r} in the template; known: {known}")
    return wanted, found


def _local_refs(port: int) -> dict[str, str]:
    """What `Ref` of a FinScore resource gives locally: a bucket or table name, a topic ARN, a queue URL."""
    refs = {spec.logical_id: resources.local_name(spec.logical_id) for spec in (*resources.BUCKETS, *all_tables())}
    for topic in all_topics():
        refs[topic.logical_id] = f"arn:aws:sns:us-east-1:123456789012:{resources.local_name(topic.logical_id)}"
    for queue in all_queues():
        for logical_id in (queue.logical_id, queue.dead_letter_logical_id):
            refs[logical_id] = f"http://127.0.0.1:{port}/123456789012/{resources.local_name(logical_id)}"
    return refs


def resolve_environment(variables: dict[str, Any], aws_port: int) -> dict[str, str]:
    """Template environment values with Refs to FinScore resources replaced by their local names, and
    cdk.json settings as the local run gives them (interventions and synthetic training on), so that a
    function invoked here behaves as the running stack's do. The caller's environment wins."""
    from local.run import context_settings

    resolved = {}
    refs = _local_refs(aws_port)
    local_settings = context_settings()
    for key, value in variables.items():
        if isinstance(value, dict) and "Ref" in value:
            resolved[key] = refs.get(value["Ref"], resources.local_name(value["Ref"]))
        elif key in os.environ:
            resolved[key] = os.environ[key]
        elif key in local_settings:
            resolved[key] = local_settings[key]
        elif isinstance(value, (str, int, float)):
            resolved[key] = str(value)
        else:
            print(f"note: {key} uses {list(value)[0]}, which has no local value; left unset")
    return resolved


def handler_location(logical_id: str, function: dict[str, Any], cdk_out: Path) -> tuple[Path, str]:
    if function["Properties"].get("PackageType") == "Image":
        # A container-image function: its handler is functions/<name>/handler.py in the image (the
        # Dockerfile's CMD), run here in this process with the local environment.
        spec = next(s for s in all_functions() if s.logical_id == logical_id)
        command = (function["Properties"].get("ImageConfig") or {}).get("Command") or ["handler.lambda_handler"]
        module, attribute = command[0].rsplit(".", 1)
        return ROOT / "functions" / spec.folder / f"{module.replace('.', '/')}.py", attribute
    module, attribute = function["Properties"]["Handler"].rsplit(".", 1)
    asset = function.get("Metadata", {}).get("aws:asset:path")
    code_dir = cdk_out / asset if asset and (cdk_out / asset).is_dir() else None
    if code_dir is None:
        spec = next(s for s in all_functions() if s.logical_id == logical_id)
        code_dir = ROOT / "functions" / spec.folder
    return code_dir / f"{module.replace('.', '/')}.py", attribute


def find_stack() -> dict[str, Any]:
    """The running stack: {"aws_port"} of FINSCORE_AWS_PORT when set, else FINSCORE_HOME/stack.json's
    record; NoRunningStack when none answers."""
    explicit = os.environ.get("FINSCORE_AWS_PORT")
    if explicit:
        if not explicit.isdigit() or not port_in_use(int(explicit)):
            raise NoRunningStack(f"Nothing answers on FINSCORE_AWS_PORT={explicit}; {START_HINT}, or unset "
                                 "FINSCORE_AWS_PORT to use the stack recorded in FINSCORE_HOME")
        return {"aws_port": int(explicit)}
    return running_stack()


def invoke(name: str, event_path: Path, template_path: Path = TEMPLATE, *, throwaway_aws: bool = False) -> dict[str, Any]:
    """Run function NAME on the event file against the running stack (or, with THROWAWAY_AWS, an
    embedded AWS of its own); returns the handler's response. NoRunningStack when no stack answers."""
    event = json.loads(Path(event_path).read_text())
    # Found first: without a stack there is nothing to synthesize for.
    stack = {"aws_port": free_port()} if throwaway_aws else find_stack()
    port = int(stack["aws_port"])
    template = load_template(template_path)
    logical_id, function = find_function(template, name)
    environment = resolve_environment(function["Properties"].get("Environment", {}).get("Variables", {}), port)
    # What only the running stack knows (its WebSocket management and Lambda Invoke endpoints), for the
    # variables the template could not resolve locally.
    os.environ.update({key: value for key, value in (stack.get("environment") or {}).items() if key not in environment})
    os.environ.update(environment)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    aws = EmbeddedAws(port)
    if throwaway_aws:
        from local.resources import create_resources
        from local.run import ensure_models, seed
        from finscore.models.registry import ModelRegistry
        from finscore.models.store import ModelStore

        aws.start()
        names = create_resources()
        store, registry = ModelStore(names["MODELS_BUCKET"]), ModelRegistry(names["REGISTRY_TABLE"])
        ensure_models(store, registry, progress=False)
        # The sample data `make run` loads, so that events naming stored customers, stocks or investors
        # find them here too.
        seed(names, store, registry)
    else:
        aws.use()
    try:
        path, attribute = handler_location(logical_id, function, template_path.parent)
        memory = int(function["Properties"].get("MemorySize", 128))
        # As with `sam local invoke`, the function's own output goes to stderr, the response to stdout.
        return LocalFunction(name, path, attribute, memory, output=sys.stderr).invoke(event)
    finally:
        if throwaway_aws:
            aws.stop()
