"""Write a workspace with N synthetic generation rows for the analytics benchmark.

Usage::

    python benchmarks/generate.py --rows 1000000 --workspace /tmp/ck-bench-1m

The rows go through `creator_kit.storage.append_rows` into a real Delta table,
one commit per chunk (default 1,000,000 rows), in time order, as a long-lived
workspace would have them. The distributions are documented in
``benchmarks/README.md``; every draw uses a seeded NumPy generator, so the same
arguments give the same table.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from creator_kit.analytics import find_price_card
from creator_kit.storage import append_rows, resolve_workspace

logger = logging.getLogger("benchmarks.generate")

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class ModelMix:
    """One provider/model pair: its share of requests and its behaviour."""

    provider: str
    model: str
    share: float
    ttft_median_ms: float
    ttft_sigma: float
    tokens_per_s: float
    failure_rate: float
    reasoning: bool = False


# Shares add up to 1. Medians of time to first token are in the range public
# leaderboards report for these classes of model (small hosted models 200-400 ms,
# large ones 500-900 ms, reasoning models seconds, a local 8B model on a laptop ~1 s).
MODELS = (
    ModelMix("openai", "gpt-4o-mini", 0.30, 320, 0.55, 85, 0.015),
    ModelMix("openai", "gpt-4o", 0.14, 520, 0.60, 60, 0.020),
    ModelMix("openai", "o4-mini", 0.08, 2400, 0.70, 90, 0.030, reasoning=True),
    ModelMix("azure", "gpt-4o-mini", 0.08, 380, 0.65, 70, 0.025),
    ModelMix("google", "gemini-2.5-flash", 0.12, 450, 0.60, 160, 0.020),
    ModelMix("groq", "llama-3.3-70b-versatile", 0.08, 180, 0.50, 280, 0.040),
    ModelMix("openrouter", "anthropic/claude-sonnet-4", 0.10, 900, 0.55, 55, 0.030),
    ModelMix("ollama", "llama3.1:8b", 0.06, 1100, 0.80, 35, 0.050),
    ModelMix("studio-proxy", "studio-custom-v1", 0.04, 700, 0.90, 45, 0.060),
)

PROMPT_POOL = 2_000
TAGS = ("ad", "script", "blog", "social", "draft", "video", "story", "product")


def generate(rows: int, workspace: Path, *, days: int = 90, chunk: int = 1_000_000, seed: int = 7,
             duplicate_share: float = 0.02, recorded_cost_share: float = 0.7,
             end: datetime | None = None) -> None:
    """Append `rows` generation rows (plus edited copies) to the workspace at `workspace`."""
    ws = resolve_workspace(workspace)
    rng = np.random.default_rng(seed)
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    times = _creation_times(rng, rows, start, days)
    prompts = pl.Series([f"Write a {TAGS[i % len(TAGS)]} piece about topic {i}" for i in range(PROMPT_POOL)])
    outputs = pl.Series([f"Draft {i}: " + "lorem ipsum dolor sit amet " * 12 for i in range(PROMPT_POOL)])

    written = 0
    for offset in range(0, rows, chunk):
        size = min(chunk, rows - offset)
        frame = _chunk(rng, times[offset : offset + size], prompts, outputs, recorded_cost_share)
        started = time.perf_counter()
        append_rows(ws, "generations", frame)
        written += size
        logger.info("wrote %d/%d rows (%.1f s for this chunk)", written, rows, time.perf_counter() - started)

        # Edits (a new title, tags, archived) are full rows with the same id and a later
        # recorded_at, appended in a later commit, as the app writes them.
        edits = frame.sample(fraction=duplicate_share, seed=int(rng.integers(1 << 31)))
        edits = edits.with_columns(
            (pl.col("recorded_at") + pl.duration(hours=1)).alias("recorded_at"),
            (pl.col("title") + " (edited)").alias("title"),
            pl.lit(True).alias("archived"),
        )
        append_rows(ws, "generations", edits)
    logger.info("done: %s", ws.path)


def _creation_times(rng: np.random.Generator, rows: int, start: datetime, days: int) -> np.ndarray:
    # Traffic grows linearly by 2x over the period, is lower at weekends (x0.6) and
    # follows a day curve peaking at 15:00 UTC; drawn by rejection sampling, then sorted.
    start_us = int(start.timestamp() * 1_000_000)
    span_us = days * DAY_US
    picked: list[np.ndarray] = []
    remaining = rows
    while remaining > 0:
        draw = rng.integers(0, span_us, size=int(remaining * 2.2) + 1000)
        day_fraction = (draw % DAY_US) / DAY_US
        weekday = ((start_us + draw) // DAY_US + 3) % 7  # 1970-01-01 was a Thursday (3)
        weight = (0.5 + 0.5 * draw / span_us) * np.where(weekday >= 5, 0.6, 1.0)
        weight *= 0.35 + 0.65 * np.exp(-(((day_fraction - 15 / 24) * 24 / 5) ** 2))
        keep = draw[rng.random(draw.size) < weight]
        picked.append(keep[:remaining])
        remaining -= picked[-1].size
    offsets = np.sort(np.concatenate(picked))
    return start_us + offsets


def _chunk(rng: np.random.Generator, created_us: np.ndarray, prompts: pl.Series, outputs: pl.Series,
           recorded_cost_share: float) -> pl.DataFrame:
    n = created_us.size
    shares = np.array([mix.share for mix in MODELS])
    model_index = rng.choice(len(MODELS), size=n, p=shares / shares.sum())

    # Status: each model's failure rate; 2% of the rest are stopped by the user.
    failure = np.array([mix.failure_rate for mix in MODELS])[model_index]
    roll = rng.random(n)
    status = np.where(roll < failure, "failed", np.where(roll < failure + 0.02, "aborted", "success"))

    # Prompt tokens: log-normal, median 600, clipped to 20..120,000; 30% of requests
    # read 20-90% of their prompt from the provider cache, in blocks of 128 tokens.
    prompt_tokens = np.clip(rng.lognormal(np.log(600), 0.9, n), 20, 120_000).astype(np.int64)
    cache_hit = rng.random(n) < 0.3
    cached = (prompt_tokens * rng.uniform(0.2, 0.9, n) // 128 * 128).astype(np.int64)
    cached = np.where(cache_hit, np.minimum(cached, prompt_tokens), 0)

    # Completion tokens: log-normal, median 350, clipped to 1..8,000; reasoning models
    # spend 40-80% of them on reasoning. Aborted runs keep a random part of the completion.
    completion = np.clip(rng.lognormal(np.log(350), 0.8, n), 1, 8_000).astype(np.int64)
    completion = np.where(status == "aborted", (completion * rng.random(n)).astype(np.int64) + 1, completion)
    is_reasoning = np.array([mix.reasoning for mix in MODELS])[model_index]
    reasoning = np.where(is_reasoning, (completion * rng.uniform(0.4, 0.8, n)).astype(np.int64), 0)

    # Time to first token: log-normal around each model's median; failed requests have none.
    medians = np.array([mix.ttft_median_ms for mix in MODELS])[model_index]
    sigmas = np.array([mix.ttft_sigma for mix in MODELS])[model_index]
    ttft = medians * np.exp(sigmas * rng.standard_normal(n))
    speed = np.array([mix.tokens_per_s for mix in MODELS])[model_index]
    latency = ttft + completion / speed * 1000

    failed = status == "failed"
    completion = np.where(failed, 0, completion)
    reasoning = np.where(failed, 0, reasoning)
    cached = np.where(failed, 0, cached)

    providers = np.array([mix.provider for mix in MODELS])[model_index]
    models = np.array([mix.model for mix in MODELS])[model_index]
    cost = _recorded_cost(rng, model_index, prompt_tokens, completion, cached, reasoning, recorded_cost_share)

    ids = rng.bytes(16 * n)
    id_series = pl.Series("id", np.frombuffer(ids, dtype="S16")).bin.encode("hex")
    pick = rng.integers(0, PROMPT_POOL, n)
    created = pl.Series("created_at", created_us).cast(pl.Datetime("us", "UTC"))
    recorded = created + pl.Series(np.maximum(latency, 1).astype(np.int64) * 1000).cast(pl.Duration("us"))
    frame = pl.DataFrame(
        {
            "id": id_series,
            "recorded_at": recorded,
            "created_at": created,
            "provider": providers,
            "model": models,
            "title": prompts.gather(pick).str.slice(0, 40),
            "prompt": prompts.gather(pick),
            "output": outputs.gather(pick),
            "status": status,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion,
            "cached_tokens": cached,
            "reasoning_tokens": reasoning,
            "ttft_ms": ttft,
            "latency_ms": latency,
            "cost_usd": cost,
            "tags": pl.Series(TAGS).gather(pick % len(TAGS)),
        }
    )
    failed_row = pl.col("status") == "failed"
    return frame.with_columns(
        pl.col("cost_usd").fill_nan(None),
        pl.when(failed_row).then(None).otherwise(pl.col("output")).alias("output"),
        pl.when(failed_row).then(pl.lit("rate_limited")).alias("error_type"),
        pl.when(failed_row).then(None).otherwise(pl.col("ttft_ms")).alias("ttft_ms"),
        pl.when(failed_row).then(None).otherwise(pl.col("latency_ms")).alias("latency_ms"),
        pl.when(pl.col("cost_usd").is_nan()).then(None).otherwise(pl.lit("recorded")).alias("price_source"),
        pl.concat_list("tags").alias("tags"),
        pl.lit("app").alias("source"),
    )


def _recorded_cost(rng: np.random.Generator, model_index: np.ndarray, prompt: np.ndarray, completion: np.ndarray,
                   cached: np.ndarray, reasoning: np.ndarray, share: float) -> np.ndarray:
    # Rows written by the app carry the cost estimated when they were made; imported
    # rows (the other 30%) have none and are priced by the analytics query.
    cost = np.full(model_index.size, np.nan)
    now = datetime.now(UTC)
    for index, mix in enumerate(MODELS):
        card = find_price_card(mix.model, provider=mix.provider)
        if card is None:
            continue
        rates = card.rates(now, 1)
        rows = model_index == index
        cost[rows] = (
            (prompt[rows] - cached[rows]) * rates.input
            + cached[rows] * rates.cached_input
            + (completion[rows] - reasoning[rows]) * rates.output
            + reasoning[rows] * rates.reasoning
            + rates.per_request
        )
    return np.where(rng.random(model_index.size) < share, cost, np.nan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True, help="number of generations to write")
    parser.add_argument("--workspace", type=Path, required=True, help="workspace folder to create or append to")
    parser.add_argument("--days", type=int, default=90, help="days of history the rows span (default 90)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per Delta commit (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the random generator (default 7)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    generate(args.rows, args.workspace, days=args.days, chunk=args.chunk, seed=args.seed)


if __name__ == "__main__":
    main()
