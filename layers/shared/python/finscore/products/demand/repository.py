"""Demand data access: sales by pincode and day, and weekly sales per pincode.

The only module of the demand product that talks to DynamoDB, through finscore.dynamo.
"""

from __future__ import annotations

from typing import Any, Mapping

from finscore.dynamo import ConditionFailed, Table, call, serialize
from finscore.products.demand.catalog import SERIES


def series_attribute(product: str, channel: str) -> str:
    """The attribute of a weekly item counting one series' sales: 'loan_online'."""
    return f"{product}_{channel}"


SERIES_ATTRIBUTES = tuple(series_attribute(product, channel) for product, channel in SERIES)


class SalesStore(Table):
    """Every sale under its pincode, sorted by '<date>#<record id>'."""

    def insert(self, item: Mapping[str, Any]) -> bool:
        """Store a sale unless one with its key is stored already; whether it was new."""
        try:
            call("put_item", TableName=self.name, Item=serialize(item),
                 ConditionExpression="attribute_not_exists(sale_key)")
        except ConditionFailed:
            return False
        return True


class SeriesStore(Table):
    """One item per pincode and week: each series' sales, and the customers' count, age and income sums."""

    def add(self, pincode: str, week: str, city: str, counts: Mapping[str, int], ages: float, incomes: float) -> None:
        """Add COUNTS (by series attribute) and the sums to the week's item, creating it when new."""
        names = {f"#a{index}": name for index, name in enumerate((*counts, "customers", "age_sum", "income_sum"))}
        values = [*counts.values(), sum(counts.values()), ages, incomes]
        call("update_item", TableName=self.name, Key=serialize({"pincode": pincode, "week": week}),
             UpdateExpression="SET city = if_not_exists(city, :city) ADD " + ", ".join(
                 f"{name} :v{index}" for index, name in enumerate(names)),
             ExpressionAttributeNames=names,
             ExpressionAttributeValues=serialize({":city": city, **{f":v{index}": value
                                                                    for index, value in enumerate(values)}}))

    def recent(self, pincode: str, weeks: int) -> list[dict[str, Any]]:
        """The pincode's latest WEEKS weekly items, oldest first."""
        page = self.query_page(f"series:{pincode}", weeks, None, key_names=("pincode", "week"),
                               KeyConditionExpression="pincode = :p",
                               ExpressionAttributeValues=serialize({":p": pincode}), ScanIndexForward=False)
        return list(reversed(page.items))
