"""Build the serving-dependencies Lambda layer without Docker.

The locked serving dependencies (uv.lock, project dependencies only) are installed as manylinux
x86_64 wheels for the Lambda Python version set in cdk.json into build/layers/serving/python/,
the layout Lambda expects inside a layer. Packages the Lambda runtime already ships are left out.
When this machine has an interpreter of that Python version, the layer ships its bytecode: /opt is
read-only in Lambda, so without it every cold start compiles each imported module again. A stamp
records the inputs, so an unchanged lock, Python version and bytecode skip the install.

    python layers/serving/build.py [--uv PATH] [--force]

uv is found through --uv, then the UV environment variable (set by `uv run` and `make`), then PATH,
then .tools/bin/uv, where `make install` puts it when it is not on the PATH: `.venv/bin/finscore
invoke` and the infra tests synthesize the app, and so build this layer, outside make too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = REPO_ROOT / "cdk.json"
# The same key the CDK app reads (infra/config.py): one Python version for runtime and layer.
PYTHON_VERSION_KEY = "lambdaPythonVersion"
LAYER_DIR = REPO_ROOT / "build" / "layers" / "serving"
# Where the Makefile installs uv when none is on the PATH.
TOOLS_UV = REPO_ROOT / ".tools" / "bin" / "uv"
# Inside the layer folder so `make` can use it as the build's target file; the CDK asset excludes it.
STAMP_FILE = LAYER_DIR / ".stamp"
REQUIREMENTS_FILE = REPO_ROOT / "build" / "layers" / "serving.requirements.txt"

# Python 3.12+ Lambda runtimes run on Amazon Linux 2023 (glibc 2.34); numpy >= 2.3 and recent
# onnxruntime publish manylinux_2_28 wheels only, so manylinux2014 would find nothing to install.
PLATFORM = "x86_64-manylinux_2_28"
# Shipped by every Lambda Python runtime; bundling them again only costs layer size.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
# Bump when the way the layer is assembled changes, so existing builds are redone.
BUILD_FORMAT = 2

_REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def python_version() -> str:
    """The Lambda Python version from cdk.json, e.g. "3.14"."""
    version = str(json.loads(CDK_JSON.read_text())["context"][PYTHON_VERSION_KEY])
    if tuple(int(part) for part in version.split(".")) < (3, 12):
        # Older runtimes run on Amazon Linux 2 (glibc 2.26), where manylinux_2_28 wheels do not load.
        raise ValueError(f"{PYTHON_VERSION_KEY}={version}: the serving layer targets the Python 3.12+ runtimes")
    return version


def find_uv(explicit: str | None = None) -> str:
    for candidate in (explicit, os.environ.get("UV"), shutil.which("uv"), str(TOOLS_UV)):
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError(f"uv not found (not on the PATH, nor in {TOOLS_UV}): run `make install`, pass --uv PATH "
                            "or set UV=/path/to/uv (uv exports the locked dependencies)")


def serving_requirements(uv: str) -> str:
    """The locked project dependencies the layer must ship, from `uv export`."""
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--no-default-groups"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return without_runtime_provided(exported)


def without_runtime_provided(exported: str) -> str:
    """EXPORTED minus comments and runtime-provided packages: one `name==version ; marker` a line."""
    kept = []
    for line in exported.splitlines():
        match = _REQUIREMENT_NAME.match(line)  # comments and indented "# via" lines do not match
        if match and _normalise(match.group(1)) not in RUNTIME_PROVIDED:
            kept.append(line.strip())
    return "\n".join(kept) + "\n"


def runtime_interpreter(version: str, uv: str) -> str | None:
    """An interpreter of Python VERSION on this machine (never downloaded), or None.

    Bytecode is only valid for the minor version that wrote it: compiled by any other, Lambda's
    runtime would ignore it and compile from source anyway.
    """
    found = subprocess.run(
        [uv, "python", "find", "--no-project", "--no-python-downloads", version],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    interpreter = found.stdout.strip()
    if found.returncode != 0 or not interpreter:
        return None
    reported = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
    )
    return interpreter if reported.returncode == 0 and reported.stdout.strip() == version else None


def compile_bytecode(target: Path, interpreter: str) -> bool:
    """Write INTERPRETER's bytecode for every module under TARGET; False if some module did not compile.

    Unchecked-hash bytecode is never compared with its source: the CDK zips every file with the
    same 1980 date, which would invalidate timestamp-checked bytecode at every cold start, and the
    layer is only ever replaced whole (a changed input is a new build from scratch).
    """
    compiled = subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)],
        capture_output=True,
        text=True,
    )
    if compiled.returncode != 0:
        # A module that does not compile here would not import in Lambda either; its package's
        # other modules keep their bytecode.
        print(f"some modules did not compile ({interpreter}):\n{compiled.stdout[-2000:]}")
    return compiled.returncode == 0


def read_stamp() -> dict | None:
    """What the current build was made from, or None when there is no complete build."""
    if not STAMP_FILE.is_file() or not (LAYER_DIR / "python").is_dir():
        return None
    return json.loads(STAMP_FILE.read_text())


def build_serving_layer(uv: str | None = None, force: bool = False) -> Path:
    """Install the serving dependencies into LAYER_DIR/python unless the stamp shows they are current."""
    uv = find_uv(uv)
    version = python_version()
    requirements = serving_requirements(uv)
    interpreter = runtime_interpreter(version, uv)
    # With or without bytecode, the layer differs: the digest (the CDK asset hash) says which.
    bytecode = interpreter is not None
    digest = hashlib.sha256(
        f"{BUILD_FORMAT}\n{version}\n{PLATFORM}\nbytecode={bytecode}\n{requirements}".encode()
    ).hexdigest()
    stamp = read_stamp()
    if stamp and stamp.get("digest") == digest and not force:
        STAMP_FILE.touch()  # newer than uv.lock again, so make stops asking
        print(f"serving layer up to date for python{version}: {LAYER_DIR} ({_megabytes(stamp['unzipped_bytes'])})")
        return LAYER_DIR

    # A half-finished build must never pass for a good one: the stamp goes with the old build and
    # is written only once the new one is complete.
    shutil.rmtree(LAYER_DIR, ignore_errors=True)
    target = LAYER_DIR / "python"
    target.mkdir(parents=True)
    REQUIREMENTS_FILE.write_text(requirements)
    # --no-deps: the export is already the full locked closure, and resolving again would pull
    # botocore back in through aws-xray-sdk. uv evaluates the lock's markers for the target Python
    # (pip would use the interpreter it runs on); --link-mode copy keeps uv's cache safe from edits.
    subprocess.run(
        [
            uv, "pip", "install",
            "--target", str(target),
            "--python-platform", PLATFORM,
            "--python-version", version,
            "--only-binary", ":all:",
            "--no-deps",
            "--link-mode", "copy",
            "--requirement", str(REQUIREMENTS_FILE),
        ],
        cwd=REPO_ROOT,
        check=True,
    )
    _strip(target)
    if interpreter is not None:
        compile_bytecode(target, interpreter)
    else:
        print(f"no python{version} on this machine: the layer ships without bytecode, which Lambda then "
              "compiles at every cold start")
    size = unzipped_bytes(target)
    STAMP_FILE.write_text(
        json.dumps(
            {"digest": digest, "python_version": version, "platform": PLATFORM, "bytecode": bytecode,
             "unzipped_bytes": size},
            indent=2,
        )
        + "\n"
    )
    print(f"built serving layer for python{version} ({PLATFORM}): {LAYER_DIR} ({_megabytes(size)} unzipped"
          f"{', with bytecode' if bytecode else ''})")
    return LAYER_DIR


def unzipped_bytes(root: Path) -> int:
    """Sum of file sizes under ROOT: what Lambda counts against its 250 MB unzipped limit."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _strip(target: Path) -> None:
    """Drop what never runs in Lambda: the installer's bytecode (written by this machine's Python, not
    the runtime's), test suites, console scripts."""
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    # Only folders named exactly "tests" inside a package: numpy.testing and friends are runtime
    # modules other libraries import and must stay.
    for tests in list(target.glob("*/**/tests")):
        if tests.is_dir():
            shutil.rmtree(tests)
    # Console scripts carry the build machine's interpreter path and are unusable in a layer.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uv", help="path to the uv executable (default: $UV, then PATH)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the stamp says the layer is current")
    args = parser.parse_args(argv)
    try:
        build_serving_layer(args.uv, force=args.force)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from exc


if __name__ == "__main__":
    main()
