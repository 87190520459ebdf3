"""Measures the peer (recommend on FastAPI + pandas + scikit-learn via Mangum) the way bench.py measures
FinScore: train, put the joblib in S3, then cold starts in new processes and warm in-process calls.

bench.py calls `measure_peer`; run alone with `.venv/bin/python benchmarks/peer/measure.py`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PEER = Path(__file__).resolve().parent
ROOT = PEER.parents[1]
VENV = ROOT / "build" / "peer-venv"
REQUIREMENTS = PEER / "requirements.txt"
STAMP = VENV / ".requirements.sha256"
# The product the peer serves, as the seed projects served it.
PRODUCT = "recommend"
MODEL_KEY = f"peer/{PRODUCT}.joblib"
TRAINING_SEED = 11
CSV_COLUMNS = (
    "age", "income", "employment_status", "credit_score", "existing_products", "monthly_spending",
    "savings_balance", "loan_amount", "digital_engagement", "spending_score", "saving_frequency",
    "loan_behavior", "account_product", "savings_product", "loan_product", "digital_service_product",
)
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


def log(message: str) -> None:
    print(f"[peer] {message}", file=sys.stderr, flush=True)


def peer_python() -> Path:
    return VENV / "bin" / "python"


def find_uv() -> str | None:
    local_uv = ROOT / ".tools" / "bin" / "uv"
    return str(local_uv) if local_uv.is_file() else shutil.which("uv")


def base_python() -> str:
    """A plain 3.11 interpreter to base the peer venv on: the one under the running venv if any."""
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_venv() -> Path:
    """The peer venv, built once and rebuilt only when requirements.txt changes."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if peer_python().exists() and STAMP.is_file() and STAMP.read_text().strip() == digest:
        log(f"re-using {VENV}")
        return peer_python()
    log(f"building {VENV} from {REQUIREMENTS.name}")
    shutil.rmtree(VENV, ignore_errors=True)
    uv = find_uv()
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", base_python(), str(VENV)], check=True)
        # Bytecode at install time, as FinScore's own venv has it: otherwise the first cold start
        # would pay for compiling every module and the runs would not be comparable.
        subprocess.run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(peer_python()),
                        "-r", str(REQUIREMENTS)], check=True)
    else:
        subprocess.run([base_python(), "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(peer_python()), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(digest + "\n")
    return peer_python()


def peer_environment(**extra: str) -> dict[str, str]:
    """The environment of a peer process: the caller's, without anything that would let the project's
    venv or an AWS profile leak in."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    environment.update(FAKE_CREDENTIALS)
    environment.update(extra)
    return environment


def write_training_csv(path: Path, rows: int) -> None:
    from training.recommend.generator import generate_customers

    with path.open("w", newline="") as output:
        writer = csv.DictWriter(output, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for customer in generate_customers(rows, TRAINING_SEED):
            writer.writerow({**customer, "existing_products": ";".join(customer["existing_products"])})


def run_peer(python: Path, arguments: list[str], environment: dict[str, str], what: str) -> str:
    result = subprocess.run([str(python), *arguments], env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"peer {what} failed with {result.returncode}:\n{result.stderr[-3000:]}")
    return result.stdout


def probe(python: Path, event_path: Path, environment: dict[str, str], warm: int) -> dict:
    output = run_peer(python, [str(PEER / "probe.py"), str(event_path), str(warm)], environment, "probe")
    return json.loads(output.strip().splitlines()[-1])


def installed_versions(python: Path) -> dict[str, str]:
    """The installed version of every package pinned in requirements.txt, read from the peer venv."""
    names = [line.split("==")[0].strip() for line in REQUIREMENTS.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    script = ("import json, sys\nfrom importlib.metadata import version\n"
              "print(json.dumps({name: version(name) for name in sys.argv[1:]}))")
    return json.loads(run_peer(python, ["-c", script, *names], peer_environment(), "version listing"))


def site_packages_mb(python: Path) -> float:
    """Installed size of the peer's site-packages, bytecode caches left out as bench.py's sizes do."""
    site = Path(run_peer(python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         peer_environment(), "site lookup").strip())
    total = sum(file.stat().st_size for file in site.rglob("*")
                if file.is_file() and "__pycache__" not in file.parts)
    return total / 1e6


def measure_peer(endpoint_url: str, models_bucket: str, event_path: Path, *, cold_runs: int = 5,
                 warm_requests: int = 3000, rows: int = 20_000) -> dict:
    """Cold start (median of COLD_RUNS new processes), warm p50/p99 and peak memory of the peer serving
    EVENT_PATH, its model trained on ROWS generated customers and fetched from s3://MODELS_BUCKET."""
    import boto3

    python = ensure_venv()
    with tempfile.TemporaryDirectory(prefix="finscore-peer-") as scratch:
        customers_csv, model_file = Path(scratch) / "customers.csv", Path(scratch) / "recommend.joblib"
        log(f"generating {rows:,} customers")
        write_training_csv(customers_csv, rows)
        log("training the peer model")
        run_peer(python, [str(PEER / "train.py"), str(customers_csv), str(model_file)], peer_environment(), "training")
        model_mb = model_file.stat().st_size / 1e6
        s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
        s3.upload_file(str(model_file), models_bucket, MODEL_KEY)
    log(f"model uploaded to s3://{models_bucket}/{MODEL_KEY} ({model_mb:.2f} MB)")

    environment = peer_environment(PEER_MODEL_BUCKET=models_bucket, PEER_MODEL_KEY=MODEL_KEY,
                                   AWS_ENDPOINT_URL=endpoint_url)
    colds = []
    for run in range(cold_runs):
        colds.append(probe(python, Path(event_path), environment, 0)["cold_s"])
        log(f"cold start {run + 1}/{cold_runs}: {colds[-1] * 1000:.0f} ms")
    log(f"{warm_requests} warm requests")
    warm = probe(python, Path(event_path), environment, warm_requests)
    log(f"answer: {json.dumps(warm['first_answer'])}")
    return {
        "cold_s": statistics.median(colds),
        "cold_runs": colds,
        "warm_p50_ms": warm["warm_p50_ms"],
        "warm_p99_ms": warm["warm_p99_ms"],
        "peak_rss_mb": warm["peak_rss_mb"],
        "versions": installed_versions(python),
        "venv_mb": site_packages_mb(python),
        "model_mb": model_mb,
    }


def main() -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import boto3

    from local.embedded_aws import EmbeddedAws, free_port

    aws = EmbeddedAws(free_port()).start()
    try:
        bucket = "peer-bench-models"
        boto3.client("s3", endpoint_url=aws.endpoint_url, region_name="us-east-1",
                     aws_access_key_id="local", aws_secret_access_key="local").create_bucket(Bucket=bucket)
        result = measure_peer(aws.endpoint_url, bucket, ROOT / "events" / "recommend_api" / "recommend.json")
    finally:
        aws.stop()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
