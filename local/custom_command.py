"""`finscore custom`: a user's own table from a local file to a ready, scoring model, and the models
after that (list, show, score, delete), through the /v1/custom-models routes.

`create` puts the file under the model's data prefix in the data bucket, registers the definition
(PUT), follows the run (GET) and prints the model card, or the reasons the run failed. It talks to the
running local stack (FINSCORE_HOME/stack.json: its API, keys and embedded AWS) unless --api names a
deployed one, whose bucket is reached with the normal AWS credential chain.

Exit codes: 0 done (create: the model is ready); 1 the run failed, timed out or nothing answered;
2 bad usage or the API refused the request (4xx), with its message.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping

from local.custom_client import ApiError, CustomModelsApi

OK, FAILED, USAGE = 0, 1, 2
# How often a wait asks for the run's status; on a terminal the elapsed seconds tick at the same pace.
POLL_S = 1.0
# Without a terminal, a line at each change of status and one at least this often while it lasts.
PLAIN_EVERY_S = 30.0
DEFAULT_TIMEOUT_S = 1800.0
UPLOAD_PART_BYTES = 8 * 1024 * 1024
FINISHED = ("ready", "failed", "retired")
TOKEN_ENV, ADMIN_TOKEN_ENV = "FINSCORE_TOKEN", "FINSCORE_ADMIN_TOKEN"
# The reasons a failed run prints; GET /v1/custom-models/{name} holds the first 50.
PRINTED_REASONS = 20


class UsageError(Exception):
    """Bad usage found after parsing: a missing file, a bad name, an unsupported format."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    """The `custom` command and its subcommands, on the `finscore` parser's COMMANDS."""
    custom = commands.add_parser("custom", help="your own table: train, follow, show, score and retire a custom model",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = custom.add_subparsers(dest="action", required=True)

    create = actions.add_parser("create", help="upload a table, register its model, wait for it, print its card")
    create.add_argument("name", help="the model's name: lowercase letters, digits and '-', 2-40 characters")
    create.add_argument("--file", required=True, type=Path,
                        help="the table: .csv, .jsonl, .json, .parquet or .xlsx (put under training/custom/NAME/)")
    create.add_argument("--target", required=True, help="the column to predict")
    create.add_argument("--task", required=True, choices=("binary", "regression"))
    create.add_argument("--positive-class", metavar="V", help="binary: the target value that counts as positive")
    create.add_argument("--id-column", metavar="C", help="the column that identifies rows (never a feature)")
    create.add_argument("--exclude", action="append", default=[], type=column_list, metavar="A,B",
                        help="columns never used as features")
    create.add_argument("--monotone", action="extend", nargs="+", default=[], type=monotone_entry, metavar="COL=1",
                        help="COL=1: the score never falls as COL rises; COL=-1: it never rises")
    create.add_argument("--as-of-column", metavar="C", help="the date each row was observed (the split goes by time)")
    create.add_argument("--allow", action="append", default=[], type=column_list, metavar="A,B",
                        help="columns the leakage guard keeps even when it flags them")
    create.add_argument("--no-wait", action="store_true", help="register and return; follow with `custom show`")
    create.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"stop waiting after this long (the run goes on; default {DEFAULT_TIMEOUT_S:.0f})")

    list_models = actions.add_parser("list", help="every custom model and its status")
    show = actions.add_parser("show", help="status, chosen model, held-out metrics against the baseline")
    show.add_argument("name")
    score = actions.add_parser("score", help="score the records of a file and print the answers")
    score.add_argument("name")
    score.add_argument("--file", required=True, type=Path,
                       help="records: a JSON array (or {\"records\": [...]}), JSON Lines, CSV, Parquet or .xlsx")
    delete = actions.add_parser("delete", help="retire a model: it stops scoring (a new create registers it again)")
    delete.add_argument("name")

    for parser in (list_models, show, score, delete):
        parser.add_argument("--json", action="store_true", help="print the API's answer as JSON")
    for parser in (create, list_models, show, score, delete):
        where = parser.add_argument_group("a deployed stack (default: the running local stack)")
        where.add_argument("--api", metavar="URL", help="the API's URL up to and including /v1")
        where.add_argument("--api-key", metavar="K", help="the API key (default: FINSCORE_API_KEY, or the local "
                                                          "stack's)")
        where.add_argument("--admin-key", metavar="K", help="the admin key, for create and delete (default: "
                                                            "FINSCORE_ADMIN_KEY, or the local stack's)")
        where.add_argument("--token", metavar="T", help=f"an access token with finscore/score (default: {TOKEN_ENV})")
        where.add_argument("--admin-token", metavar="T",
                           help=f"an access token with finscore/admin (default: {ADMIN_TOKEN_ENV})")
        if parser is create:
            where.add_argument("--bucket", metavar="B", help="the data bucket (default: the local stack's)")


def column_list(text: str) -> list[str]:
    """'a,b' -> ['a', 'b'] (argparse type)."""
    columns = [column.strip() for column in text.split(",") if column.strip()]
    if not columns:
        raise argparse.ArgumentTypeError(f"expected column names separated by commas, got {text!r}")
    return columns


def monotone_entry(text: str) -> tuple[str, int]:
    """'COL=1' -> ('COL', 1) (argparse type)."""
    column, _, direction = text.rpartition("=")
    if not column.strip() or direction.strip() not in ("1", "+1", "-1"):
        raise argparse.ArgumentTypeError(f"expected COLUMN=1 or COLUMN=-1, got {text!r}")
    return column.strip(), int(direction)


def definition_of(arguments: argparse.Namespace) -> dict[str, Any]:
    """The PUT body the create arguments describe (what is not given is left to the API's defaults)."""
    definition: dict[str, Any] = {"target": arguments.target, "task": arguments.task}
    optional = {"positive_class": arguments.positive_class, "id_column": arguments.id_column,
                "as_of_column": arguments.as_of_column,
                "exclude": [column for group in arguments.exclude for column in group],
                "allow": [column for group in arguments.allow for column in group],
                "monotone": dict(arguments.monotone)}
    definition.update({key: value for key, value in optional.items() if value not in (None, [], {})})
    return definition


@dataclass(frozen=True)
class Target:
    """Where the command goes: the API and, for create, the data bucket."""

    api: CustomModelsApi
    bucket: str | None


def connect(arguments: argparse.Namespace) -> Target:
    """The deployed stack --api names, or the running local stack (its AWS SDK calls then go to its
    embedded AWS). NoRunningStack when neither is there; UsageError when --api lacks a key."""
    token = arguments.token or os.environ.get(TOKEN_ENV)
    admin_token = arguments.admin_token or os.environ.get(ADMIN_TOKEN_ENV)
    bucket = getattr(arguments, "bucket", None)
    if arguments.api:
        from local.home import ADMIN_KEY_ENV, API_KEY_ENV

        api_key = arguments.api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise UsageError(f"--api needs --api-key (or {API_KEY_ENV})")
        admin_key = arguments.admin_key or os.environ.get(ADMIN_KEY_ENV)
        return Target(CustomModelsApi(arguments.api, api_key, admin_key, token, admin_token), bucket)
    from finscore import resources
    from local.embedded_aws import EmbeddedAws
    from local.home import running_stack

    state = running_stack()
    EmbeddedAws(state["aws_port"]).use()
    if state.get("auth") == "cognito" and "cognito" in state:
        token, admin_token = token or _local_token(state, ()), admin_token or _local_token(
            state, (resources.ADMIN_SCOPE.identifier,))
    api = CustomModelsApi(f"{state['api_url']}/v1", arguments.api_key or state["api_key"],
                          arguments.admin_key or state["admin_key"], token, admin_token)
    return Target(api, bucket or resources.local_name(resources.DATA_BUCKET.logical_id))


def _local_token(state: Mapping[str, Any], scopes: tuple[str, ...]) -> str:
    """A token of the local stack's Cognito (FINSCORE_AUTH=cognito): the machine client's scopes, or SCOPES."""
    from finscore import resources
    from local.cognito import LocalUserPool, issue_token

    pool = LocalUserPool.from_state(state["cognito"])
    return issue_token(pool, scopes or pool.clients[resources.MACHINE_CLIENT.logical_id].scopes)


def table_format(path: Path) -> str:
    """PATH's format by its suffix, as the training reader takes it; UsageError for another."""
    from finscore.tabular import EXCEL_SUFFIX, SUFFIXES

    suffix = path.suffix.lower()
    if suffix not in SUFFIXES and suffix != EXCEL_SUFFIX:
        raise UsageError(f"{path}: unsupported format {suffix or '(no suffix)'}; use "
                         f"{', '.join(sorted({*SUFFIXES, EXCEL_SUFFIX}))}")
    return suffix


def check_name(name: str) -> None:
    from finscore.products.custom.definition import NAME_PATTERN

    if not re.match(NAME_PATTERN, name):
        raise UsageError(f"{name!r} is not a model name: lowercase letters, digits and '-', 2-40 characters, "
                         "starting with a letter")


def _parts(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while part := source.read(UPLOAD_PART_BYTES):
            yield part


def upload_table(bucket: str, name: str, path: Path) -> tuple[str, list[str]]:
    """PATH put at training/custom/NAME/<its file name> in BUCKET (in parts, memory stays bounded); its
    key and every key under that prefix (training reads them all)."""
    from finscore import resources
    from finscore.s3 import Bucket

    prefix = f"{resources.CUSTOM_TRAINING_PREFIX}{name}/"
    key = prefix + path.name
    objects = Bucket(bucket)
    objects.write_parts(key, _parts(path), "application/octet-stream")
    return key, list(objects.keys(prefix))


class Progress:
    """A run's status as it goes: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, name: str, out: IO[str], tty: bool):
        self.name, self.out, self.tty = name, out, tty
        self._status: str | None = None
        self._printed_at = 0.0

    def update(self, status: str, elapsed: float) -> None:
        line = f"{self.name}: {status} {elapsed:.0f} s"
        if self.tty:
            self.out.write(f"\r{line}\033[K")
            self.out.flush()
        elif status != self._status or elapsed - self._printed_at >= PLAIN_EVERY_S:
            self.out.write(line + "\n")
            self.out.flush()
            self._printed_at = elapsed
        self._status = status

    def done(self) -> None:
        if self.tty and self._status is not None:
            self.out.write("\n")
            self.out.flush()


def follow(api: CustomModelsApi, name: str, training_id: str, progress: Progress, *, timeout_s: float,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
           ) -> tuple[dict[str, Any], float]:
    """NAME's status once run TRAINING_ID has finished, a newer run replaced it or TIMEOUT_S passed, and
    the seconds it took."""
    started = clock()
    try:
        while True:
            status = api.describe(name)
            elapsed = clock() - started
            progress.update(status["status"], elapsed)
            if status["status"] in FINISHED or status.get("training_id") != training_id or elapsed >= timeout_s:
                return status, elapsed
            sleep(POLL_S)
    finally:
        progress.done()


def create(arguments: argparse.Namespace, out: IO[str], tty: bool) -> int:
    check_name(arguments.name)
    if not arguments.file.is_file():
        raise UsageError(f"{arguments.file}: no such file")
    table_format(arguments.file)
    definition = definition_of(arguments)
    target = connect(arguments)
    if not target.bucket:
        raise UsageError("--api needs --bucket: the data bucket the table goes to")
    key, keys = upload_table(target.bucket, arguments.name, arguments.file)
    print(f"Put {arguments.file} at s3://{target.bucket}/{key}", file=out)
    others = [other for other in keys if other != key]
    if others:
        print(f"Training also reads the {len(others)} other file(s) under that prefix: "
              + ", ".join(other.rsplit("/", 1)[-1] for other in others), file=out)
    accepted = target.api.register(arguments.name, definition)
    print(f"Registered {arguments.name} (run {accepted['training_id']}), training on {accepted['data']}",
          file=out, flush=True)
    if arguments.no_wait:
        return OK
    status, elapsed = follow(target.api, arguments.name, accepted["training_id"], Progress(arguments.name, out, tty),
                             timeout_s=arguments.timeout)
    if status.get("training_id") != accepted["training_id"]:
        print(f"Run {accepted['training_id']} was replaced by run {status.get('training_id')} "
              f"({status['status']}); follow it with `finscore custom show {arguments.name}`", file=out)
        return FAILED
    if status["status"] not in FINISHED:
        print(f"{arguments.name} is still {status['status']} after {elapsed:.0f} s; the run goes on: follow it with "
              f"`finscore custom show {arguments.name}`", file=out)
        return FAILED
    if status["status"] != "ready":
        print(f"{arguments.name} {status['status']} after {elapsed:.0f} s:", file=out)
        print(format_reasons(status.get("reasons") or []), file=out)
        return FAILED
    print(f"{arguments.name} is ready after {elapsed:.0f} s (version {status.get('champion_version')})\n", file=out)
    print(target.api.card(arguments.name).rstrip(), file=out)
    rejected = int(status.get("rejected_rows") or 0)
    if rejected:
        print(f"\n{rejected} row(s) were not trained on:\n{format_reasons(status.get('reasons') or [])}", file=out)
    return OK


def format_reasons(reasons: list[Mapping[str, Any]]) -> str:
    """One line per reason: where (column, file and row) and why."""
    if not reasons:
        return "  (no reason recorded)"
    lines = []
    for reason in reasons[:PRINTED_REASONS]:
        where = [str(reason["field"])] if reason.get("field") else []
        if reason.get("file") or reason.get("row") is not None:
            where.append(" ".join(part for part in (str(reason.get("file") or "").rsplit("/", 1)[-1],
                                                    f"row {reason['row']}" if reason.get("row") is not None else "")
                                  if part))
        lines.append(f"  - {', '.join(where) + ': ' if where else ''}{reason.get('issue')}")
    if len(reasons) > PRINTED_REASONS:
        lines.append(f"  ... and {len(reasons) - PRINTED_REASONS} more")
    return "\n".join(lines)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _interval(measured: Mapping[str, Any], metric: str) -> str:
    interval = (measured.get("intervals") or {}).get(metric)
    return f"[{_number(interval[0])}, {_number(interval[1])}]" if interval else ""


def format_status(status: Mapping[str, Any]) -> str:
    """What `custom show` prints: the status and its reasons, the chosen model, and the held-out metrics
    of the chosen model and of the baseline on the same rows, with their 95% intervals."""
    lines = [f"{status['name']}: {status['status']}  (updated {status.get('updated_at')})"]
    # A ready model's reasons are the rows its run rejected; `rejected_rows` counts them.
    if status.get("reasons") and status["status"] != "ready":
        lines += ["Reasons:", format_reasons(status["reasons"])]
    model = status.get("model") or {}
    if not model:
        if not status.get("champion_version"):
            lines.append("No serving version yet.")
        return "\n".join(lines)
    chosen = model.get("model") or {}
    rows = model.get("rows") or {}
    lines.append(f"Version {model.get('version')}: {chosen.get('chosen')} ({chosen.get('algorithm')}), "
                 f"{chosen.get('task')} {chosen.get('outcome') or ''}".rstrip())
    if rows:
        lines.append(f"Rows: {rows.get('used')} used of {rows.get('in')} ({rows.get('rejected')} rejected); split "
                     f"{rows.get('train')}/{rows.get('validation')}/{rows.get('test')}")
    metrics, baseline = model.get("metrics") or {}, model.get("baseline") or {}
    names = list((metrics.get("intervals") or {}))
    if names:
        lines.append(f"Held-out metrics ({(model.get('comparison') or {}).get('rows', '?')} test rows, 95% intervals):")
        lines.append(f"  {'metric':<10} {'chosen':>8} {'interval':<20} {'baseline':>8} interval")
        for metric in names:
            lines.append(f"  {metric:<10} {_number(metrics.get(metric)):>8} {_interval(metrics, metric):<20} "
                         f"{_number(baseline.get(metric)):>8} {_interval(baseline, metric)}".rstrip())
    comparison = model.get("comparison") or {}
    if comparison.get("note"):
        lines.append(f"Comparison: {comparison['note']}")
    threshold = (model.get("thresholds") or {}).get("decision")
    if threshold is not None:
        lines.append(f"Decision threshold: {_number(float(threshold))} (chosen on validation)")
    refused = [column for column in model.get("columns") or [] if not column.get("used")]
    if refused:
        lines.append("Columns not used:")
        lines += [f"  - {column['name']}: {column.get('reason')}" for column in refused]
    return "\n".join(lines)


def format_list(models: list[Mapping[str, Any]]) -> str:
    if not models:
        return "No custom models yet; `finscore custom create NAME --file ...` makes one."
    lines = [f"{'name':<24} {'status':<9} {'version':<28} updated"]
    lines += [f"{model['name']:<24} {model['status']:<9} {model.get('champion_version') or '-':<28} "
              f"{model.get('updated_at')}" for model in models]
    return "\n".join(lines)


def format_scores(answer: Mapping[str, Any]) -> str:
    """Each record's answer (probability and decision, or value) with its reasons, then the records that
    could not be scored and why."""
    lines = [f"{answer['name']} {answer['model_version']}: {answer['scored']} scored, {answer['failed']} failed"
             + (f" (decision at probability >= {_number(float(answer['threshold']))})"
                if answer.get("threshold") is not None else "")]
    for result in answer.get("results") or []:
        label = f"#{result['index']}" + (f" {result['id']}" if result.get("id") is not None else "")
        if result.get("probability") is not None:
            outcome = f"probability {result['probability']:.4f}  decision {'yes' if result.get('decision') else 'no'}"
        else:
            outcome = f"value {_number(result.get('value'))}"
        lines.append(f"{label}  {outcome}")
        lines += [f"    - {reason['text']}" for reason in result.get("reasons") or []]
    for error in answer.get("errors") or []:
        lines.append(f"#{error['index']} not scored: {error['message']}")
        lines += [f"    - {detail['field']}: {detail['issue']}" for detail in error.get("details") or []]
    return "\n".join(lines)


def read_records(path: Path) -> list[Any]:
    """The records of PATH: a JSON array or {"records": [...]}, or a table the tabular reader takes (CSV
    values stay text, as the API takes them). UsageError when the file cannot be read as records."""
    from finscore.tabular import UnsupportedFile, read_file

    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    body = path.read_bytes()
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise UsageError(f"{path}: not JSON ({exc})") from exc
        if isinstance(document, dict) and isinstance(document.get("records"), list):
            return document["records"]
        if isinstance(document, list):
            return document
        raise UsageError(f"{path}: expected a JSON array of records or {{\"records\": [...]}}")
    table_format(path)
    try:
        rows = read_file(path.name, body)
    except UnsupportedFile as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if rows.rejects:
        raise UsageError(f"{path}: {len(rows.rejects)} row(s) cannot be read, first row {rows.rejects[0].row}: "
                         f"{rows.rejects[0].reason}")
    # A CSV's empty cell is an absent value, as it would be left out of a JSON record.
    return [{key: value for key, value in record.items() if value != ""} for record in rows.as_records()]


def run(arguments: argparse.Namespace, out: IO[str] | None = None, err: IO[str] | None = None,
        tty: bool | None = None) -> int:
    """The `custom` ARGUMENTS carried out; the exit code."""
    from finscore.errors import ServiceUnavailable
    from local.home import NoRunningStack

    out, err = out or sys.stdout, err or sys.stderr
    tty = out.isatty() if tty is None else tty
    try:
        return _act(arguments, out, tty)
    except UsageError as exc:
        print(f"finscore custom {arguments.action}: {exc}", file=err)
        return USAGE
    except ApiError as exc:
        print(f"finscore custom {arguments.action}: {exc.words()}", file=err)
        return USAGE if exc.client_error else FAILED
    except NoRunningStack as exc:
        print(f"{exc}; or pass --api URL --api-key K for a deployed stack", file=err)
        return FAILED
    except ServiceUnavailable as exc:  # the data bucket could not be written
        print(f"finscore custom {arguments.action}: {exc.message}", file=err)
        return FAILED
    except KeyboardInterrupt:
        if arguments.action == "create":
            print(f"\nStopped waiting; the run goes on: `finscore custom show {arguments.name}` follows it", file=err)
        return 130


def _act(arguments: argparse.Namespace, out: IO[str], tty: bool) -> int:
    if arguments.action == "create":
        return create(arguments, out, tty)
    if arguments.action == "score":
        records = read_records(arguments.file)
    if arguments.action in ("show", "score", "delete"):
        check_name(arguments.name)
    api = connect(arguments).api
    if arguments.action == "list":
        answer = api.list_models()
        print(json.dumps(answer, indent=2) if arguments.json else format_list(answer["models"]), file=out)
        return OK
    if arguments.action == "show":
        answer = api.describe(arguments.name)
        print(json.dumps(answer, indent=2) if arguments.json else format_status(answer), file=out)
        return OK
    if arguments.action == "score":
        answer = api.score(arguments.name, records)
        print(json.dumps(answer, indent=2) if arguments.json else format_scores(answer), file=out)
        # A record that cannot be scored is bad input, as a refused request is.
        return USAGE if answer.get("failed") else OK
    answer = api.retire(arguments.name)
    print(json.dumps(answer, indent=2) if arguments.json else f"{answer['name']}: {answer['status']} (it no longer "
                                                              "scores; `custom create` registers it again)", file=out)
    return OK
