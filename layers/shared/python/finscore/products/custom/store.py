"""DynamoDB access for custom models: one item per name holding its definition and its training status.

Statuses: queued (registered, its run not started) -> training -> ready | failed; retired after DELETE.
A run owns the item by its training id: a status is written only while the item still names that run,
so a late or repeated run can never overwrite what a newer one recorded, and a redelivered start of
the same run changes nothing it has already moved past.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from finscore.dynamo import ConditionFailed, Table, call, deserialize, serialize

STATUSES = ("queued", "training", "ready", "failed", "retired")
# Where a run may move the status from, by the status it records.
MOVES_FROM = {"training": ("queued",), "ready": ("training",), "failed": ("queued", "training")}
# Longer than the retrain function's timeout (resources.MODEL_RETRAIN, 900 s): a run still "training"
# after this long has died.
STALE_RUN_S = 1200
# Every item carries this in its catalog attribute, so that the by_catalog index lists them in one query.
CATALOG = "custom-models"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CustomModels:
    def __init__(self, table_name: str):
        self.table_name = table_name
        self._table = Table(table_name)

    def get(self, name: str) -> dict[str, Any] | None:
        return self._table.get({"name": name})

    def all(self) -> list[dict[str, Any]]:
        """Every custom model by name, retired ones included."""
        return self._table.query_all(IndexName="by_catalog", KeyConditionExpression="catalog = :c",
                                     ExpressionAttributeValues={":c": {"S": CATALOG}})

    def register(self, name: str, definition: Mapping[str, Any], training_id: str, actor: str) -> dict[str, Any]:
        """Put NAME's definition with a queued run TRAINING_ID, unless a run of it is training now
        (ConditionFailed; a run silent for STALE_RUN_S has died and does not count). What the last
        finished run recorded (its version, metrics) stays until the new run replaces it."""
        moment = now()
        existing = self.get(name) or {}
        item = {
            **{key: value for key, value in existing.items() if key in ("created_at", "last_run", "champion")},
            "name": name,
            "catalog": CATALOG,
            "definition": dict(definition),
            "status": "queued",
            "training_id": training_id,
            "reasons": [],
            "registered_by": actor,
            "created_at": existing.get("created_at", moment),
            "updated_at": moment,
        }
        # A run that has said nothing for longer than the retrain function may run has died (a timeout,
        # a crash): it no longer holds the model.
        stale = (datetime.now(timezone.utc) - timedelta(seconds=STALE_RUN_S)).isoformat(timespec="seconds")
        call("put_item", TableName=self.table_name, Item=serialize(item),
             ConditionExpression="attribute_not_exists(#n) OR #s <> :training OR updated_at < :stale",
             ExpressionAttributeNames={"#n": "name", "#s": "status"},
             ExpressionAttributeValues={":training": {"S": "training"}, ":stale": {"S": stale}})
        return item

    def record(self, name: str, training_id: str, status: str, **fields: Any) -> bool:
        """Move run TRAINING_ID of NAME to STATUS with FIELDS; False when the item names another run or
        has moved past what STATUS may follow (a stale or repeated run: nothing is written)."""
        values = {":id": training_id, ":status": status, ":updated": now(),
                  **{f":from{index}": value for index, value in enumerate(MOVES_FROM[status])}}
        names = {"#s": "status"}
        sets = ["#s = :status", "updated_at = :updated"]
        for index, (key, value) in enumerate(fields.items()):
            names[f"#f{index}"] = key
            values[f":f{index}"] = value
            sets.append(f"#f{index} = :f{index}")
        allowed = " OR ".join(f"#s = :from{index}" for index in range(len(MOVES_FROM[status])))
        try:
            call("update_item", TableName=self.table_name, Key=serialize({"name": name}),
                 UpdateExpression="SET " + ", ".join(sets),
                 ConditionExpression=f"training_id = :id AND ({allowed})",
                 ExpressionAttributeNames=names,
                 ExpressionAttributeValues=serialize(values))
        except ConditionFailed:
            return False
        return True

    def retire(self, name: str, actor: str) -> dict[str, Any] | None:
        """Mark NAME retired (it no longer scores); None when there is no such model. Retiring twice is
        the same as once."""
        try:
            answer = call("update_item", TableName=self.table_name, Key=serialize({"name": name}),
                          UpdateExpression="SET #s = :retired, retired_by = :actor, retired_at = :at, updated_at = :at",
                          ConditionExpression="attribute_exists(#n)",
                          ExpressionAttributeNames={"#s": "status", "#n": "name"},
                          ExpressionAttributeValues=serialize({":retired": "retired", ":actor": actor, ":at": now()}),
                          ReturnValues="ALL_NEW")
        except ConditionFailed:
            return None
        return deserialize(answer["Attributes"])
