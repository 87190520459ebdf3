"""A custom model as the platform's scoring sees a product: a ProductSpec built from data, not declared.

Its API and its batch files (incoming/custom/<name>/, scored by the model key custom-<name>) score
through the same Scorer as every product, so drift capture and activity counting come with it. The
spec's feature set, record schema and row checks come from the version that scores, since each
version carries its own inferred schema: every column the version was trained on is a field of any
type, and the schema's own checks (wrong types, values out of the training range where that
matters) reject a row with its reasons, so a batch row fails exactly as an API record does.
"""

from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, create_model

from finscore import resources
from finscore.models.manifest import Manifest
from finscore.products.columns import Columns
from finscore.products.custom.definition import MODEL_KEY_PREFIX
from finscore.products.custom.schema import CustomSchema
from finscore.products.spec import ProductSpec

# incoming/custom/<name>/<file>: the folder of custom models' batch files under incoming/.
BATCH_FOLDER = "custom"
MODEL = "finscore.products.custom.model:CustomModel"


def is_custom(product: str) -> bool:
    return product.startswith(MODEL_KEY_PREFIX)


def custom_product(key: str) -> ProductSpec:
    """The spec of custom model KEY (custom-<name>) before a version is chosen: enough to load one."""
    return ProductSpec(name=key, description=f"Custom model {key.removeprefix(MODEL_KEY_PREFIX)}",
                       features="", model=MODEL, record="", routes="", api=resources.CUSTOM_API)


def for_version(spec: ProductSpec, manifest: Manifest) -> ProductSpec:
    """SPEC completed with what the version MANIFEST was trained on."""
    schema, record, checks = _parts(manifest)
    return ProductSpec(name=spec.name, description=spec.description, features=schema, model=spec.model,
                       record=record, routes=spec.routes, api=spec.api, enrich=checks)


# The parts of the versions scored lately, by (model key, version): one version's file is read in blocks.
_PARTS: dict[tuple[str, str], tuple[CustomSchema, type[BaseModel], Callable]] = {}
KEPT_VERSIONS = 16


def _parts(manifest: Manifest) -> tuple[CustomSchema, type[BaseModel], Callable]:
    key = (manifest.product, manifest.version)
    found = _PARTS.get(key)
    if found is None:
        if len(_PARTS) >= KEPT_VERSIONS:
            _PARTS.clear()
        found = _PARTS[key] = _build(manifest)
    return found


def _build(manifest: Manifest) -> tuple[CustomSchema, type[BaseModel], Callable]:
    schema = CustomSchema.from_document(manifest.extra["schema"])
    names = [*schema.names, *([schema.id_column] if schema.id_column else [])]
    # Any value of any column passes the record schema; the schema's checks below judge it.
    record = create_model(f"CustomRecord_{manifest.product}_{manifest.version}".replace("-", "_"),
                          __config__=ConfigDict(extra="ignore"), **{name: (Any, None) for name in names})

    def checks(columns: Columns, count: int) -> tuple[Columns, dict[int, str]]:
        issues = schema.record_issues(columns, require_id=False)
        return columns, {row: "; ".join(f"{issue.field}: {issue.issue}" for issue in found)
                         for row, found in issues.items()}

    return schema, record, checks
