"""Schemas of the workspace tables, declared once.

Every table has `recorded_at`, the UTC time a row was appended. Facts are
appended, never rewritten: a later row with the same key replaces an earlier
one in the "latest" view (see `creator_kit.storage.read_latest`).
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "GENERATION_STATUSES",
    "JOB_STATUSES",
    "LATEST_KEYS",
    "REQUIRED_COLUMNS",
    "SCHEMAS",
    "TABLE_NAMES",
]

UTC_TIME = pl.Datetime("us", "UTC")

GENERATION_STATUSES = ("success", "failed", "aborted", "pending")

JOB_STATUSES = ("queued", "in_progress", "completed", "failed", "cancelled")

GENERATIONS = pl.Schema(
    {
        "id": pl.String,
        "recorded_at": UTC_TIME,
        "created_at": UTC_TIME,
        "provider": pl.String,
        "model": pl.String,
        "title": pl.String,
        "prompt": pl.String,
        "output": pl.String,
        "status": pl.String,
        "error_type": pl.String,
        "error_message": pl.String,
        # Token counts as the provider reports them: cached_tokens is a part of
        # prompt_tokens and reasoning_tokens a part of completion_tokens.
        "prompt_tokens": pl.Int64,
        "completion_tokens": pl.Int64,
        "cached_tokens": pl.Int64,
        "reasoning_tokens": pl.Int64,
        "usage_estimated": pl.Boolean,
        # Time to first token and total duration, in milliseconds.
        "ttft_ms": pl.Float64,
        "latency_ms": pl.Float64,
        "cost_usd": pl.Float64,
        "price_source": pl.String,
        "tags": pl.List(pl.String),
        "template_id": pl.String,
        "source": pl.String,
        "source_key": pl.String,
        "archived": pl.Boolean,
        "failover_from": pl.String,
        "retries": pl.Int64,
    }
)

VIDEO_JOBS = pl.Schema(
    {
        "id": pl.String,
        "recorded_at": UTC_TIME,
        "created_at": UTC_TIME,
        "provider": pl.String,
        "model": pl.String,
        "prompt": pl.String,
        "seconds": pl.Int64,
        "size": pl.String,
        "status": pl.String,
        "progress": pl.Int64,
        "error_code": pl.String,
        "error_message": pl.String,
        # When the poller last asked the provider, and what it answered.
        "checked_at": UTC_TIME,
        "provider_response": pl.String,
        "download_state": pl.String,
        "video_path": pl.String,
        "thumbnail_path": pl.String,
        "video_bytes": pl.Int64,
        "completed_at": UTC_TIME,
        "cost_usd": pl.Float64,
        "price_source": pl.String,
    }
)

EVENTS = pl.Schema(
    {
        "id": pl.String,
        "recorded_at": UTC_TIME,
        # attempt, failover, retry, validation, job_poll, ...
        "kind": pl.String,
        "generation_id": pl.String,
        "job_id": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "outcome": pl.String,
        "status_code": pl.Int64,
        "wait_ms": pl.Float64,
        "message": pl.String,
    }
)

TEMPLATE_USAGE = pl.Schema(
    {
        "id": pl.String,
        "recorded_at": UTC_TIME,
        "template_id": pl.String,
        # "use" when a generation starts from the template, "rating" for a 1-5 rating.
        "kind": pl.String,
        "generation_id": pl.String,
        "rating": pl.Int64,
    }
)

CUSTOM_TEMPLATES = pl.Schema(
    {
        "id": pl.String,
        "version": pl.Int64,
        "recorded_at": UTC_TIME,
        "title": pl.String,
        "description": pl.String,
        "prompt": pl.String,
        "category": pl.String,
        "tags": pl.List(pl.String),
        "difficulty": pl.String,
        "kind": pl.String,
        "source": pl.String,
        "archived": pl.Boolean,
    }
)

SCHEMAS: dict[str, pl.Schema] = {
    "generations": GENERATIONS,
    "video_jobs": VIDEO_JOBS,
    "events": EVENTS,
    "template_usage": TEMPLATE_USAGE,
    "custom_templates": CUSTOM_TEMPLATES,
}

TABLE_NAMES = tuple(SCHEMAS)

# Columns a row must carry; the rest default to null (or to a table default).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "generations": ("created_at", "provider", "model", "status"),
    "video_jobs": ("id", "created_at", "model", "status"),
    "events": ("kind",),
    "template_usage": ("template_id", "kind"),
    "custom_templates": ("id", "version", "title", "prompt", "category"),
}

# The key whose newest row (by recorded_at) is the current state.
LATEST_KEYS: dict[str, tuple[str, ...]] = {
    "generations": ("id",),
    "video_jobs": ("id",),
    "events": ("id",),
    "template_usage": ("id",),
    "custom_templates": ("id",),
}
