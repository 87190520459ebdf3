"""DynamoDB access for activity: one item per product and UTC hour, counters added atomically.

An item holds `requests`, `ok`, `client_errors`, `server_errors`, `records`, `records.online`,
`records.batch`, and per output `sum.<output>` and `n.<output>` (numeric) or `value.<output>=<value>`
(categorical); `expires_at` lets DynamoDB's TTL drop it after RETENTION_DAYS.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Mapping

from finscore.dynamo import Table, call

RETENTION_DAYS = 400
KEY_NAMES = ("product", "hour")


def add_counts(table: str, product: str, hour: str, counters: Mapping[str, float]) -> None:
    """Add COUNTERS to PRODUCT's item of HOUR (created on the first add)."""
    names = {"#expires": "expires_at"}
    values: dict[str, Any] = {":expires": {"N": str(int(time.time()) + RETENTION_DAYS * 86400)}}
    additions = []
    for index, (name, amount) in enumerate(sorted(counters.items())):
        names[f"#c{index}"] = name
        values[f":c{index}"] = {"N": _number(amount)}
        additions.append(f"#c{index} :c{index}")
    call("update_item", TableName=table, Key={"product": {"S": product}, "hour": {"S": hour}},
         UpdateExpression=f"SET #expires = :expires ADD {', '.join(additions)}",
         ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def hours(table: str, product: str, first: str, last: str) -> list[dict[str, Any]]:
    """PRODUCT's items from hour FIRST to hour LAST, both included, oldest first."""
    return Table(table).query_all(
        KeyConditionExpression="#product = :product AND #hour BETWEEN :first AND :last",
        ExpressionAttributeNames={"#product": "product", "#hour": "hour"},
        ExpressionAttributeValues={":product": {"S": product}, ":first": {"S": first}, ":last": {"S": last}},
    )


def _number(amount: float) -> str:
    # DynamoDB numbers are decimal text: whole counts as integers, sums without an exponent.
    return str(int(amount)) if float(amount).is_integer() else format(Decimal(repr(float(amount))), "f")
