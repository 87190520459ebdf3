"""`make bench`: FinScore measured against the SPEC §6 budgets, printed as a table.

Everything runs on this machine against the embedded AWS; numbers vary with load, which is why
they are printed here and never asserted in tests.
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from finscore import resources  # noqa: E402
from finscore.products import all_functions  # noqa: E402
from finscore.models.registry import ModelRegistry  # noqa: E402
from finscore.models.store import ModelStore  # noqa: E402
from local.embedded_aws import EmbeddedAws, free_port  # noqa: E402
from local.resources import create_resources  # noqa: E402
from local.run import function_environment  # noqa: E402

PYTHON = sys.executable
COLD_RUNS = 5
WARM_REQUESTS = 3000
# The warm single-record path of each scoring function: the request carries everything to score.
SCORING_FUNCTIONS = {
    "recommend_api": ROOT / "events" / "recommend_api" / "recommend.json",
    "risk_api": ROOT / "events" / "risk_api" / "score-features.json",
}


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


def time_make_run(home: Path) -> float:
    """Seconds from `finscore run` starting until GET /v1/health answers 200."""
    api_port, aws_port, ws_port = free_port(), free_port(), free_port()
    environment = {**os.environ, "FINSCORE_HOME": str(home), "FINSCORE_API_PORT": str(api_port),
                   "FINSCORE_AWS_PORT": str(aws_port), "FINSCORE_WS_PORT": str(ws_port)}
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
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("finscore run did not answer within 600 s")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


BATCH_ROWS = 1_000_000
BATCH_KEY = "incoming/risk/bench-1m.csv"


def risk_feature_csv(rows: int, seed: int = 3, customers: int = 2_000) -> bytes:
    """A CSV of ROWS risk feature rows (customer_id first): the features of a generated portfolio,
    computed by the feature module, resampled with replacement to the wanted size."""
    from collections import defaultdict

    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from finscore.products.risk.features import FEATURE_NAMES, compute_features
    from training.risk.generator import generate_portfolio

    portfolio = generate_portfolio(customers=customers, seed=seed)
    transactions = defaultdict(list)
    for transaction in portfolio.transactions:
        transactions[transaction["customer_id"]].append(transaction)
    base = np.array([
        [features[name] for name in FEATURE_NAMES]
        for features in (compute_features(customer, transactions[customer["customer_id"]], portfolio.as_of)
                         for customer in portfolio.customers)
    ])
    picks = np.random.default_rng(seed).integers(0, len(base), rows)
    columns = {"customer_id": pa.array([f"B{index:07d}" for index in range(rows)])}
    columns.update({name: pa.array(np.round(base[picks, index], 4)) for index, name in enumerate(FEATURE_NAMES)})
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(columns), sink, pa_csv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def batch_throughput(names: dict[str, str], endpoint_url: str, rows: int = BATCH_ROWS) -> tuple[float, dict]:
    """Rows per second of a risk CSV through the batch function's own path (the handler's
    process_object): read from the embedded S3, parse, validate, score with the champion, write the
    output, rejects and manifest back. The file is put before the clock starts."""
    from finscore.aws import client, reset_clients
    from finscore.batch import pipeline, scoring
    from finscore.settings import reset_settings

    os.environ.update({**function_environment(names), "AWS_ENDPOINT_URL": endpoint_url, "REGISTRY_TTL": "60"})
    reset_clients()
    reset_settings()
    scoring.reset_models()
    pipeline.data_bucket.cache_clear()
    body = risk_feature_csv(rows)
    client("s3").put_object(Bucket=names[resources.DATA_BUCKET.env_var], Key=BATCH_KEY, Body=body)
    # The champion is loaded once per execution environment, as a warm function has it.
    scoring.champion("risk").get()
    began = time.perf_counter()
    manifest = pipeline.process_object(pipeline.data_bucket(), BATCH_KEY)
    elapsed = time.perf_counter() - began
    if manifest.get("scored") != rows:
        raise RuntimeError(f"batch bench scored {manifest.get('scored')} of {rows} rows: {manifest}")
    return rows / elapsed, {**manifest["timings"], "megabytes": round(len(body) / 1e6, 1)}


def main() -> int:
    rows: list[tuple[str, str, str, bool | None]] = []
    aws = EmbeddedAws(free_port()).start()
    try:
        names = create_resources()
        store = ModelStore(names[resources.MODELS_BUCKET.env_var])
        registry = ModelRegistry(names[resources.REGISTRY_TABLE.env_var])

        from training.pipeline import train_product

        trained = {}
        for product in ("recommend", "risk"):
            began = time.perf_counter()
            trained[product] = train_product(product, store=store, registry=registry, progress=False)
            training_s = time.perf_counter() - began
            rows.append((f"training {product} (default size)", f"{training_s:.1f} s", "<= 60 s", training_s <= 60))

        environment = {**os.environ, **function_environment(names), "AWS_ENDPOINT_URL": aws.endpoint_url,
                       "REGISTRY_TTL": "60"}
        for function, event in SCORING_FUNCTIONS.items():
            colds = [probe(function, event, environment, 0)["cold_s"] for _ in range(COLD_RUNS)]
            warm = probe(function, event, environment, WARM_REQUESTS)
            cold = statistics.median(colds)
            rows += [
                (f"cold start {function} (median of {COLD_RUNS})", f"{cold * 1000:.0f} ms", "<= 1000 ms", cold <= 1.0),
                (f"warm p50 {function}", f"{warm['warm_p50_ms']:.3f} ms", "<= 0.3 ms", warm["warm_p50_ms"] <= 0.3),
                (f"warm p99 {function}", f"{warm['warm_p99_ms']:.3f} ms", "<= 1 ms", warm["warm_p99_ms"] <= 1.0),
                (f"peak memory {function}", f"{warm['peak_rss_mb']:.0f} MB", "<= 200 MB", warm["peak_rss_mb"] <= 200),
            ]
            if warm["heavy_modules"]:
                rows.append((f"heavy imports {function}", ", ".join(warm["heavy_modules"]), "none", False))
        batch_rate, batch_timings = batch_throughput(names, aws.endpoint_url)
        rows.append((f"batch risk CSV, {BATCH_ROWS:,} rows end to end", f"{batch_rate / 1000:.0f}k rows/s",
                     ">= 300k rows/s", batch_rate >= 300_000))
        print(f"batch timings: {json.dumps(batch_timings)}")
    finally:
        aws.stop()

    serving_layer = ROOT / "build" / "layers" / "serving"
    shared_layer = ROOT / "layers" / "shared"
    for spec in all_functions():
        if spec.package != "zip":
            continue
        if serving_layer.is_dir():
            size = directory_mb(ROOT / "functions" / spec.folder, shared_layer, serving_layer)
            rows.append((f"unzipped {spec.name} + layers", f"{size:.1f} MB", "<= 250 MB (aim 150)", size <= 150))
        else:
            rows.append((f"unzipped {spec.name} + layers", "layer not built", "<= 250 MB", None))

    home = Path(tempfile.mkdtemp(prefix="finscore-bench-"))
    try:
        first = time_make_run(home)
        later = time_make_run(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    rows.append(("make run until the API answers: first run (trains)", f"{first:.1f} s", "<= 300 s", first <= 300))
    rows.append(("make run until the API answers: later runs", f"{later:.1f} s", "<= 30 s", later <= 30))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'measured':>16}  {'budget (SPEC §6)':<20}  within")
    print(f"{'-' * width}  {'-' * 16}  {'-' * 20}  ------")
    for name, value, budget, ok in rows:
        verdict = "yes" if ok else ("no" if ok is False else "n/a")
        print(f"{name:<{width}}  {value:>16}  {budget:<20}  {verdict}")
    for product, result in trained.items():
        print(f"\nheld-out metrics of the {product} model {result.manifest.version}:")
        print(json.dumps(result.manifest.metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
