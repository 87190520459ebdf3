"""`make bench`: FinScore measured against the SPEC §6 budgets, printed as a table.

Every product of the registry gets its rows: training at its default size, the cold start, warm
latency and memory of its API function on its example request, and batch scoring of a 1M-row file
(its trainer's `batch_file`). Custom models get the same serving rows for their one scoring
function, on a model trained from a 5,000-row credit table. In the same run the peer of SPEC §6 (recommend served the seeds' way:
FastAPI + pandas + scikit-learn from joblib through Mangum, the model fetched from S3 at init;
benchmarks/peer/) is measured beside the product it serves, and the ratios printed. The local gateway
of `make run` is put under a bounded load (benchmarks/gateway_load.py): clients connecting together,
and every product's example request (and request by stored id, where it has one) at 16 clients. Everything runs
on this machine against the embedded AWS; numbers vary with load, which is why they are printed here
and never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import gateway_load  # noqa: E402
from benchmarks.peer.measure import PRODUCT as PEER_PRODUCT  # noqa: E402
from benchmarks.peer.measure import measure_peer  # noqa: E402
from finscore import resources  # noqa: E402
from finscore.models.registry import ModelRegistry  # noqa: E402
from finscore.models.store import ModelStore  # noqa: E402
from finscore.products import all_functions, products  # noqa: E402
from finscore.products.spec import load  # noqa: E402
from local.embedded_aws import EmbeddedAws, free_port  # noqa: E402
from local.resources import create_resources  # noqa: E402
from local.run import function_environment, seed  # noqa: E402

PYTHON = sys.executable
COLD_RUNS = 5
WARM_REQUESTS = 3000


def directory_mb(*paths: Path) -> float:
    total = 0
    for path in paths:
        for file in path.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                total += file.stat().st_size
    return total / 1e6


def probe(function: str, event: Path, environment: dict[str, str], warm: int) -> dict:
    output = subprocess.run(
        [PYTHON, str(ROOT / "benchmarks" / "serving_probe.py"), function, str(event), str(warm)],
        env=environment, capture_output=True, text=True,
    )
    if output.returncode != 0:
        raise RuntimeError(f"probe of {function} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


GATEWAY_CLIENTS = 16
GATEWAY_REQUESTS = 1600
GATEWAY_API_KEY = "bench-api-key"


def time_make_run(home: Path, while_running: Callable[[str], None] | None = None) -> float:
    """Seconds from `finscore run` starting until GET /v1/health answers 200; WHILE_RUNNING(api_url)
    is then called before the run is stopped."""
    api_port, aws_port, ws_port = free_port(), free_port(), free_port()
    environment = {**os.environ, "FINSCORE_HOME": str(home), "FINSCORE_API_PORT": str(api_port),
                   "FINSCORE_AWS_PORT": str(aws_port), "FINSCORE_WS_PORT": str(ws_port),
                   "FINSCORE_API_KEY": GATEWAY_API_KEY, "FINSCORE_ADMIN_KEY": GATEWAY_API_KEY + "-admin"}
    environment.pop("AWS_ENDPOINT_URL", None)
    started = time.perf_counter()
    log = home / f"run-{api_port}.log"
    with log.open("w") as output:
        process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "finscore"), "run", "--no-progress"],
                                   env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = started + 600
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"finscore run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/v1/health", timeout=1) as response:
                    if response.status == 200:
                        ready = time.perf_counter() - started
                        if while_running is not None:
                            while_running(f"http://127.0.0.1:{api_port}")
                        return ready
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("finscore run did not answer within 600 s")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


BATCH_ROWS = 1_000_000


def batch_throughput(names: dict[str, str], endpoint_url: str, product: str, rows: int = BATCH_ROWS,
                     run: int = 0) -> tuple[float, dict]:
    """Rows per second of PRODUCT's 1M-row CSV through the batch function's own path (the handler's
    process_object): read from the embedded S3, parse, validate, complete from the product's stores,
    score with the champion, write the output, rejects and manifest back. The file is put before the
    clock starts, under a name of its own per RUN (a file already scored would be skipped)."""
    from finscore.aws import client, reset_clients
    from finscore.batch import pipeline, scoring
    from finscore.settings import reset_settings

    os.environ.update({**function_environment(names), "AWS_ENDPOINT_URL": endpoint_url, "REGISTRY_TTL": "60"})
    reset_clients()
    reset_settings()
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    body = load(products()[product].trainer).batch_file(rows, 3)
    key = f"incoming/{product}/bench-1m-{run}.csv"
    client("s3").put_object(Bucket=names[resources.DATA_BUCKET.env_var], Key=key, Body=body)
    # The champion is loaded once per execution environment, as a warm function has it.
    scoring.champion(product).get()
    began = time.perf_counter()
    manifest = pipeline.process_object(pipeline.data_bucket(), key)
    elapsed = time.perf_counter() - began
    if manifest.get("scored") != rows:
        raise RuntimeError(f"batch bench of {product} scored {manifest.get('scored')} of {rows} rows: {manifest}")
    return rows / elapsed, {**manifest["timings"], "megabytes": round(len(body) / 1e6, 1)}


def batch_scorer(product: str) -> str:
    """What scored PRODUCT's batch files: its native booster (by format) or its ONNX graph."""
    from finscore.batch import scoring
    from finscore.models.native import NativeProbability

    model = scoring.champion(product).get().model
    boosters = [getattr(model, "trees", None), *(getattr(model, "native", None) or {}).values()]
    formats = sorted({booster.format for booster in boosters if isinstance(booster, NativeProbability)})
    return f"native {', '.join(formats)}" if formats else "ONNX"


def gateway_rows(measured: dict) -> list[tuple[str, str, str, bool | None]]:
    """The local gateway under `make run`: connection errors of clients arriving together, and
    throughput and latency of each product's requests under the same load, and how far the slowest
    trails the fastest."""
    rows: list[tuple[str, str, str, bool | None]] = []
    for concurrent, kinds in measured["bursts"].items():
        errors = sum(kinds.values())
        rows.append((f"gateway: {concurrent} clients connecting at once, errors", str(errors), "0", errors == 0))
    loads = measured["loads"]
    for name, result in loads.items():
        label = f"gateway {name} ({GATEWAY_CLIENTS} clients, {GATEWAY_REQUESTS} requests)"
        rows += [
            (f"{label} throughput", f"{result.requests_per_s:.0f} req/s", "", None),
            (f"{label} p50", f"{result.p50_ms:.1f} ms", "", None),
            (f"{label} p99", f"{result.p99_ms:.1f} ms", "", None),
            (f"{label} errors", str(result.errors), "0", result.errors == 0),
        ]
    # How far the slowest request trails the fastest under the same load (SPEC §6: within 3x locally).
    ranked = sorted(loads.items(), key=lambda item: item[1].requests_per_s)
    (slow, slowest), (fast, fastest) = ranked[0], ranked[-1]
    ratio = fastest.requests_per_s / slowest.requests_per_s if slowest.requests_per_s else None
    rows.append((f"gateway throughput: {fast} / {slow}", f"{ratio:.1f}x" if ratio else "n/a", "<= 3x",
                 ratio is not None and ratio <= 3))
    return rows


def train_custom_example(names: dict[str, str], store: ModelStore, registry: ModelRegistry,
                         rows: list[tuple[str, str, str, bool | None]]) -> Path:
    """Custom model "credit" trained from a 5,000-row table in the embedded S3 and registered as ready;
    the score request of events/custom_api/score.json cut to its first record, written beside it."""
    from finscore.products.custom.definition import CustomDefinition
    from finscore.products.custom.store import CustomModels
    from finscore.s3 import Bucket
    from tests.custom_tables import credit_table
    from tests.integration.test_custom_files import csv_bytes
    from training.custom import train_custom_model

    data_bucket = names[resources.DATA_BUCKET.env_var]
    definition = CustomDefinition(name="credit", target="default", task="binary", positive_class="yes",
                                  id_column="customer_id", monotone={"utilisation": 1})
    Bucket(data_bucket).write(f"{definition.data_prefix}applications.csv", csv_bytes(credit_table(5_000)))
    began = time.perf_counter()
    train_custom_model(definition, data_bucket=data_bucket, store=store, registry=registry)
    training_s = time.perf_counter() - began
    rows.append(("training a custom model, 5,000-row CSV in S3 to promoted", f"{training_s:.1f} s", "<= 180 s",
                 training_s <= 180))
    models = CustomModels(names[resources.CUSTOM_MODELS_TABLE.env_var])
    models.register("credit", definition.model_dump(mode="json"), "bench", "bench")
    models.record("credit", "bench", "training")
    models.record("credit", "bench", "ready")
    event = json.loads((ROOT / "events" / "custom_api" / "score.json").read_text())
    event["body"] = json.dumps({"records": json.loads(event["body"])["records"][:1]})
    path = Path(tempfile.mkdtemp(prefix="finscore-bench-custom-")) / "score-one.json"
    path.write_text(json.dumps(event))
    return path


def serving_rows(function: str, served: dict) -> list[tuple[str, str, str, bool | None]]:
    cold = served["cold_s"]
    rows = [
        (f"cold start {function} (median of {COLD_RUNS})", f"{cold * 1000:.0f} ms", "<= 1000 ms", cold <= 1.0),
        (f"warm p50 {function}", f"{served['warm_p50_ms']:.3f} ms", "<= 0.3 ms", served["warm_p50_ms"] <= 0.3),
        (f"warm p99 {function}", f"{served['warm_p99_ms']:.3f} ms", "<= 1 ms", served["warm_p99_ms"] <= 1.0),
        (f"peak memory {function}", f"{served['peak_rss_mb']:.0f} MB", "<= 200 MB", served["peak_rss_mb"] <= 200),
    ]
    if served["heavy_modules"]:
        rows.append((f"heavy imports {function}", ", ".join(served["heavy_modules"]), "none", False))
    return rows


def peer_rows(peer: dict, ours: dict) -> list[tuple[str, str, str, bool | None]]:
    cold_ratio = peer["cold_s"] / ours["cold_s"]
    warm_ratio = peer["warm_p50_ms"] / ours["warm_p50_ms"]
    return [
        (f"peer cold start (median of {COLD_RUNS})", f"{peer['cold_s'] * 1000:.0f} ms", "", None),
        ("peer warm p50", f"{peer['warm_p50_ms']:.3f} ms", "", None),
        ("peer warm p99", f"{peer['warm_p99_ms']:.3f} ms", "", None),
        ("peer peak memory", f"{peer['peak_rss_mb']:.0f} MB", "", None),
        ("peer packages installed", f"{peer['venv_mb']:.0f} MB", "<= 250 MB (AWS limit)", peer["venv_mb"] <= 250),
        (f"cold start: peer / {PEER_PRODUCT}", f"{cold_ratio:.2f}x", ">= 1.5x", cold_ratio >= 1.5),
        (f"warm p50: peer / {PEER_PRODUCT}", f"{warm_ratio:.1f}x", ">= 10x", warm_ratio >= 10),
        (f"peak memory: peer / {PEER_PRODUCT}", f"{peer['peak_rss_mb'] / ours['peak_rss_mb']:.2f}x", "", None),
    ]


def print_table(rows: list[tuple[str, str, str, bool | None]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'measured':>16}  {'budget (SPEC §6)':<22}  within")
    print(f"{'-' * width}  {'-' * 16}  {'-' * 22}  ------")
    for name, value, budget, ok in rows:
        verdict = "yes" if ok else ("no" if ok is False else "")
        print(f"{name:<{width}}  {value:>16}  {budget:<22}  {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-only", action="store_true",
                        help="train, then measure batch scoring only (no serving, peer or make run rows)")
    parser.add_argument("--batch-runs", type=int, default=1,
                        help="score each product's 1M-row file this many times; every run is printed")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, bool | None]] = []
    aws = EmbeddedAws(free_port()).start()
    trained, batch_timings, peer = {}, {}, None
    try:
        names = create_resources()
        store = ModelStore(names[resources.MODELS_BUCKET.env_var])
        registry = ModelRegistry(names[resources.REGISTRY_TABLE.env_var])

        from training.pipeline import train_product, trainable_products

        for product in trainable_products():
            began = time.perf_counter()
            trained[product] = train_product(product, store=store, registry=registry, progress=False)
            training_s = time.perf_counter() - began
            rows.append((f"training {product} (default size)", f"{training_s:.1f} s", "<= 60 s", training_s <= 60))
        # Requests and files may leave fields to a product's stores: they hold its sample data.
        seed(names, store, registry)

        environment = {**os.environ, **function_environment(names), "AWS_ENDPOINT_URL": aws.endpoint_url,
                       "REGISTRY_TTL": "60"}
        served: dict[str, dict] = {}
        for product, spec in products().items():
            if not spec.example_event or args.batch_only:
                continue
            event = ROOT / "events" / spec.example_event
            colds = [probe(spec.api.name, event, environment, 0)["cold_s"] for _ in range(COLD_RUNS)]
            served[product] = {"cold_s": statistics.median(colds), **probe(spec.api.name, event, environment,
                                                                             WARM_REQUESTS)}
            rows += serving_rows(spec.api.name, served[product])
            if product == PEER_PRODUCT:
                peer = measure_peer(aws.endpoint_url, names[resources.MODELS_BUCKET.env_var], event,
                                    cold_runs=COLD_RUNS, warm_requests=WARM_REQUESTS)
                rows += peer_rows(peer, served[product])

        if not args.batch_only:
            # Custom models share one scoring function: a 5,000-row credit table trained and served.
            event = train_custom_example(names, store, registry, rows)
            served["custom"] = {"cold_s": statistics.median(
                probe(resources.CUSTOM_API.name, event, environment, 0)["cold_s"] for _ in range(COLD_RUNS)),
                **probe(resources.CUSTOM_API.name, event, environment, WARM_REQUESTS)}
            rows += serving_rows(f"{resources.CUSTOM_API.name} (one record, with reasons)", served["custom"])

        for product, spec in products().items():
            if spec.trainer is None or not hasattr(load(spec.trainer), "batch_file"):
                continue
            for run in range(args.batch_runs):
                rate, batch_timings[f"{product}#{run}"] = batch_throughput(names, aws.endpoint_url, product, run=run)
                rows.append((f"batch {product} CSV ({batch_scorer(product)}), {BATCH_ROWS:,} rows end to end",
                             f"{rate / 1000:.0f}k rows/s", ">= 400k rows/s", rate >= 400_000))
    finally:
        aws.stop()
    if args.batch_only:
        print_table(rows)
        print(f"\nbatch timings: {json.dumps(batch_timings)}\nload average: {os.getloadavg()}")
        return 0

    serving_layer = ROOT / "build" / "layers" / "serving"
    shared_layer = ROOT / "layers" / "shared"
    # Product APIs share one folder: one row per folder deployed as a zip.
    for folder in dict.fromkeys(spec.folder for spec in all_functions() if spec.package == "zip"):
        label = f"unzipped {folder} + layers"
        if serving_layer.is_dir():
            size = directory_mb(ROOT / "functions" / folder, shared_layer, serving_layer)
            rows.append((label, f"{size:.1f} MB", "<= 250 MB (aim 150)", size <= 150))
        else:
            rows.append((label, "layer not built", "<= 250 MB", None))

    home = Path(tempfile.mkdtemp(prefix="finscore-bench-"))
    measured: dict = {}

    def load_gateway(api_url: str) -> None:
        measured.update(gateway_load.measure(api_url, GATEWAY_API_KEY, clients=GATEWAY_CLIENTS,
                                             requests=GATEWAY_REQUESTS))

    try:
        first = time_make_run(home)
        # The later run serves the load: its models are restored, as in everyday use.
        later = time_make_run(home, load_gateway)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    rows.append(("make run until the API answers: first run (trains)", f"{first:.1f} s", "<= 300 s", first <= 300))
    rows.append(("make run until the API answers: later runs", f"{later:.1f} s", "<= 30 s", later <= 30))
    rows += gateway_rows(measured)

    print_table(rows)
    print(f"\nbatch timings: {json.dumps(batch_timings)}")
    if peer is not None:
        print(f"peer packages: {json.dumps(peer['versions'])}")
    for product, result in trained.items():
        print(f"\nheld-out metrics of the {product} model {result.manifest.version}:")
        print(json.dumps(result.manifest.metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
