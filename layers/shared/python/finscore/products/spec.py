"""The product contract: what a product declares once, and the shapes of the parts it plugs in.

A product is one ProductSpec in its own package. The platform (API, batch, retraining, drift, the
CDK app, the local run, the benchmarks and the tests) reads specs from finscore.products and never
names a product. Specs hold references as "module:attribute" strings, imported on first use, so
that reading every spec stays cheap: the CDK app, the local gateway and a cold scoring function all
read the registry, and none of them should import a model, a trainer or another product's schemas.

The serving path of every product is the same pipeline, whoever calls it (the API's single and
batch routes, batch files, the promotion gate, drift capture, the local seed):

    records or a file's rows -> Columns (one array per field) -> [enrich from the product's stores]
        -> FeatureSet.matrix(columns) -> ServingModel.predict(matrix, columns) -> outputs by name

where the outputs are exactly the manifest's outputs, in its order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol, Sequence

from finscore.products.columns import Columns
from finscore import resources
from finscore.resources import FunctionSpec, QueueSpec, TableSpec, TopicSpec

class FeatureSet(Protocol):
    """A product's one feature module, seen from the platform."""

    @property
    def specs(self) -> Sequence[Any]:  # finscore.models.manifest.FeatureSpec, in model order
        ...

    def matrix(self, columns: Columns) -> Any:  # float32 (rows, features)
        ...


# The folder under functions/ of the handler every product's API function runs (finscore.products.api).
PRODUCT_API_FOLDER = resources.PRODUCT_API_FOLDER


class ServingModel(Protocol):
    """A champion version loaded for serving: built once per execution environment, then pure.

    A model whose scores come from a binary booster declares its native scorer by also having
    `trees` (the callable giving the positive-class probability of each matrix row: the ONNX graph
    as loaded) and `with_trees(trees)` (the same model over other trees of the same version); a model
    of several boosters has `boosters(matrix)` (each one's prediction, by the names of the manifest's
    extra["native"]) and `with_boosters(boosters)`. Batch files then score with the version's native
    boosters where they agree with the ONNX graphs by the version's parity rule
    (finscore.models.native); the API always scores with ONNX.
    """

    @classmethod
    def load(cls, manifest: Any, read: Callable[[str], bytes]) -> ServingModel: ...

    def predict(self, matrix: Any, columns: Columns) -> dict[str, Any]: ...




@dataclass(frozen=True)
class ProductSpec:
    """Everything the platform knows about a product."""

    name: str
    description: str
    # "module:attribute" references, imported on first use.
    features: str                 # a FeatureSet
    model: str                    # a ServingModel class
    record: str                   # the pydantic model of one scoring row (API records, batch file rows)
    routes: str                   # the Powertools Router with the product's routes
    api: FunctionSpec             # the function serving ROUTES (functions/product_api unless it says otherwise)
    trainer: str | None = None    # a module of training/ satisfying training.pipeline.Trainer
    # Fills fields a record may leave out (features kept in the product's stores) for a batch of
    # records: enrich(columns, count) -> (columns, {row index: reason it cannot be scored}).
    enrich: str | None = None
    # The tables ENRICH reads: batch scoring gets their names and read access.
    enrich_tables: tuple[TableSpec, ...] = ()
    # Fills the product's stores in the local run: seed(names, champion LoadedModel) -> summary.
    seed: str | None = None
    functions: tuple[FunctionSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    # Default retraining schedule (cdk.json retrainSchedules.<name> overrides it).
    retrain_schedule: str | None = None
    # Features the drift monitor compares; empty: every feature of the model.
    drift_features: tuple[str, ...] = ()
    # A request that scores one record with everything it needs in the body: the warm and cold
    # benchmark, the fresh-process import test and the local run's example call.
    example_event: str = ""       # path under events/
    # A request that scores a record from the product's own stores (by id), if it has one: the local
    # gateway load of `make bench` serves it beside the example request.
    stored_event: str = ""        # path under events/
    # Training of a small model (tests, quick local runs): rows of synthetic data and trainer config.
    quick_training: Mapping[str, Any] = field(default_factory=dict)

    @property
    def all_functions(self) -> tuple[FunctionSpec, ...]:
        return (self.api, *self.functions)


def load(reference: Any) -> Any:
    """The object a "module:attribute" reference names; a spec built at run time from data (a custom
    model's) holds its parts themselves, which are returned as they are."""
    return _imported(reference) if isinstance(reference, str) else reference


@lru_cache(maxsize=None)
def _imported(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
