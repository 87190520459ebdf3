"""The `finscore` command: run the local stack, invoke a function, train a product, write the OpenAPI document, show the
outbox, get an access token of the local stack's Cognito, bring your own table (custom models)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from local import custom_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finscore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the embedded AWS, train or restore models, serve the API")
    run.add_argument("--no-progress", action="store_true", help="plain output instead of progress bars")

    invoke = commands.add_parser("invoke", help="invoke a function with an event, like `sam local invoke`")
    invoke.add_argument("function", help="function folder name (recommend_api) or logical id")
    invoke.add_argument("-e", "--event", required=True, type=Path,
                        help="event JSON file (API Gateway, DynamoDB stream, SQS or WebSocket event)")
    invoke.add_argument("--throwaway-aws", action="store_true",
                        help="instead of the running stack's, an embedded AWS of its own for this call (free port, "
                             "trained models and sample data), stopped after it")

    train = commands.add_parser("train", help="train a product (arguments go to `python -m training`)")
    train.add_argument("args", nargs=argparse.REMAINDER)

    commands.add_parser("openapi", help="write the merged OpenAPI document into the shared package")

    commands.add_parser("outbox", help="SMS, app push and email the running local stack has sent")

    token = commands.add_parser("token", help="an access token of the running local stack's Cognito, for "
                                              "Authorization: Bearer (FINSCORE_AUTH=cognito)")
    token.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                       help="a scope the token should carry (finscore/score, finscore/customers.read, "
                            "finscore/interventions.write, finscore/admin); repeat for more; default: every "
                            "scope of the machine client")

    custom_command.add_parser(commands)

    arguments = parser.parse_args(argv)
    if arguments.command == "custom":
        # A client of the API: it runs no function, so its output stays the console's (a terminal's progress).
        return custom_command.run(arguments)
    # Before anything imports Powertools: its Logger keeps the stdout it finds at creation, and
    # local functions' output must reach their log files through the routing stream.
    from local.function_output import routed_stdout

    routed_stdout()
    if arguments.command == "run":
        from local.run import run as run_stack

        run_stack(progress=not arguments.no_progress and sys.stdout.isatty())
        return 0
    if arguments.command == "invoke":
        from local.home import NoRunningStack
        from local.invoke import invoke as invoke_function

        try:
            response = invoke_function(arguments.function, arguments.event, throwaway_aws=arguments.throwaway_aws)
        except NoRunningStack as exc:
            print(f"{exc}; or pass --throwaway-aws for an embedded AWS of its own, started for this call",
                  file=sys.stderr)
            return 1
        print(json.dumps(response, indent=2, default=str))
        return 0
    if arguments.command == "train":
        from training.cli import main as train_main

        return train_main(arguments.args)
    if arguments.command == "openapi":
        from local.openapi import write_document

        print(f"wrote {write_document()}")
        return 0
    if arguments.command == "outbox":
        return _print_outbox()
    if arguments.command == "token":
        return _print_token(tuple(arguments.scope))
    return 2


def _print_token(scopes: tuple[str, ...]) -> int:
    from finscore import resources
    from local.cognito import LocalUserPool, issue_token
    from local.embedded_aws import EmbeddedAws
    from local.home import NoRunningStack, running_stack

    try:
        state = running_stack()
    except NoRunningStack as exc:
        print(exc, file=sys.stderr)
        return 1
    if "cognito" not in state:
        print("The running stack predates local Cognito; restart it with `make run`", file=sys.stderr)
        return 1
    EmbeddedAws(state["aws_port"]).use()
    pool = LocalUserPool.from_state(state["cognito"])
    try:
        # Without --scope: the machine client's scopes (admin has its own client).
        machine = pool.clients[resources.MACHINE_CLIENT.logical_id]
        print(issue_token(pool, scopes or machine.scopes))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def _print_outbox() -> int:
    import os
    import urllib.request

    from local.home import NoRunningStack, running_stack
    from local.websocket import DEFAULT_PORT

    port = os.environ.get("FINSCORE_WS_PORT")
    if not port:
        try:
            port = running_stack().get("ws_port") or DEFAULT_PORT
        except NoRunningStack:
            port = DEFAULT_PORT
    url = f"http://127.0.0.1:{port}/outbox"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(response.read().decode())
    except OSError as exc:
        print(f"No running local stack answers at {url} ({exc}); start it with `finscore run`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
