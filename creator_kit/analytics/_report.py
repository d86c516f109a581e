"""The whole analytics report as plain JSON-able values."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import polars as pl

from creator_kit.analytics._cost import cost_from_aggregates
from creator_kit.analytics._queries import (
    aggregate_generations,
    daily_frame,
    histogram_frame,
    models_frame,
    summary_values,
)
from creator_kit.analytics._range import TimeRange
from creator_kit.storage import Workspace

__all__ = ["analytics_report"]

logger = logging.getLogger(__name__)


def analytics_report(
    workspace: Workspace, time_range: TimeRange | str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Compute every number of the Analytics page in one pass over the generations.

    Parameters
    ----------
    workspace
        The workspace to read.
    time_range
        A `TimeRange` or a range name (``24h``, ``7d``, ``30d``, ``all``).
    now
        The end of an open range for the monthly projection; the clock's UTC
        time by default.

    Returns
    -------
    dict
        ``summary`` (``total_requests``, ``success_rate``, ``avg_ttft_ms``,
        ``abort_rate``), ``models`` (list of ``{provider, model, requests,
        success_rate, avg_ttft_ms, p50_ttft_ms, p95_ttft_ms}``),
        ``latency_histogram`` (list of ``{bucket, count}`` in bucket order),
        ``daily`` (list of ``{date, requests, tokens, avg_ttft_ms}``, dates as
        ISO strings) and ``cost`` (see `cost_analysis`). Rates are fractions
        in [0, 1], times in milliseconds, money in USD; a value that cannot be
        computed (no runs, no price) is None.
    """
    aggregates = aggregate_generations(workspace, time_range)
    daily = daily_frame(aggregates).with_columns(pl.col("date").cast(pl.String))
    report = {
        "summary": summary_values(aggregates),
        "models": models_frame(aggregates).to_dicts(),
        "latency_histogram": histogram_frame(aggregates).to_dicts(),
        "daily": daily.to_dicts(),
        "cost": cost_from_aggregates(workspace, aggregates, now=now),
    }
    logger.debug("analytics report of %s: %d requests", workspace.path, report["summary"]["total_requests"])
    return report
