"""Cost analysis: the cost of a period, per provider and per model, and of video jobs.

A generation row that carries ``cost_usd`` keeps it. A row without one is
priced at query time from its tokens. The rows are first summed per
(provider, model, day, price segment, price tier). Each distinct model is
then looked up once (see `creator_kit.analytics.find_price_card`), and its
rates are joined onto the sums. Within one such group every price is
constant, so pricing the sums equals pricing each row.

Video jobs are priced per second of video (``video_jobs.seconds``) when they
completed; their cost is reported as ``video_usd`` and is a part of
``period_usd``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from creator_kit.analytics._pricing import (
    PRICE_UNKNOWN,
    PriceCard,
    estimate_video_cost,
    find_price_card,
    price_segment_boundaries,
    price_tier_thresholds,
)
from creator_kit.analytics._queries import GenerationAggregates, aggregate_generations
from creator_kit.analytics._range import TimeRange
from creator_kit.storage import Workspace, collect, read_latest

__all__ = ["DAYS_PER_MONTH", "cost_analysis", "cost_from_aggregates"]

logger = logging.getLogger(__name__)

# The monthly projection scales the period's daily spend to a 30-day month.
DAYS_PER_MONTH = 30

_RATE_COLUMNS = ("r_input", "r_cached", "r_output", "r_reasoning", "r_request")


def cost_analysis(workspace: Workspace, time_range: TimeRange | str, *, now: datetime | None = None) -> dict[str, Any]:
    """Estimate what the generations and video jobs of `time_range` cost.

    Parameters
    ----------
    workspace
        The workspace to read; its ``price_overrides`` setting wins over the
        price datasets.
    time_range
        A `TimeRange` or a range name (``24h``, ``7d``, ``30d``, ``all``).
    now
        The end of an open range, for the monthly projection; the clock's
        UTC time by default.

    Returns
    -------
    dict
        ``period_usd`` (text plus video, USD), ``text_usd``, ``video_usd``,
        ``per_1k_tokens_usd`` (text cost per 1,000 prompt and completion
        tokens of the priced rows), ``monthly_projection_usd`` (daily spend of
        the period times 30), ``by_provider`` (list of ``{provider, cost_usd,
        requests}``), ``by_model`` (list of ``{provider, model, cost_usd,
        requests, unpriced_requests, price_source}``), ``unpriced_requests``
        (generations without a price in any source), ``video_jobs`` and
        ``unpriced_video_jobs``. A cost is None, never 0, when nothing in it
        could be priced.
    """
    aggregates = aggregate_generations(workspace, time_range)
    return cost_from_aggregates(workspace, aggregates, now=now)


def cost_from_aggregates(
    workspace: Workspace, aggregates: GenerationAggregates, *, now: datetime | None = None
) -> dict[str, Any]:
    """Derive the cost analysis from already grouped generations."""
    overrides = workspace.read_settings().get("price_overrides") or None
    priced = _price_groups(aggregates.groups, overrides)
    video = _video_cost(workspace, aggregates.time_range, overrides)

    per_model = (
        priced.group_by("provider", "model")
        .agg(
            pl.col("requests").sum(),
            pl.col("cost").sum(),
            pl.col("priced_rows").sum(),
            pl.col("unpriced_requests").sum(),
            pl.col("priced_tokens").sum(),
            pl.col("source").drop_nulls().unique().sort().str.join(", ").alias("price_source"),
        )
        .sort(["cost", "requests"], descending=True, nulls_last=True)
    )
    by_model = [
        {
            "provider": row["provider"],
            "model": row["model"],
            "cost_usd": row["cost"] if row["priced_rows"] else None,
            "requests": int(row["requests"]),
            "unpriced_requests": int(row["unpriced_requests"]),
            "price_source": row["price_source"] or PRICE_UNKNOWN,
        }
        for row in per_model.iter_rows(named=True)
    ]
    per_provider = (
        per_model.group_by("provider")
        .agg(pl.col("requests").sum(), pl.col("cost").sum(), pl.col("priced_rows").sum())
        .sort(["cost", "requests"], descending=True, nulls_last=True)
    )
    by_provider = [
        {
            "provider": row["provider"],
            "cost_usd": row["cost"] if row["priced_rows"] else None,
            "requests": int(row["requests"]),
        }
        for row in per_provider.iter_rows(named=True)
    ]

    totals = per_model.select(
        pl.col("cost").sum(),
        pl.col("priced_rows").sum(),
        pl.col("priced_tokens").sum(),
        pl.col("unpriced_requests").sum(),
    ).row(0, named=True)
    text_usd = float(totals["cost"]) if totals["priced_rows"] else None
    priced_tokens = int(totals["priced_tokens"] or 0)
    parts = [value for value in (text_usd, video["video_usd"]) if value is not None]
    period_usd = sum(parts) if parts else None
    days = _period_days(aggregates, now=now)
    return {
        "period_usd": period_usd,
        "text_usd": text_usd,
        "video_usd": video["video_usd"],
        "per_1k_tokens_usd": text_usd / priced_tokens * 1000 if text_usd is not None and priced_tokens else None,
        "monthly_projection_usd": period_usd / days * DAYS_PER_MONTH if period_usd is not None and days else None,
        "by_provider": by_provider,
        "by_model": by_model,
        "unpriced_requests": int(totals["unpriced_requests"] or 0),
        "video_jobs": video["video_jobs"],
        "unpriced_video_jobs": video["unpriced_video_jobs"],
    }


def _price_groups(groups: pl.DataFrame, overrides: dict[str, Any] | None) -> pl.DataFrame:
    """Add ``cost``, ``priced_rows``, ``priced_tokens``, ``unpriced_requests`` and ``source`` per group."""
    needs_price = groups.filter(pl.col("requests") > pl.col("recorded_rows"))
    rates = _rates_for(needs_price.select("provider", "model", "day", "segment", "tier").unique(), overrides)
    joined = groups.join(rates, on=["provider", "model", "day", "segment", "tier"], how="left", nulls_equal=True)

    query_rows = pl.col("requests") - pl.col("recorded_rows")
    known = pl.col("r_input").is_not_null()
    computed = (
        pl.col("input_tokens").fill_null(0) * pl.col("r_input")
        + pl.col("cached_tokens").fill_null(0) * pl.col("r_cached")
        + pl.col("output_tokens").fill_null(0) * pl.col("r_output")
        + pl.col("reasoning_tokens").fill_null(0) * pl.col("r_reasoning")
        + query_rows * pl.col("r_request")
    )
    query_tokens = pl.col("tokens") - pl.col("recorded_tokens").fill_null(0)
    return joined.with_columns(
        (pl.col("recorded_cost").fill_null(0.0) + pl.when(known).then(computed).otherwise(0.0)).alias("cost"),
        (pl.col("recorded_rows") + pl.when(known).then(query_rows).otherwise(0)).alias("priced_rows"),
        (pl.col("recorded_tokens").fill_null(0) + pl.when(known).then(query_tokens).otherwise(0)).alias(
            "priced_tokens"
        ),
        pl.when(known).then(0).otherwise(query_rows).alias("unpriced_requests"),
        pl.when(known)
        .then(pl.col("source"))
        .when(pl.col("recorded_rows") > 0)
        .then(pl.lit("recorded"))
        .alias("source"),
    )


def _rates_for(keys: pl.DataFrame, overrides: dict[str, Any] | None) -> pl.DataFrame:
    """Look up the rates of each distinct price key, with one card lookup per distinct model."""
    schema = {
        "provider": pl.String,
        "model": pl.String,
        "day": pl.Date,
        "segment": pl.UInt32,
        "tier": pl.UInt32,
        "source": pl.String,
        **{name: pl.Float64 for name in _RATE_COLUMNS},
    }
    parts = [pl.DataFrame(schema=schema)]
    for (provider, model), part in keys.group_by("provider", "model"):
        card = find_price_card(model, provider=provider, overrides=overrides) if model is not None else None
        if card is None:
            continue
        # Prices that never change with time depend on the prompt tier alone, so
        # they are looked up once per tier instead of once per day.
        columns = ["day", "segment", "tier"] if card.time_dependent else ["tier"]
        price_keys = part.select(columns).unique()
        records = [
            _rate_values(card, day, segment, tier)
            for day, segment, tier in price_keys.select(
                pl.col("day") if "day" in columns else pl.lit(part.item(0, "day")).alias("day"),
                pl.col("segment") if "segment" in columns else pl.lit(0, dtype=pl.UInt32).alias("segment"),
                "tier",
            ).iter_rows()
        ]
        rates = pl.DataFrame(records, schema=list(_RATE_COLUMNS), orient="row")
        joined = part.join(price_keys.with_columns(rates), on=columns, how="left")
        parts.append(joined.with_columns(pl.lit(card.source).alias("source")).select(list(schema)).cast(schema))
    return pl.concat(parts)


def _rate_values(card: PriceCard, day: date, segment: int, tier: int) -> tuple[float, ...]:
    # A representative request of the group: the start of its day segment and the
    # smallest prompt of its tier band.
    boundaries = price_segment_boundaries()
    thresholds = price_tier_thresholds()
    at = datetime.combine(day, time(), UTC) + timedelta(minutes=boundaries[segment - 1] if segment else 0)
    prompt_tokens = thresholds[tier - 1] + 1 if tier else 1
    rates = card.rates(at, prompt_tokens)
    return (rates.input, rates.cached_input, rates.output, rates.reasoning, rates.per_request)


def _video_cost(workspace: Workspace, time_range: TimeRange, overrides: dict[str, Any] | None) -> dict[str, Any]:
    jobs = time_range.filter(
        read_latest(workspace, "video_jobs").select("created_at", "model", "seconds", "status", "cost_usd")
    ).filter(pl.col("status") == "completed")
    per_model = collect(
        jobs.group_by("model").agg(
            pl.len().alias("jobs"),
            pl.col("cost_usd").sum().alias("recorded_cost"),
            pl.col("cost_usd").count().alias("recorded_jobs"),
            pl.col("seconds").filter(pl.col("cost_usd").is_null()).fill_null(0).sum().alias("seconds"),
        ),
        workspace=workspace,
    )

    total = 0.0
    priced_jobs = 0
    unpriced_jobs = 0
    for row in per_model.iter_rows(named=True):
        # One price lookup per distinct model; the seconds are already summed.
        total += row["recorded_cost"] or 0.0
        priced_jobs += row["recorded_jobs"]
        query_jobs = row["jobs"] - row["recorded_jobs"]
        if not query_jobs:
            continue
        estimate = estimate_video_cost(row["model"] or "", row["seconds"] or 0, overrides=overrides)
        if estimate.cost_usd is None:
            unpriced_jobs += query_jobs
        else:
            total += estimate.cost_usd
            priced_jobs += query_jobs
    jobs_count = int(per_model["jobs"].sum()) if per_model.height else 0
    return {
        "video_usd": total if priced_jobs else None,
        "video_jobs": jobs_count,
        "unpriced_video_jobs": unpriced_jobs,
    }


def _period_days(aggregates: GenerationAggregates, *, now: datetime | None) -> float | None:
    # An open start begins at the first row of the range; an open end is now.
    time_range = aggregates.time_range
    start = time_range.since
    if start is None:
        days = aggregates.groups.get_column("day")
        if days.is_empty():
            return None
        start = datetime.combine(days.min(), time(), UTC)  # type: ignore[arg-type]
    end = time_range.until or now or datetime.now(UTC)
    return max((end - start).total_seconds() / 86400, 1.0)
