"""SnapStart runtime hooks of a product's API function: its champion in the snapshot, re-checked on restore.

Lambda runs the before-snapshot hook once per published version, at the end of the init whose memory
the snapshot keeps, and the after-restore hook in every execution environment resumed from it. The
function's product (FINSCORE_PRODUCT, set from its spec by the CDK app) says which champion to load,
so the hooks name no product. The hooks library ships with Lambda's Python runtimes; where it is
absent (the local run, tests) nothing is registered and the champion loads on the first request.

What a restored environment must not share with its siblings: the random generators' state (drift
capture samples with `random`; numpy's global generator is re-seeded too) and the registry check's
time. The cached boto3 clients stay: AWS's SnapStart guidance lets SDK clients cross a snapshot, they
re-open connections a restore has closed, and their credentials come from the environment's own
credentials endpoint.
"""

from __future__ import annotations

import random
import sys
from typing import Annotated

from pydantic import Field

from finscore.errors import ConfigurationError, FinScoreError
from finscore.observability import logger
from finscore.resources import PRODUCT_ENV
from finscore.settings import FunctionSettings, load_settings


class SnapshotSettings(FunctionSettings):
    # The product whose champion the snapshot holds; unset: a function of no product, nothing to load.
    product: Annotated[str | None, Field(alias=PRODUCT_ENV)] = None


def register_hooks() -> bool:
    """Register the hooks with Lambda's runtime; False where the runtime offers none."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def before_snapshot() -> None:
    """Import the product's routes and load its champion, so that the snapshot holds both."""
    name = load_settings(SnapshotSettings).product
    if name is None:
        return
    from finscore.products.api import product_app
    from finscore.products.scoring import champion

    product_app(name)
    try:
        loaded = champion(name).get()
    except ConfigurationError:
        raise
    except FinScoreError as exc:
        # A first deployment has no champion yet: publishing the version must not fail for that.
        logger.warning("No champion in the snapshot; the first request loads it",
                       extra={"product": name, "reason": str(exc)})
        return
    logger.info("Champion loaded before the snapshot", extra={"product": name, "version": loaded.version})


def after_restore() -> None:
    """Re-seed the random generators and ask the registry for the champion again."""
    reseed_random()
    name = load_settings(SnapshotSettings).product
    if name is None:
        return
    from finscore.products.scoring import champion

    cache = champion(name)
    cache.expire()
    try:
        loaded = cache.get()
    except FinScoreError as exc:
        # The request that follows answers 503 with the reason; the environment itself stays up.
        logger.warning("Champion unavailable after restore", extra={"product": name, "reason": str(exc)})
        return
    logger.info("Champion re-checked after restore", extra={"product": name, "version": loaded.version})


def reseed_random() -> None:
    """Fresh OS entropy for `random` and, when it is loaded, numpy's global generator."""
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
