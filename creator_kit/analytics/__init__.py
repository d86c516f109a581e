"""Analytics over a workspace: time ranges, queries, prices and charts.

Every query is a pure function of a workspace and a time range that returns a
Polars frame or plain values. "Latency" means time to first token (TTFT) of
successful runs. Prices come from the user's overrides, then the
`genai-prices` package, then LiteLLM's price table (see `estimate_cost`).
"""

from __future__ import annotations

from creator_kit.analytics._cost import cost_analysis
from creator_kit.analytics._overview import overview_stats
from creator_kit.analytics._pricing import (
    PRICE_UNKNOWN,
    PROVIDER_ALIASES,
    CostEstimate,
    estimate_cost,
    estimate_video_cost,
    find_price_card,
)
from creator_kit.analytics._queries import (
    LATENCY_BUCKETS,
    abort_rate,
    daily_trends,
    data_extent,
    latency_histogram,
    model_performance,
)
from creator_kit.analytics._range import RANGE_CHOICES, TimeRange, parse_range
from creator_kit.analytics._report import analytics_report

__all__ = [
    "LATENCY_BUCKETS",
    "PRICE_UNKNOWN",
    "PROVIDER_ALIASES",
    "RANGE_CHOICES",
    "CostEstimate",
    "TimeRange",
    "abort_rate",
    "analytics_report",
    "cost_analysis",
    "daily_trends",
    "data_extent",
    "estimate_cost",
    "estimate_video_cost",
    "find_price_card",
    "latency_histogram",
    "model_performance",
    "overview_stats",
    "parse_range",
]
