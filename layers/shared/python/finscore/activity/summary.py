"""The activity table's hourly items as the dashboard reads them: hours or days, gaps as zeros."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from finscore.activity.tally import SUM_PREFIX, VALUE_PREFIX, count_attribute, hour_of

FIELDS = ("requests", "ok", "client_errors", "server_errors", "records")
SOURCES = {"records.online": "online_records", "records.batch": "batch_records"}


def window(by: str, days: int, now: datetime | None = None) -> tuple[str, str, list[str]]:
    """The first and last hour keys of the DAYS up to NOW, and the window's periods (hours or days)."""
    last = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    first = last - timedelta(hours=24 * days - 1)
    hours = [hour_of(first + timedelta(hours=step)) for step in range(24 * days)]
    periods = hours if by == "hour" else list(dict.fromkeys(_period(hour, by) for hour in hours))
    return hours[0], hours[-1], periods


def _period(hour: str, by: str) -> str:
    return hour if by == "hour" else hour[:10]


def summarise(items: Iterable[Mapping[str, Any]], by: str, periods: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The window's totals and its series (one entry per period) from an product's hourly ITEMS."""
    grouped: dict[str, dict[str, float]] = {period: defaultdict(float) for period in periods}
    for item in items:
        period = _period(str(item["hour"]), by)
        if period not in grouped:
            continue
        for name, value in item.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "expires_at":
                grouped[period][name] += value
    everything: dict[str, float] = defaultdict(float)
    for counters in grouped.values():
        for name, value in counters.items():
            everything[name] += value
    series = [_entry(period, counters) for period, counters in grouped.items()]
    span = f"{periods[0]}/{periods[-1]}" if periods else ""
    return _entry(span, everything), series


def _entry(period: str, counters: Mapping[str, float]) -> dict[str, Any]:
    entry: dict[str, Any] = {"period": period}
    entry.update({name: int(round(counters.get(name, 0))) for name in FIELDS})
    entry.update({field: int(round(counters.get(name, 0))) for name, field in SOURCES.items()})
    means: dict[str, float] = {}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, value in counters.items():
        if name.startswith(SUM_PREFIX):
            output = name[len(SUM_PREFIX):]
            n = counters.get(count_attribute(output), 0)
            if n:
                means[output] = value / n
        elif name.startswith(VALUE_PREFIX):
            output, _, level = name[len(VALUE_PREFIX):].partition("=")
            counts[output][level] = int(round(value))
    entry["means"] = means
    entry["counts"] = dict(counts)
    return entry
