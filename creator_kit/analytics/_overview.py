"""The numbers of the Overview page."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any

import polars as pl

from creator_kit.analytics._range import TimeRange, parse_range
from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, collect, read_latest

__all__ = ["DEFAULT_DAILY_TOKEN_QUOTA", "RECENT_PROJECTS", "overview_stats"]

logger = logging.getLogger(__name__)

DEFAULT_DAILY_TOKEN_QUOTA = 100_000

RECENT_PROJECTS = 5

_COLUMNS = (
    "id",
    "created_at",
    "title",
    "status",
    "model",
    "ttft_ms",
    "prompt_tokens",
    "completion_tokens",
    "archived",
)


def overview_stats(
    workspace: Workspace,
    time_range: TimeRange | str = "7d",
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Compute the Overview numbers of `workspace` for `time_range`.

    Rows count by their ``created_at`` and in their latest state (a later
    row with the same id replaces an earlier one).

    Parameters
    ----------
    workspace
        The workspace to read.
    time_range
        A `TimeRange`, or a range name (``24h``, ``7d``, ``30d``, ``all``).
    now
        The current time, which sets the start of "today" (midnight UTC) and
        the start of a named range; the clock's UTC time by default.

    Returns
    -------
    dict
        The keys are:

        - ``total_generations``: generations created in the range.
        - ``success_rate``: successes / (successes + failures + aborts), or
          None when there are none. Pending runs are left out.
        - ``avg_ttft_ms``: mean time to first token of the successful runs
          that have one, or None.
        - ``tokens_today``: prompt plus completion tokens since midnight UTC,
          whatever the range.
        - ``most_used_model``: the model with the most generations in the
          range, or None.
        - ``recent_projects``: the 5 newest unarchived generations in the
          range, as dicts with ``id``, ``title``, ``status``, ``model`` and
          ``created_at``.
        - ``daily_quota``: ``limit`` (the workspace setting
          ``daily_token_quota``), ``used`` (``tokens_today``) and
          ``remaining`` (never below 0).

    Raises
    ------
    InvalidInputError
        If the range name or the ``daily_token_quota`` setting is invalid.
    StorageError
        If the workspace cannot be read.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if isinstance(time_range, str):
        time_range = parse_range(time_range, now=now)
    limit = _daily_quota(workspace)

    generations = read_latest(workspace, "generations").select(_COLUMNS)
    in_range = time_range.filter(generations)
    summary = collect(_summary(in_range), workspace=workspace).row(0, named=True)
    recent = collect(_recent(in_range), workspace=workspace)
    tokens_today = collect(_tokens_today(generations, now), workspace=workspace).item()

    tokens_today = int(tokens_today or 0)
    return {
        "total_generations": int(summary["total"]),
        "success_rate": _share(summary["successes"], summary["finished"]),
        "avg_ttft_ms": summary["avg_ttft_ms"],
        "tokens_today": tokens_today,
        "most_used_model": _most_used_model(workspace, in_range),
        "recent_projects": recent.to_dicts(),
        "daily_quota": {"limit": limit, "used": tokens_today, "remaining": max(limit - tokens_today, 0)},
    }


def _summary(lazy: pl.LazyFrame) -> pl.LazyFrame:
    status = pl.col("status")
    success = status == "success"
    return lazy.select(
        pl.len().alias("total"),
        success.sum().alias("successes"),
        status.is_in(["success", "failed", "aborted"]).sum().alias("finished"),
        pl.col("ttft_ms").filter(success & pl.col("ttft_ms").is_not_null()).mean().alias("avg_ttft_ms"),
    )


def _recent(lazy: pl.LazyFrame) -> pl.LazyFrame:
    return (
        lazy.filter(~pl.col("archived").fill_null(False))
        .sort(["created_at", "id"], descending=True, nulls_last=True)
        .head(RECENT_PROJECTS)
        .select("id", "title", "status", "model", "created_at")
    )


def _tokens_today(lazy: pl.LazyFrame, now: datetime) -> pl.LazyFrame:
    midnight = datetime.combine(now.date(), time(), UTC)
    today = TimeRange(midnight, midnight + timedelta(days=1), "today")
    tokens = pl.col("prompt_tokens").fill_null(0) + pl.col("completion_tokens").fill_null(0)
    return today.filter(lazy).select(tokens.sum())


def _most_used_model(workspace: Workspace, lazy: pl.LazyFrame) -> str | None:
    counts = collect(
        lazy.filter(pl.col("model").is_not_null())
        .group_by("model")
        .len()
        # Ties go to the alphabetically first model so that the result is stable.
        .sort(["len", "model"], descending=[True, False])
        .head(1),
        workspace=workspace,
    )
    return counts.item(0, "model") if counts.height else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _daily_quota(workspace: Workspace) -> int:
    value = workspace.read_settings().get("daily_token_quota", DEFAULT_DAILY_TOKEN_QUOTA)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = (
            f"setting daily_token_quota {value!r} is invalid; it must be a whole number of tokens, 0 or more.\n"
            "Hint: fix it on the Settings page or in the workspace's settings.json."
        )
        raise InvalidInputError(msg)
    return value
