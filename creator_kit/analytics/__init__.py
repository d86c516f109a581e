"""Analytics over a workspace: time ranges, queries, prices and charts."""

from __future__ import annotations

from creator_kit.analytics._range import RANGE_CHOICES, TimeRange, parse_range

__all__ = ["RANGE_CHOICES", "TimeRange", "parse_range"]
