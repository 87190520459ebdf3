"""The DynamoDB model registry: every version of every product and its one champion.

Items are keyed (product, version). The champion pointer of a product is the item whose version is
CHAMPION_KEY: it names the champion and the champions before it (for rollback). Promote and rollback
change the pointer and both version items in one transaction conditioned on the pointer not having
moved, so two concurrent promotions cannot leave two champions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from finscore.dynamo import ConditionFailed, Table, call, serialize
from finscore.errors import Conflict, NotFound
from finscore.models.manifest import Manifest

Status = Literal["candidate", "champion", "rejected", "archived"]
CHAMPION_KEY = "@champion"
# Rollback depth kept on the pointer; older champions stay in the registry as archived.
HISTORY_DEPTH = 20


@dataclass(frozen=True)
class RegistryEntry:
    product: str
    version: str
    status: Status
    created_at: str
    primary_metric: str
    primary_value: float
    status_reason: str = ""
    updated_at: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    # Who or what made it champion (the promotion gate, an admin, a rollback) and when.
    promoted_by: str = ""
    promoted_at: str = ""
    # The promotion gate's comparison that decided its status: rows, basis, difference, interval.
    gate: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "RegistryEntry":
        return cls(
            product=item["product"],
            version=item["version"],
            status=item["status"],
            created_at=item.get("created_at", ""),
            primary_metric=item.get("primary_metric", ""),
            primary_value=float(item.get("primary_value", 0)),
            status_reason=item.get("status_reason", ""),
            updated_at=item.get("updated_at", ""),
            metrics=item.get("metrics", {}),
            hyperparameters=item.get("hyperparameters", {}),
            training_data=item.get("training_data", {}),
            promoted_by=item.get("promoted_by", ""),
            promoted_at=item.get("promoted_at", ""),
            gate=item.get("gate", {}),
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ModelRegistry:
    def __init__(self, table_name: str):
        self.table_name = table_name
        self._table = Table(table_name)

    def register(self, manifest: Manifest, status: Status = "candidate") -> RegistryEntry:
        """Record a new version; registering the same version twice is a conflict, never an overwrite."""
        item = {
            "product": manifest.product,
            "version": manifest.version,
            "status": status,
            "created_at": manifest.created_at,
            "updated_at": _now(),
            "primary_metric": manifest.primary_metric,
            "primary_value": manifest.primary_value,
            "metrics": {k: v for k, v in manifest.metrics.items() if isinstance(v, (int, float))},
            "hyperparameters": manifest.hyperparameters,
            "training_data": {"reference": manifest.training_data.reference, "rows": manifest.training_data.rows,
                              "split": manifest.training_data.split},
        }
        try:
            call("put_item", TableName=self.table_name, Item=serialize(item),
                 ConditionExpression="attribute_not_exists(version)")
        except ConditionFailed as exc:
            raise Conflict(f"{manifest.product} version {manifest.version} is already registered") from exc
        return RegistryEntry.from_item(item)

    def get(self, product: str, version: str) -> RegistryEntry:
        item = self._get_item(product, version)
        if item is None or version == CHAMPION_KEY:
            raise NotFound(f"{product} has no version {version}")
        return RegistryEntry.from_item(item)

    def list_versions(self, product: str) -> list[RegistryEntry]:
        """Every registered version of PRODUCT, newest first."""
        items = self._table.query_all(KeyConditionExpression="product = :p",
                                      ExpressionAttributeValues={":p": {"S": product}})
        entries = [RegistryEntry.from_item(item) for item in items if item["version"] != CHAMPION_KEY]
        return sorted(entries, key=lambda entry: entry.created_at + entry.version, reverse=True)

    def has_versions(self, product: str) -> bool:
        """Whether anything is registered for PRODUCT (one key read, not a listing)."""
        answer = call("query", TableName=self.table_name, KeyConditionExpression="product = :p",
                      ExpressionAttributeValues={":p": {"S": product}}, Limit=1, ProjectionExpression="version")
        return bool(answer.get("Items"))

    def champion_version(self, product: str) -> str | None:
        pointer = self._get_item(product, CHAMPION_KEY)
        return pointer.get("champion_version") if pointer else None

    def champion_history(self, product: str) -> list[str]:
        pointer = self._get_item(product, CHAMPION_KEY)
        return list(pointer.get("history", [])) if pointer else []

    def promote(self, product: str, version: str, reason: str = "promoted", actor: str = "unspecified",
                gate: dict[str, Any] | None = None) -> RegistryEntry:
        """Make VERSION the champion; the previous champion is archived and kept for rollback. ACTOR says
        who or what promoted it (the promotion gate, an admin key, the local model cache); GATE is the
        promotion gate's comparison, when it decided."""
        entry = self.get(product, version)
        if entry.status == "champion":
            return entry
        if entry.status == "rejected":
            raise Conflict(f"{product} {version} was rejected and cannot be promoted")
        pointer = self._get_item(product, CHAMPION_KEY)
        previous = pointer.get("champion_version") if pointer else None
        history = ([previous] if previous else []) + list(pointer.get("history", []) if pointer else [])
        self._swap(product, pointer, new=version, history=history[:HISTORY_DEPTH], old=previous,
                   reason=reason, actor=actor, gate=gate)
        return self.get(product, version)

    def rollback(self, product: str, reason: str = "rolled back", actor: str = "unspecified",
                 expected: str | None = None) -> RegistryEntry:
        """Restore the champion before the current one; with EXPECTED, only if that is the one it restores
        (the version a caller checked before asking)."""
        pointer = self._get_item(product, CHAMPION_KEY)
        history = list(pointer.get("history", [])) if pointer else []
        if not history:
            raise Conflict(f"{product} has no previous champion to roll back to")
        if expected is not None and history[0] != expected:
            raise Conflict(f"The champion of {product} changed concurrently; retry")
        self._swap(product, pointer, new=history[0], history=history[1:], old=pointer["champion_version"],
                   reason=reason, actor=actor)
        return self.get(product, history[0])

    def reject(self, product: str, version: str, reason: str, gate: dict[str, Any] | None = None) -> RegistryEntry:
        try:
            call(
                "update_item",
                TableName=self.table_name,
                Key={"product": {"S": product}, "version": {"S": version}},
                UpdateExpression="SET #s = :rejected, status_reason = :r, updated_at = :t, gate = :g",
                ConditionExpression="attribute_exists(version) AND #s = :candidate",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=serialize(
                    {":rejected": "rejected", ":candidate": "candidate", ":r": reason, ":t": _now(), ":g": gate or {}}
                ),
            )
        except ConditionFailed as exc:
            raise Conflict(f"{product} {version} is not a candidate") from exc
        return self.get(product, version)

    def check(self) -> str:
        """The registry table's status; ServiceUnavailable saying why it cannot serve."""
        return self._table.check()

    def _swap(self, product: str, pointer: dict | None, *, new: str, history: list[str], old: str | None,
              reason: str, actor: str, gate: dict[str, Any] | None = None) -> None:
        now = _now()
        table = self.table_name
        pointer_update: dict[str, Any] = {
            "Update": {
                "TableName": table,
                "Key": {"product": {"S": product}, "version": {"S": CHAMPION_KEY}},
                "UpdateExpression": "SET champion_version = :new, history = :history, updated_at = :t",
                "ExpressionAttributeValues": {
                    ":new": {"S": new},
                    ":history": {"L": [{"S": v} for v in history]},
                    ":t": {"S": now},
                },
            }
        }
        # Optimistic lock on the pointer: the swap only applies if nobody moved the champion meanwhile.
        if pointer:
            pointer_update["Update"]["ConditionExpression"] = "champion_version = :expected"
            pointer_update["Update"]["ExpressionAttributeValues"][":expected"] = {"S": pointer["champion_version"]}
        else:
            pointer_update["Update"]["ConditionExpression"] = "attribute_not_exists(champion_version)"
        champion = {
            "Update": {
                "TableName": table,
                "Key": {"product": {"S": product}, "version": {"S": new}},
                "UpdateExpression": "SET #s = :s, status_reason = :r, updated_at = :t, promoted_by = :by, "
                                    "promoted_at = :t, gate = :g",
                "ConditionExpression": "attribute_exists(version)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": serialize({":s": "champion", ":r": reason, ":t": now, ":by": actor,
                                                        ":g": gate or {}}),
            }
        }
        items = [pointer_update, champion]
        if old and old != new:
            items.append({
                "Update": {
                    "TableName": table,
                    "Key": {"product": {"S": product}, "version": {"S": old}},
                    "UpdateExpression": "SET #s = :s, status_reason = :r, updated_at = :t",
                    "ConditionExpression": "attribute_exists(version)",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": serialize({":s": "archived", ":r": f"replaced by {new}", ":t": now}),
                }
            })
        try:
            call("transact_write_items", TransactItems=items)
        except ConditionFailed as exc:
            raise Conflict(f"The champion of {product} changed concurrently; retry") from exc

    def _get_item(self, product: str, version: str) -> dict | None:
        return self._table.get({"product": product, "version": version})
