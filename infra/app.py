"""CDK entry point (cdk.json: `.venv/bin/python infra/app.py`): the FinScore app, built by infra.synth."""

import sys
from pathlib import Path

_INFRA_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _INFRA_DIR.parent
# Run as a script, Python puts infra/ first on sys.path, where infra/constructs/ would shadow the
# `constructs` library. Import from the repo root instead (infra.*), plus the shared layer's
# package (finscore.resources, the only runtime code infra uses) for machines without the
# editable install.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA_DIR]
for _path in (_REPO_ROOT, _REPO_ROOT / "layers" / "shared" / "python"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from infra.synth import build_app  # noqa: E402

if __name__ == "__main__":
    build_app().synth()
