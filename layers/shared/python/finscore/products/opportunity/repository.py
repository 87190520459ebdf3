"""Opportunity data access: businesses by location, locations with their sentiment sums, review texts
and economic indicators.

The only module of the opportunity product that talks to DynamoDB, through finscore.dynamo.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from finscore.dynamo import ConditionFailed, Table, call, deserialize, serialize

# Every location item carries this catalog value, so by_catalog lists them all in one query.
CATALOG = "all"
# The indicators are one series (the country's); the key leaves room for regional ones.
SERIES = "national"


class BusinessStore(Table):
    """One item per business."""

    def in_location(self, location: str) -> list[dict[str, Any]]:
        """Every business of LOCATION (a query of the location index, never a scan)."""
        return self.query_all(IndexName="by_location", KeyConditionExpression="#l = :l",
                              ExpressionAttributeNames={"#l": "location"},
                              ExpressionAttributeValues=serialize({":l": location}))


class LocationStore(Table):
    """One item per location: city, neighbourhood, business count and the sentiment sums."""

    def one(self, location: str) -> dict[str, Any] | None:
        return self.get({"location": location})

    def many(self, locations: Sequence[str]) -> dict[str, dict[str, Any]]:
        return self.get_many("location", list(locations))

    def every(self) -> list[dict[str, Any]]:
        return self.query_all(IndexName="by_catalog", KeyConditionExpression="catalog = :c",
                              ExpressionAttributeValues=serialize({":c": CATALOG}))

    def add_reviews(self, location: str, count: int, compound_sum: float, latest: str) -> dict[str, Any]:
        """Add COUNT reviews whose compounds sum to COMPOUND_SUM to an existing location; its new sums.
        The latest review time only moves forward."""
        try:
            answer = call("update_item", TableName=self.name, Key=serialize({"location": location}),
                          UpdateExpression="ADD review_count :n, compound_sum :s SET last_review_at = :t",
                          ConditionExpression="attribute_exists(#l) AND (attribute_not_exists(last_review_at) "
                                              "OR last_review_at < :t)",
                          ExpressionAttributeNames={"#l": "location"},
                          ExpressionAttributeValues=serialize({":n": count, ":s": compound_sum, ":t": latest}),
                          ReturnValues="ALL_NEW")
        except ConditionFailed:
            # A later review is stored already (or, raced, the location vanished): add without moving it.
            answer = call("update_item", TableName=self.name, Key=serialize({"location": location}),
                          UpdateExpression="ADD review_count :n, compound_sum :s",
                          ConditionExpression="attribute_exists(#l)", ExpressionAttributeNames={"#l": "location"},
                          ExpressionAttributeValues=serialize({":n": count, ":s": compound_sum}),
                          ReturnValues="ALL_NEW")
        return deserialize(answer["Attributes"])


class ReviewStore(Table):
    """Every review text once, under its location and text hash."""

    def insert(self, item: Mapping[str, Any]) -> bool:
        """Store a review unless its text is stored for its location already; whether it was new."""
        try:
            call("put_item", TableName=self.name, Item=serialize(item),
                 ConditionExpression="attribute_not_exists(text_key)")
        except ConditionFailed:
            return False
        return True


class IndicatorStore(Table):
    """Economic indicators by effective date."""

    def latest(self, on: str) -> dict[str, Any] | None:
        """The indicators in effect on the ISO date ON: the latest effective on or before it."""
        page = self.query_page("indicators", 1, None, key_names=("series", "effective_date"),
                               KeyConditionExpression="series = :s AND effective_date <= :d",
                               ExpressionAttributeValues=serialize({":s": SERIES, ":d": on}), ScanIndexForward=False)
        return page.items[0] if page.items else None

    def put(self, item: Mapping[str, Any]) -> None:
        """Store the indicators of an effective date (the same date again replaces them)."""
        call("put_item", TableName=self.name, Item=serialize({"series": SERIES, **item}))
