"""The products: their registry (finscore.products.registry) and what the platform derives from it."""

from __future__ import annotations

from dataclasses import replace

from finscore import resources
from finscore.errors import FieldIssue, NotFound
from finscore.products.spec import ProductSpec


def products() -> dict[str, ProductSpec]:
    """Every product by name, in registry order."""
    from finscore.products.registry import PRODUCTS

    return PRODUCTS


def product(name: str) -> ProductSpec:
    """The spec of product NAME; NotFound (404) naming the known ones otherwise."""
    known = products()
    if name not in known:
        raise NotFound(f"Unknown product {name!r}; known: {', '.join(known)}",
                       [FieldIssue("product", "not a product of this deployment")])
    return known[name]


def all_functions() -> tuple[resources.FunctionSpec, ...]:
    """The platform's functions and every product's. Batch scoring also reads the stores products
    complete batch rows from (their specs' enrich_tables); the platform API gets the name of every
    table, which its health check probes (DescribeTable) but never reads."""
    enrich = tuple(dict.fromkeys(table for spec in products().values() for table in spec.enrich_tables))
    probed = tuple(table for table in all_tables() if table not in resources.PLATFORM_API.tables)

    def completed(fn: resources.FunctionSpec) -> resources.FunctionSpec:
        if fn == resources.BATCH_SCORE:
            return replace(fn, tables=fn.tables + enrich, listings=fn.listings + enrich)
        if fn == resources.PLATFORM_API:
            return replace(fn, tables=fn.tables + probed, key_reads=fn.reads)
        return fn

    platform = tuple(completed(fn) for fn in resources.FUNCTIONS)
    return platform + tuple(fn for spec in products().values() for fn in spec.all_functions)


def function(name: str) -> resources.FunctionSpec:
    """The function NAME of the platform or of any product."""
    functions = {fn.name: fn for fn in all_functions()}
    if name not in functions:
        raise KeyError(f"No function {name!r}; the functions are {sorted(functions)}")
    return functions[name]


def all_tables() -> tuple[resources.TableSpec, ...]:
    return resources.TABLES + tuple(table for spec in products().values() for table in spec.tables)


def all_queues() -> tuple[resources.QueueSpec, ...]:
    return resources.QUEUES + tuple(queue for spec in products().values() for queue in spec.queues)


def all_topics() -> tuple[resources.TopicSpec, ...]:
    return tuple(topic for spec in products().values() for topic in spec.topics)
