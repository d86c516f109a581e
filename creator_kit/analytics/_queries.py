"""Queries over the generations table: model performance, latency, daily trends.

Every query reads the latest state of each generation (a later row with the
same id replaces an earlier one) whose ``created_at`` falls in the time
range, and reads only the columns it needs. "Latency" here is always the time
to first token (TTFT) of successful runs.

All queries share one grouped pass, `aggregate_generations`, at the grain of
(provider, model, UTC day, price segment, price tier). The public functions
derive their frames from it, so the whole report costs one scan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from creator_kit.analytics._pricing import price_segment_boundaries, price_tier_thresholds
from creator_kit.analytics._range import TimeRange, parse_range
from creator_kit.storage import Workspace, collect, scan_table

__all__ = [
    "LATENCY_BUCKETS",
    "GenerationAggregates",
    "abort_rate",
    "aggregate_generations",
    "daily_frame",
    "daily_trends",
    "data_extent",
    "histogram_frame",
    "latency_histogram",
    "latest_generations",
    "model_performance",
    "models_frame",
    "resolve_range",
    "summary_values",
]

logger = logging.getLogger(__name__)

# Bucket labels and their upper bounds in milliseconds (a TTFT equal to a bound
# falls in the next bucket).
LATENCY_BUCKETS = ("0-100 ms", "100-500 ms", "500-1000 ms", "1-2 s", "2-5 s", ">5 s")
_BUCKET_BOUNDS_MS = (100.0, 500.0, 1000.0, 2000.0, 5000.0)

_COLUMNS = (
    "id",
    "recorded_at",
    "created_at",
    "provider",
    "model",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "cost_usd",
)

_KEYS = ("provider", "model", "day", "segment", "tier")

_SUCCESS = pl.col("status") == "success"


@dataclass(frozen=True)
class GenerationAggregates:
    """The grouped generations of one time range, from which every view is derived.

    `groups` has one row per (provider, model, day, segment, tier). `segment`
    (part of the UTC day between off-peak price boundaries) and `tier` (prompt
    size band between price tier thresholds) are 0 on rows whose cost was
    recorded, because only rows without a cost are priced from their tokens.
    `quantiles` has p50/p95 TTFT per (provider, model).
    """

    groups: pl.DataFrame
    quantiles: pl.DataFrame
    time_range: TimeRange


def resolve_range(time_range: TimeRange | str | None) -> TimeRange:
    """Return `time_range` as a `TimeRange`; a string is a range name such as ``"7d"``."""
    if isinstance(time_range, TimeRange):
        return time_range
    return parse_range(time_range or "7d")


def aggregate_generations(workspace: Workspace, time_range: TimeRange | str) -> GenerationAggregates:
    """Compute the grouped generations of `workspace` in `time_range` in one pass."""
    time_range = resolve_range(time_range)
    rows = latest_generations(workspace, time_range).lazy()
    groups, quantiles = _collect_all([_group(rows), _quantiles(rows)], workspace)
    logger.debug("grouped generations of %s in range %s into %d groups", workspace.path, time_range.label, groups.height)
    return GenerationAggregates(groups, quantiles, time_range)


def latest_generations(workspace: Workspace, time_range: TimeRange) -> pl.DataFrame:
    """Return the latest row per generation id created in `time_range`, needed columns only.

    Edits are a few percent of rows, so the ids that repeat are found first
    from sorted 64-bit hashes of the ids. Only the rows with such a hash are
    then reduced exactly by id (newest ``recorded_at`` wins, the later row on
    a tie), so a hash collision costs time, never a wrong result.
    """
    # NOTE: the range filter runs before the latest-row choice, which assumes that
    # every row of one id carries the same created_at (edits copy it).
    scan = time_range.filter(scan_table(workspace, "generations").select(_COLUMNS))
    rows = collect(scan, workspace=workspace)
    hashes = rows.get_column("id").hash()
    ordered = hashes.sort()
    repeated_hashes = ordered.filter(ordered == ordered.shift(1)).unique()
    if repeated_hashes.is_empty():
        return rows.drop("id", "recorded_at")

    may_repeat = hashes.is_in(repeated_hashes.implode())
    candidates = (
        rows.select("id", "recorded_at")
        .with_row_index("_row")
        .filter(may_repeat)
        .sort("recorded_at", maintain_order=True)
    )
    newest = candidates.filter(pl.col("id").is_last_distinct()).get_column("_row")
    keep = (~may_repeat).scatter(newest, True)
    return rows.filter(keep).drop("id", "recorded_at")


def model_performance(workspace: Workspace, time_range: TimeRange | str) -> pl.DataFrame:
    """Compute requests, success rate and TTFT statistics per provider and model.

    Returns
    -------
    polars.DataFrame
        Columns ``provider``, ``model``, ``requests``, ``success_rate``
        (successes over successful, failed and aborted runs; null when there
        are none), ``avg_ttft_ms``, ``p50_ttft_ms`` and ``p95_ttft_ms`` (over
        successful runs, linear interpolation), sorted by requests, most first.
    """
    return models_frame(aggregate_generations(workspace, time_range))


def latency_histogram(workspace: Workspace, time_range: TimeRange | str) -> pl.DataFrame:
    """Count successful runs per TTFT bucket.

    Returns
    -------
    polars.DataFrame
        Columns ``bucket`` (the six labels of `LATENCY_BUCKETS`, in order,
        all present) and ``count``.
    """
    return histogram_frame(aggregate_generations(workspace, time_range))


def daily_trends(workspace: Workspace, time_range: TimeRange | str) -> pl.DataFrame:
    """Compute requests, tokens and mean TTFT per UTC day.

    Returns
    -------
    polars.DataFrame
        Columns ``date`` (UTC day), ``requests``, ``tokens`` (prompt plus
        completion tokens) and ``avg_ttft_ms`` (successful runs), by date.
        Days without requests are absent.
    """
    return daily_frame(aggregate_generations(workspace, time_range))


def abort_rate(workspace: Workspace, time_range: TimeRange | str) -> float | None:
    """Return the share of runs stopped by the user among finished runs, or None without runs."""
    return summary_values(aggregate_generations(workspace, time_range))["abort_rate"]


def data_extent(workspace: Workspace) -> tuple[datetime, datetime] | None:
    """Return the oldest and newest ``created_at`` of the generations, or None when there are none."""
    lazy = scan_table(workspace, "generations").select(
        pl.col("created_at").min().alias("oldest"), pl.col("created_at").max().alias("newest")
    )
    row = collect(lazy, workspace=workspace).row(0)
    if row[0] is None:
        return None
    return row[0], row[1]


def models_frame(aggregates: GenerationAggregates) -> pl.DataFrame:
    """Derive the model performance frame from `aggregates`."""
    per_model = (
        aggregates.groups.group_by("provider", "model")
        .agg(
            pl.col("requests").sum(),
            pl.col("successes").sum(),
            pl.col("finished").sum(),
            pl.col("ttft_sum").sum(),
            pl.col("ttft_count").sum(),
        )
        .join(aggregates.quantiles, on=["provider", "model"], how="left", nulls_equal=True)
    )
    return per_model.select(
        "provider",
        "model",
        pl.col("requests").cast(pl.Int64),
        _ratio("successes", "finished").alias("success_rate"),
        _ratio("ttft_sum", "ttft_count").alias("avg_ttft_ms"),
        pl.col("p50_ttft_ms").cast(pl.Float64),
        pl.col("p95_ttft_ms").cast(pl.Float64),
    ).sort(["requests", "provider", "model"], descending=[True, False, False], nulls_last=True)


def histogram_frame(aggregates: GenerationAggregates) -> pl.DataFrame:
    """Derive the TTFT histogram from `aggregates`."""
    totals = aggregates.groups.select(pl.col(f"h{index}").sum() for index in range(len(LATENCY_BUCKETS))).row(0)
    return pl.DataFrame(
        {"bucket": list(LATENCY_BUCKETS), "count": [int(value or 0) for value in totals]},
        schema={"bucket": pl.String, "count": pl.Int64},
    )


def daily_frame(aggregates: GenerationAggregates) -> pl.DataFrame:
    """Derive the daily trends from `aggregates`."""
    return (
        aggregates.groups.group_by("day")
        .agg(pl.col("requests").sum(), pl.col("tokens").sum(), pl.col("ttft_sum").sum(), pl.col("ttft_count").sum())
        .select(
            pl.col("day").alias("date"),
            pl.col("requests").cast(pl.Int64),
            pl.col("tokens").cast(pl.Int64),
            _ratio("ttft_sum", "ttft_count").alias("avg_ttft_ms"),
        )
        .sort("date")
    )


def summary_values(aggregates: GenerationAggregates) -> dict[str, float | int | None]:
    """Derive total requests, success rate, mean TTFT and abort rate from `aggregates`."""
    totals = aggregates.groups.select(
        pl.col("requests").sum(),
        pl.col("successes").sum(),
        pl.col("aborted").sum(),
        pl.col("finished").sum(),
        pl.col("ttft_sum").sum(),
        pl.col("ttft_count").sum(),
    ).row(0, named=True)
    finished = int(totals["finished"] or 0)
    ttft_count = int(totals["ttft_count"] or 0)
    return {
        "total_requests": int(totals["requests"] or 0),
        "success_rate": totals["successes"] / finished if finished else None,
        "avg_ttft_ms": totals["ttft_sum"] / ttft_count if ttft_count else None,
        "abort_rate": totals["aborted"] / finished if finished else None,
    }


def _group(rows: pl.LazyFrame) -> pl.LazyFrame:
    unpriced = pl.col("cost_usd").is_null()
    prompt = pl.col("prompt_tokens").fill_null(0)
    completion = pl.col("completion_tokens").fill_null(0)
    # Cached and reasoning tokens are parts of prompt and completion tokens; a bad row
    # with a larger part than its whole is clipped rather than billed twice.
    cached = pl.min_horizontal(pl.col("cached_tokens").fill_null(0), prompt)
    reasoning = pl.min_horizontal(pl.col("reasoning_tokens").fill_null(0), completion)
    ttft_ok = pl.when(_SUCCESS).then(pl.col("ttft_ms"))
    latency_bucket = pl.lit(pl.Series(_BUCKET_BOUNDS_MS)).search_sorted(ttft_ok, side="right")

    keyed = rows.with_columns(
        pl.col("created_at").dt.date().alias("day"),
        _segment(unpriced).alias("segment"),
        pl.when(unpriced)
        .then(pl.lit(pl.Series(price_tier_thresholds(), dtype=pl.Int64)).search_sorted(prompt, side="left"))
        .otherwise(0)
        .cast(pl.UInt32)
        .alias("tier"),
        ttft_ok.alias("_ttft"),
        pl.when(ttft_ok.is_not_null()).then(latency_bucket).alias("_bucket"),
        (prompt + completion).alias("_tokens"),
        pl.when(unpriced).then(prompt - cached).alias("_input"),
        pl.when(unpriced).then(cached).alias("_cached"),
        pl.when(unpriced).then(completion - reasoning).alias("_output"),
        pl.when(unpriced).then(reasoning).alias("_reasoning"),
    )
    return keyed.group_by(_KEYS).agg(
        pl.len().alias("requests"),
        _SUCCESS.sum().alias("successes"),
        (pl.col("status") == "aborted").sum().alias("aborted"),
        pl.col("status").is_in(["success", "failed", "aborted"]).sum().alias("finished"),
        pl.col("_ttft").sum().alias("ttft_sum"),
        pl.col("_ttft").count().alias("ttft_count"),
        *((pl.col("_bucket") == index).sum().alias(f"h{index}") for index in range(len(LATENCY_BUCKETS))),
        pl.col("_tokens").sum().alias("tokens"),
        pl.col("cost_usd").sum().alias("recorded_cost"),
        pl.col("cost_usd").count().alias("recorded_rows"),
        pl.col("_tokens").filter(pl.col("cost_usd").is_not_null()).sum().alias("recorded_tokens"),
        pl.col("_input").sum().alias("input_tokens"),
        pl.col("_cached").sum().alias("cached_tokens"),
        pl.col("_output").sum().alias("output_tokens"),
        pl.col("_reasoning").sum().alias("reasoning_tokens"),
    )


def _segment(unpriced: pl.Expr) -> pl.Expr:
    boundaries = price_segment_boundaries()
    if not boundaries:
        return pl.lit(0, dtype=pl.UInt32)
    minute = pl.col("created_at").dt.hour().cast(pl.Int32) * 60 + pl.col("created_at").dt.minute().cast(pl.Int32)
    index = pl.lit(pl.Series(boundaries, dtype=pl.Int32)).search_sorted(minute, side="right")
    return pl.when(unpriced).then(index).otherwise(0).cast(pl.UInt32)


def _quantiles(rows: pl.LazyFrame) -> pl.LazyFrame:
    return (
        rows.filter(_SUCCESS & pl.col("ttft_ms").is_not_null())
        .group_by("provider", "model")
        .agg(
            pl.col("ttft_ms").quantile(0.5, interpolation="linear").alias("p50_ttft_ms"),
            pl.col("ttft_ms").quantile(0.95, interpolation="linear").alias("p95_ttft_ms"),
        )
    )


def _collect_all(lazies: list[pl.LazyFrame], workspace: Workspace) -> list[pl.DataFrame]:
    try:
        return pl.collect_all(lazies)
    except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException):
        # storage.collect names the damaged file of the workspace in its StorageError.
        collect(lazies[0], workspace=workspace)
        raise


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator))
