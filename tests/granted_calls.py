"""Every DynamoDB call a handler makes in the tests is one its role is granted in AWS, and no handler
of REST routes scans.

Handlers loaded by tests/handlers.py run with their function's name set; SDK calls made meanwhile are
recorded as (function, table, action) and checked against FunctionSpec.dynamodb_actions, the same
grants the CDK app writes into each role. A call the role would be refused fails the test that made
it, here rather than in a deployment. A Scan made while serving a request reads a whole table per
request, whatever the grants say: it fails the test too.
"""

from __future__ import annotations

import contextvars
from typing import Any

CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("finscore_function", default=None)
# TransactWriteItems is authorised per item.
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def table_actions(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(table name, IAM action) pairs that one DynamoDB call is authorised by."""
    if operation == "TransactWriteItems":
        return [(body["TableName"], TRANSACT_ACTIONS[kind]) for item in params.get("TransactItems", [])
                for kind, body in item.items()]
    if operation == "TransactGetItems":
        return [(item["Get"]["TableName"], "GetItem") for item in params.get("TransactItems", [])]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(table, operation) for table in params.get("RequestItems", {})]
    if "TableName" in params:
        return [(params["TableName"], operation)]
    return []


class CallRecorder:
    """botocore's before-parameter-build hook for DynamoDB (it sees the call's parameters): records the
    calls made while a handler runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        function = CURRENT_FUNCTION.get()
        if function is not None:
            self.calls += [(function, table, action) for table, action in table_actions(model.name, params)]

    def refused(self) -> list[str]:
        """The recorded calls no role grant covers, described."""
        from finscore import resources
        from finscore.products import all_tables
        from finscore.products import function as function_spec

        by_name = {resources.local_name(table.logical_id): table for table in all_tables()}
        found = []
        for function, table_name, action in sorted(set(self.calls)):
            table = by_name.get(table_name)
            if table is None:
                continue  # a table a test made for itself
            # Handlers are loaded by their function's name (tests/handlers.py), so it names a spec.
            granted = function_spec(function).dynamodb_actions().get(table, ())
            if action not in granted:
                found.append(f"{function}: dynamodb:{action} on {table.logical_id} (granted: {', '.join(granted) or 'nothing'})")
        return found

    def scans_on_request_paths(self) -> list[str]:
        """The recorded Scans of functions that serve REST routes, described."""
        from finscore.products import function as function_spec

        return [f"{function}: dynamodb:Scan on {table}" for function, table, action in sorted(set(self.calls))
                if action == "Scan" and function_spec(function).serves_rest]
