"""`python -m training <product>`: train, gate and register one product against the configured AWS.

The model store and registry come from MODELS_BUCKET, REGISTRY_TABLE and AWS_ENDPOINT_URL (the local
run sets them for the embedded AWS). `finscore train ...` delegates here through main(argv).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from rich.console import Console
from rich.table import Table

from finscore.errors import ConfigurationError
from finscore.models.registry import ModelRegistry
from finscore.models.store import ModelStore
from finscore.settings import ModelServingSettings, load_settings
from training.pipeline import DEFAULT_TOLERANCE, TrainingResult, train_product, trainable_products


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training", description="Train, evaluate, gate and register a product's model.")
    parser.add_argument("product", choices=trainable_products())
    parser.add_argument("--rows", type=int, default=None, help="synthetic rows to generate (default: the product's)")
    parser.add_argument("--seed", type=int, default=7, help="seed for data generation, splits and models")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="how much worse than the champion's primary metric a candidate may be and still be promoted")
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 registered (promoted or not), 1 not registered (parity failed), 2 bad configuration."""
    args = parse_args(argv)
    try:
        settings = load_settings(ModelServingSettings)
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    result = train_product(
        args.product,
        store=ModelStore(settings.models_bucket),
        registry=ModelRegistry(settings.registry_table),
        rows=args.rows,
        seed=args.seed,
        tolerance=args.tolerance,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print_report(result)
    return 0 if result.registered else 1


def print_report(result: TrainingResult) -> None:
    """The held-out metrics table, the parity result, timings and the gate decision."""
    manifest = result.manifest
    test_rows = manifest.training_data.split.get("test", 0)
    table = Table(title=f"{manifest.product} {manifest.version}\nheld-out metrics, {test_rows} test rows")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in manifest.metrics.items():
        marker = " (primary)" if metric == manifest.primary_metric else ""
        table.add_row(metric + marker, f"{value:.4f}" if isinstance(value, float) else str(value))
    console = Console()
    console.print(table)
    parity = manifest.parity
    console.print(f"parity: {'passed' if parity.passed else 'FAILED'} on {parity.rows} rows "
                  f"(max abs diff {parity.max_abs_diff:.2e}, label agreement {parity.label_agreement:.4f})")
    if result.rejects:
        console.print(f"rejected input rows: {len(result.rejects)} (first: row {result.rejects[0].row}: {result.rejects[0].reason})")
    console.print("timings: " + ", ".join(f"{step} {seconds:.2f}s" for step, seconds in result.timings.items())
                  + f"; total {sum(result.timings.values()):.2f}s")
    console.print(f"gate: {result.decision}")
