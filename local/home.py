"""FINSCORE_HOME (`.finscore/` by default): what the local run keeps between runs and tells other commands.

    keys.json    the generated API and admin keys, reused by every later run (mode 0600)
    stack.json   the running stack: its process, ports, endpoints and keys (mode 0600); written when
                 the stack is ready, removed when it stops; `finscore invoke` finds the stack by it
    models/      trained models, restored instead of trained again (local/model_cache.py)
    logs/        one log file per function, as CloudWatch Logs would hold them
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.embedded_aws import port_in_use

ROOT = Path(__file__).resolve().parents[1]
HOME_ENV = "FINSCORE_HOME"
API_KEY_ENV = "FINSCORE_API_KEY"
ADMIN_KEY_ENV = "FINSCORE_ADMIN_KEY"
KEYS_FILE = "keys.json"
STACK_FILE = "stack.json"


def finscore_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or ROOT / ".finscore").resolve()


def write_private(path: Path, document: dict[str, Any]) -> None:
    """Write DOCUMENT as JSON readable by its owner only, from the first byte; replaced atomically, so a
    reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
    os.chmod(partial, 0o600)  # in case the file was left behind with other modes
    os.replace(partial, path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


@dataclass(frozen=True)
class ApiKeys:
    api_key: str
    admin_key: str
    path: Path
    # The keys that came from the environment (FINSCORE_API_KEY, FINSCORE_ADMIN_KEY) for this run.
    from_environment: tuple[str, ...] = ()

    def origin(self, variable: str) -> str:
        return f"from {variable}" if variable in self.from_environment else f"kept in {self.path}"


def api_keys() -> ApiKeys:
    """The API and admin keys: FINSCORE_API_KEY / FINSCORE_ADMIN_KEY when set, otherwise the ones kept in
    FINSCORE_HOME/keys.json, generated there on first use. A key from the environment is not written to
    the file, so the kept one comes back once the variable is unset."""
    path = finscore_home() / KEYS_FILE
    kept = _read(path) or {}
    keys, generated = {}, False
    for name, variable in (("api_key", API_KEY_ENV), ("admin_key", ADMIN_KEY_ENV)):
        if not isinstance(kept.get(name), str) or not kept[name]:
            kept[name] = secrets.token_urlsafe(24)
            generated = True
        keys[name] = os.environ.get(variable) or kept[name]
    if generated:
        write_private(path, {"api_key": kept["api_key"], "admin_key": kept["admin_key"]})
    return ApiKeys(keys["api_key"], keys["admin_key"], path,
                   tuple(variable for variable in (API_KEY_ENV, ADMIN_KEY_ENV) if os.environ.get(variable)))


def write_stack_state(state: dict[str, Any]) -> Path:
    """Record the running stack (this process) for other commands."""
    path = finscore_home() / STACK_FILE
    write_private(path, {"pid": os.getpid(), **state})
    return path


def remove_stack_state() -> None:
    """Forget the stack, unless the file is another run's (two runs may share a home)."""
    path = finscore_home() / STACK_FILE
    state = _read(path)
    if state is not None and state.get("pid") in (None, os.getpid()):
        path.unlink(missing_ok=True)


def _process_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


class NoRunningStack(RuntimeError):
    """No local stack answers: nothing recorded in FINSCORE_HOME, or what is recorded stopped."""


START_HINT = "start one with `make run` (or `.venv/bin/finscore run`) and keep it running"


def running_stack() -> dict[str, Any]:
    """The stack recorded in FINSCORE_HOME/stack.json, checked alive: its process runs and its embedded
    AWS answers. A record left by a run that was killed is stale: it is removed and reported."""
    path = finscore_home() / STACK_FILE
    state = _read(path)
    if state is None:
        raise NoRunningStack(f"No local stack is running (no {path}); {START_HINT}")
    port = state.get("aws_port")
    if not _process_alive(state.get("pid")) or not isinstance(port, int) or not port_in_use(port):
        path.unlink(missing_ok=True)
        raise NoRunningStack(f"{path} is stale (process {state.get('pid')} or its embedded AWS on port {port} no "
                             f"longer answers; removed); {START_HINT}")
    return state
