"""`make run`: the embedded AWS, the resources, trained models, the API and dashboard, until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

from finscore import resources
from finscore.models.champion import LoadedModel
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.products import all_functions, products
from finscore.products.spec import load
from local.cognito import LocalUserPool, TokenVerifier, auth_mode, create_user_pool, fetch_jwks
from local.embedded_aws import DEFAULT_PORT as DEFAULT_AWS_PORT
from local.embedded_aws import EmbeddedAws, port_in_use
from local.event_sources import EventSources
from local.gateway import LocalGateway, local_functions
from local.home import ApiKeys, api_keys, finscore_home, remove_stack_state, write_stack_state
from local.lambda_invoke import LocalLambdaInvoke
from local.model_cache import ModelCache, fingerprint
from local.outbox import collect_outbox
from local.resources import cdk_context, create_resources
from local.websocket import DEFAULT_PORT as DEFAULT_WS_PORT
from local.websocket import LocalWebSocketApi

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_API_PORT = 3000


# Where the local run departs from cdk.json: interventions are off in a deployment until its owners
# switch them on, and on here, where every message lands in the local outbox.
LOCAL_CONTEXT = {
    "enableInterventions": True,
    # No one brings training files to a first local run: products train on their synthetic data.
    "allowSyntheticTraining": True,
    # The dashboard is served by the local gateway itself (same origin); a dashboard dev server on
    # its usual ports may call the API too. The admin key may read customers' contact details.
    "corsAllowedOrigins": "http://127.0.0.1:5173,http://localhost:5173",
    "customerDataApiKeyIds": "local-admin",
}


def context_settings() -> dict[str, str]:
    """The variables functions take from cdk.json's context (FunctionSpec.context), as the CDK app passes
    them, with LOCAL_CONTEXT's values; a variable of the same name in the environment overrides its
    value for this run."""
    settings = {}
    for spec in all_functions():
        for variable, key in spec.settings_context:
            value = os.environ.get(variable, LOCAL_CONTEXT.get(key, cdk_context(key, "")))
            settings[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    return settings


def function_environment(names: dict[str, str], live_endpoint_url: str | None = None) -> dict[str, str]:
    """What the CDK app gives every function, with the local resource names."""
    return {
        **names,
        **context_settings(),
        **({"LIVE_ENDPOINT_URL": live_endpoint_url} if live_endpoint_url else {}),
        "REGISTRY_TTL": os.environ.get("REGISTRY_TTL", "5"),
        "FINSCORE_STAGE": "local",
        "POWERTOOLS_SERVICE_NAME": "finscore-local",
        "POWERTOOLS_METRICS_NAMESPACE": resources.METRICS_NAMESPACE,
        # No X-Ray daemon runs locally; logs and EMF metrics go to each function's log file.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
    }


def ensure_models(store: ModelStore, registry: ModelRegistry, *, progress: bool = True) -> dict[str, str]:
    """Restore each trainable product's model from the cache, or train it; returns {product: version}."""
    from training.pipeline import train_product, trainable_products

    cache = ModelCache(finscore_home() / "models")
    served = {}
    for product in trainable_products():
        key = fingerprint(product)
        manifest = cache.restore(product, store, registry, key)
        if manifest is None:
            print(f"Training {product} (first run; later runs reuse the model)...", flush=True)
            result = train_product(product, store=store, registry=registry, progress=progress,
                                   actor="local run (first training)")
            manifest = result.manifest
            cache.save(manifest, store, key)
        else:
            print(f"Reusing the trained {product} model {manifest.version}", flush=True)
        served[product] = manifest.version
    return served


def seed(names: dict[str, str], store: ModelStore, registry: ModelRegistry) -> dict[str, dict]:
    """Each product's sample data (its spec's seed hook), scored by its champion."""
    reports = {}
    for name, spec in products().items():
        version = registry.champion_version(name)
        if spec.seed is None or version is None:
            continue
        print(f"Seeding {name} sample data...", flush=True)
        manifest = store.read_manifest(name, version)
        model = load(spec.model).load(manifest, lambda artifact: store.read_artifact(manifest, artifact))
        reports[name] = load(spec.seed)(names, LoadedModel(version, manifest, model))
    return reports


def example_call(gateway_url: str, api_key: str, with_token: bool = False) -> list[str]:
    """A curl line for the first product whose example request the run can answer; WITH_TOKEN, after the
    line that gets it an access token."""
    for spec in products().values():
        if not spec.example_event:
            continue
        event = json.loads((ROOT / "events" / spec.example_event).read_text())
        token = ["  TOKEN=$(.venv/bin/finscore token --scope finscore/score)"] if with_token else []
        return [
            *token,
            f"  curl -s -X {event['httpMethod']} {gateway_url}{event['path']} -H 'x-api-key: {api_key}' \\",
            *(["       -H \"Authorization: Bearer $TOKEN\" \\"] if with_token else []),
            f"       -H 'Content-Type: application/json' -d '{json.dumps(json.loads(event['body']))}'",
        ]
    return []


def banner(gateway: LocalGateway, aws: EmbeddedAws, names: dict[str, str], keys: ApiKeys,
           served: dict[str, str], seconds: float, live: LocalWebSocketApi | None = None,
           user_pool: LocalUserPool | None = None) -> str:
    with_token = gateway.verifier is not None
    lines = [
        "",
        f"FinScore is running (ready in {seconds:.1f} s)",
        f"  API        {gateway.url}/v1        docs: {gateway.url}/v1/docs",
        f"  Dashboard  {gateway.url}/",
        f"  Logs       {finscore_home() / 'logs'}/<function>.log",
        *([f"  Live       {live.url}   (WebSocket: new high/critical scores, intervention status)",
           f"  Outbox     curl -s {live.url.replace('ws://', 'http://')}/outbox   (or `finscore outbox`: "
           "SMS, app push and email sent)"] if live else []),
        f"  AWS        {aws.endpoint_url}  (any credentials, region us-east-1)",
        *(f"  {variable:<14} {name}" for variable, name in names.items()),
        *(f"  model      {product} {version}" for product, version in served.items()),
        f"  API key    {keys.api_key}   ({keys.origin('FINSCORE_API_KEY')})",
        f"  Admin key  {keys.admin_key}   (admin routes without tokens; {keys.origin('FINSCORE_ADMIN_KEY')})",
        *([f"  Auth       {'Cognito tokens and API keys' if with_token else 'API keys'} (FINSCORE_AUTH="
           f"{'cognito' if with_token else 'key'}); user pool {user_pool.user_pool_id}; a token: "
           "`finscore token --scope <scope>...`"] if user_pool else []),
        f"  State      {finscore_home() / 'stack.json'}   (ports and keys of this run, for `finscore invoke`)",
        "",
        "Try:",
        *example_call(gateway.url, keys.api_key, with_token),
        "",
        "  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \\",
        f"       aws --endpoint-url {aws.endpoint_url} s3 ls s3://{names['MODELS_BUCKET']}/ --recursive",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def run(*, progress: bool = True) -> None:
    started = time.perf_counter()
    api_port = int(os.environ.get("FINSCORE_API_PORT", DEFAULT_API_PORT))
    aws_port = int(os.environ.get("FINSCORE_AWS_PORT", DEFAULT_AWS_PORT))
    ws_port = int(os.environ.get("FINSCORE_WS_PORT", DEFAULT_WS_PORT))
    if port_in_use(api_port):
        raise SystemExit(f"Port {api_port} is in use; stop what runs there or set FINSCORE_API_PORT")
    if port_in_use(ws_port):
        raise SystemExit(f"Port {ws_port} is in use; stop what runs there or set FINSCORE_WS_PORT")
    try:
        mode = auth_mode()
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    # Before the first training, so that the keys are kept even when that run is interrupted.
    keys = api_keys()
    aws = EmbeddedAws(aws_port)
    try:
        aws.start()
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    gateway = live = event_sources = lambda_invoke = None
    logs = finscore_home() / "logs"
    try:
        names = create_resources(context_settings().get("SENDER_EMAIL") or None)
        # Always created, so that `finscore token` works; the gateway checks tokens when asked to.
        user_pool = create_user_pool()
        verifier = TokenVerifier(user_pool, fetch_jwks(user_pool)) if mode == "cognito" else None
        functions = local_functions(logs)
        # The function serving the WebSocket API's routes, if a product has one.
        connections = next((spec.name for spec in all_functions() if spec.websocket_routes), None)
        if connections is not None:
            live = LocalWebSocketApi(ws_port, functions[connections].invoke, outbox=collect_outbox)
            live.start()
        os.environ.update(function_environment(names, live.management_url if live else None))
        # moto cannot run functions: the admin retrain route's async invocation runs the local one.
        retrain_name = resources.local_name(resources.MODEL_RETRAIN.logical_id)
        lambda_invoke = LocalLambdaInvoke({retrain_name: functions[resources.MODEL_RETRAIN.name].invoke}).start()
        os.environ.update({"AWS_ENDPOINT_URL_LAMBDA": lambda_invoke.url, "RETRAIN_FUNCTION_NAME": retrain_name})
        store = ModelStore(names[resources.MODELS_BUCKET.env_var])
        registry = ModelRegistry(names[resources.REGISTRY_TABLE.env_var])
        served = ensure_models(store, registry, progress=progress)
        seed(names, store, registry)
        # After seeding: the streams are read from LATEST, so seed data is not pushed or delivered.
        event_log = (logs / "event_sources.log").open("a", buffering=1, encoding="utf-8")
        event_sources = EventSources(names, functions, log=event_log).start()
        # The dashboard signs in with the API key locally: the embedded Cognito has no hosted UI.
        site_config = {"auth": "key", "apiUrl": "/v1", "wsUrl": live.url if live else None}
        gateway = LocalGateway(api_port, keys.api_key, keys.admin_key, functions, verifier, site_config).start()
        write_stack_state({
            "api_url": gateway.url, "api_port": api_port, "aws_endpoint_url": aws.endpoint_url, "aws_port": aws_port,
            "ws_url": live.url if live else None, "ws_port": ws_port if live else None,
            "api_key": keys.api_key, "admin_key": keys.admin_key, "logs": str(logs),
            "auth": mode, "cognito": user_pool.as_state(),
            "environment": {variable: os.environ[variable] for variable in (
                "LIVE_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "RETRAIN_FUNCTION_NAME") if variable in os.environ},
        })
        print(banner(gateway, aws, names, keys, served, time.perf_counter() - started, live, user_pool), flush=True)
        stop = threading.Event()
        # SIGINT too, explicitly: a shell starts a background job with SIGINT ignored, and Python then
        # never turns it into KeyboardInterrupt, so `kill -INT` of `make run &` would do nothing.
        for stopping in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stopping, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
    finally:
        print("\nStopping FinScore...", flush=True)
        remove_stack_state()
        if gateway is not None:
            gateway.stop()
        if event_sources is not None:
            event_sources.stop()
        if live is not None:
            live.stop()
        if lambda_invoke is not None:
            lambda_invoke.stop()
        aws.stop()
