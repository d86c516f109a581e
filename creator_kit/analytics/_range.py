"""Time ranges: 24h, 7d, 30d, all, or explicit since/until dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from creator_kit.errors import InvalidInputError

__all__ = ["RANGE_CHOICES", "TimeRange", "parse_range"]

RANGE_CHOICES = ("24h", "7d", "30d", "all")

_SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclass(frozen=True)
class TimeRange:
    """A half-open UTC interval ``[since, until)``; None means unbounded.

    `label` is what the user chose: ``"24h"``, ``"7d"``, ``"30d"``, ``"all"``
    or ``"custom"``.
    """

    since: datetime | None
    until: datetime | None
    label: str

    def filter(self, lazy: pl.LazyFrame, column: str = "created_at") -> pl.LazyFrame:
        """Keep the rows of `lazy` whose `column` falls in the range."""
        if self.since is not None:
            lazy = lazy.filter(pl.col(column) >= self.since)
        if self.until is not None:
            lazy = lazy.filter(pl.col(column) < self.until)
        return lazy

    @property
    def days(self) -> float | None:
        """Length of the range in days, or None when either end is open."""
        if self.since is None or self.until is None:
            return None
        return (self.until - self.since).total_seconds() / 86400


def parse_range(
    range_: str | None = "7d",
    *,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    now: datetime | None = None,
) -> TimeRange:
    """Build a `TimeRange` from a range name or explicit dates.

    `since` and `until` win over `range_`. A date without a time means
    midnight UTC; `until` as a plain date is inclusive of that whole day.

    Raises
    ------
    InvalidInputError
        If the range name or a date cannot be parsed, or `since` is not
        before `until`.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> parse_range("24h", now=datetime(2026, 1, 2, tzinfo=UTC)).since
    datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_range(since="2026-01-01", until="2026-01-31").until
    datetime.datetime(2026, 2, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    now = now or datetime.now(UTC)
    if since is not None or until is not None:
        start = _parse_time(since, "since", end_of_day=False) if since is not None else None
        end = _parse_time(until, "until", end_of_day=True) if until is not None else None
        if start is not None and end is not None and start >= end:
            msg = f"--since {since} is not before --until {until}; swap them or widen the range"
            raise InvalidInputError(msg)
        return TimeRange(start, end, "custom")

    label = (range_ or "7d").strip().lower()
    if label == "all":
        return TimeRange(None, None, "all")
    if label not in _SPANS:
        msg = f"unknown time range {range_!r}; use one of {', '.join(RANGE_CHOICES)}, or --since/--until"
        raise InvalidInputError(msg)
    return TimeRange(now - _SPANS[label], None, label)


def _parse_time(value: str | date | datetime, name: str, *, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(), UTC)
        return parsed + timedelta(days=1) if end_of_day else parsed
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                parsed = datetime.combine(day, time(), UTC)
                return parsed + timedelta(days=1) if end_of_day else parsed
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            msg = f"invalid --{name} value {value!r}; use a date like 2026-01-31 or an ISO time like 2026-01-31T12:00:00Z"
            raise InvalidInputError(msg) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
