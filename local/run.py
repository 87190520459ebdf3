"""`make run`: the embedded AWS, the resources, trained models, the API and dashboard, until Ctrl-C."""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

from finscore import resources
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from local.embedded_aws import DEFAULT_PORT as DEFAULT_AWS_PORT
from local.embedded_aws import EmbeddedAws, port_in_use
from local.gateway import LocalGateway, local_functions
from local.model_cache import ModelCache, fingerprint
from local.resources import create_resources

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("FINSCORE_HOME", ROOT / ".finscore"))
DEFAULT_API_PORT = 3000


def function_environment(names: dict[str, str]) -> dict[str, str]:
    """What the CDK app gives every function, with the local resource names."""
    return {
        **names,
        "REGISTRY_TTL": os.environ.get("REGISTRY_TTL", "5"),
        "FINSCORE_STAGE": "local",
        "POWERTOOLS_SERVICE_NAME": "finscore-local",
        "POWERTOOLS_METRICS_NAMESPACE": "FinScore",
        # No X-Ray daemon runs locally; logs and EMF metrics go to each function's log file.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
    }


def api_keys() -> tuple[str, str]:
    """The API and admin keys: from FINSCORE_API_KEY / FINSCORE_ADMIN_KEY, else generated once and kept."""
    stored = STATE_DIR / "keys.json"
    saved = json.loads(stored.read_text()) if stored.is_file() else {}
    keys = {
        "api_key": os.environ.get("FINSCORE_API_KEY") or saved.get("api_key") or secrets.token_urlsafe(24),
        "admin_key": os.environ.get("FINSCORE_ADMIN_KEY") or saved.get("admin_key") or secrets.token_urlsafe(24),
    }
    if not os.environ.get("FINSCORE_API_KEY") and not os.environ.get("FINSCORE_ADMIN_KEY"):
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        stored.write_text(json.dumps(keys))
        stored.chmod(0o600)
    return keys["api_key"], keys["admin_key"]


def ensure_models(store: ModelStore, registry: ModelRegistry, *, progress: bool = True) -> dict[str, str]:
    """Restore each trainable product's model from the cache, or train it; returns {product: version}."""
    from training.pipeline import TRAINERS, train_product

    cache = ModelCache(STATE_DIR / "models")
    served = {}
    for product in TRAINERS:
        key = fingerprint(product)
        manifest = cache.restore(product, store, registry, key)
        if manifest is None:
            print(f"Training {product} (first run; later runs reuse the model)...", flush=True)
            result = train_product(product, store=store, registry=registry, progress=progress)
            manifest = result.manifest
            cache.save(manifest, store, key)
        else:
            print(f"Reusing the trained {product} model {manifest.version}", flush=True)
        served[product] = manifest.version
    return served


def banner(gateway: LocalGateway, aws: EmbeddedAws, names: dict[str, str], api_key: str, admin_key: str,
           served: dict[str, str], seconds: float) -> str:
    body = json.dumps({
        "age": 30, "income": 75000, "employment_status": "employed", "credit_score": 720,
        "existing_products": ["basic_checking"], "monthly_spending": 2500, "savings_balance": 15000,
        "loan_amount": 0, "digital_engagement": 8, "spending_score": 65, "saving_frequency": 7, "loan_behavior": 2,
    })
    lines = [
        "",
        f"FinScore is running (ready in {seconds:.1f} s)",
        f"  API        {gateway.url}/v1        docs: {gateway.url}/v1/docs",
        f"  Dashboard  {gateway.url}/",
        f"  Logs       {STATE_DIR / 'logs'}/<function>.log",
        f"  AWS        {aws.endpoint_url}  (any credentials, region us-east-1)",
        *(f"  {variable:<14} {name}" for variable, name in names.items()),
        *(f"  model      {product} {version}" for product, version in served.items()),
        f"  API key    {api_key}",
        f"  Admin key  {admin_key}   (admin routes; IAM in AWS)",
        "",
        "Try:",
        f"  curl -s -X POST {gateway.url}/v1/recommendations -H 'x-api-key: {api_key}' \\",
        f"       -H 'Content-Type: application/json' -d '{body}'",
        "",
        f"  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \\",
        f"       aws --endpoint-url {aws.endpoint_url} s3 ls s3://{names['MODELS_BUCKET']}/ --recursive",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def run(*, progress: bool = True) -> None:
    started = time.perf_counter()
    api_port = int(os.environ.get("FINSCORE_API_PORT", DEFAULT_API_PORT))
    aws_port = int(os.environ.get("FINSCORE_AWS_PORT", DEFAULT_AWS_PORT))
    if port_in_use(api_port):
        raise SystemExit(f"Port {api_port} is in use; stop what runs there or set FINSCORE_API_PORT")
    aws = EmbeddedAws(aws_port)
    try:
        aws.start()
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from exc
    gateway = None
    try:
        names = create_resources()
        os.environ.update(function_environment(names))
        store = ModelStore(names[resources.MODELS_BUCKET.env_var])
        registry = ModelRegistry(names[resources.REGISTRY_TABLE.env_var])
        served = ensure_models(store, registry, progress=progress)
        api_key, admin_key = api_keys()
        gateway = LocalGateway(api_port, api_key, admin_key, local_functions(STATE_DIR / "logs")).start()
        print(banner(gateway, aws, names, api_key, admin_key, served, time.perf_counter() - started), flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        print("\nStopping FinScore...", flush=True)
        if gateway is not None:
            gateway.stop()
        aws.stop()
