"""Propensity data access: stocks with their latest market features, daily bars, investors' histories.

The only module of the propensity product that talks to DynamoDB, through finscore.dynamo.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from finscore.dynamo import Table, serialize

# Every stock is listed under this one partition of the by_universe index, so the universe a ranking
# runs over is one query, never a scan.
UNIVERSE = "all"
BY_UNIVERSE_INDEX = "by_universe"


class StockStore(Table):
    """One item per stock: name, sector, category and its market fields as of its latest bar."""

    def get_many(self, stock_ids: Sequence[str]) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return super().get_many("stock_id", stock_ids)

    def put_many(self, stocks: Iterable[Mapping[str, Any]]) -> int:
        return super().put_many({**stock, "universe": UNIVERSE} for stock in stocks)

    def universe(self) -> list[dict[str, Any]]:
        """Every stock, in stock_id order."""
        return self.query_all(IndexName=BY_UNIVERSE_INDEX, KeyConditionExpression="universe = :u",
                              ExpressionAttributeValues=serialize({":u": UNIVERSE}))


class BarStore(Table):
    """Daily bars per stock, sorted by date; a bar put again for the same day replaces it."""

    def put_many(self, bars: Iterable[Mapping[str, Any]]) -> int:
        return super().put_many({**bar, "date": str(bar["date"])} for bar in bars)

    def recent(self, stock_id: str, count: int) -> list[dict[str, Any]]:
        """The stock's latest COUNT bars, oldest first."""
        page = self.query_page(f"bars:{stock_id}", count, None, key_names=("stock_id", "date"),
                               KeyConditionExpression="stock_id = :s",
                               ExpressionAttributeValues=serialize({":s": stock_id}), ScanIndexForward=False)
        return list(reversed(page.items))


class InvestorStore(Table):
    """One item per investor: risk tolerance and purchase history summarised as of a day."""

    def get_many(self, user_ids: Sequence[str]) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        return super().get_many("user_id", user_ids)

    def get(self, user_id: str) -> dict[str, Any] | None:  # type: ignore[override]
        return super().get({"user_id": user_id})
