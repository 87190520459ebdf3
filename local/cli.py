"""The `finscore` command: run the local stack, invoke a function, train a product, write the OpenAPI document."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finscore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the embedded AWS, train or restore models, serve the API")
    run.add_argument("--no-progress", action="store_true", help="plain output instead of progress bars")

    invoke = commands.add_parser("invoke", help="invoke a function with an event, like `sam local invoke`")
    invoke.add_argument("function", help="function folder name (recommend_api) or logical id")
    invoke.add_argument("-e", "--event", required=True, type=Path, help="API Gateway event JSON file")

    train = commands.add_parser("train", help="train a product (arguments go to `python -m training`)")
    train.add_argument("args", nargs=argparse.REMAINDER)

    commands.add_parser("openapi", help="write the merged OpenAPI document into the shared package")

    arguments = parser.parse_args(argv)
    if arguments.command == "run":
        from local.run import run as run_stack

        run_stack(progress=not arguments.no_progress and sys.stdout.isatty())
        return 0
    if arguments.command == "invoke":
        from local.invoke import invoke as invoke_function

        response = invoke_function(arguments.function, arguments.event)
        print(json.dumps(response, indent=2, default=str))
        return 0
    if arguments.command == "train":
        from training.cli import main as train_main

        return train_main(arguments.args)
    if arguments.command == "openapi":
        from local.openapi import write_document

        print(f"wrote {write_document()}")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
