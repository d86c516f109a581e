"""Time the whole analytics report with creator_kit, DuckDB SQL and pandas.

Usage::

    python benchmarks/analytics_report.py /tmp/ck-bench-1m /tmp/ck-bench-10m --repeat 3

Each engine computes the same report over the same Delta table: the latest row
per generation id, then the summary, model performance with p50/p95 TTFT,
the TTFT histogram, daily trends and the cost per provider and model, where
rows without a recorded cost are priced from their tokens. DuckDB and pandas
read the table's active Parquet files (from the Delta log) and get the rates of
each model as a small table, so they do no price lookups of their own. The
script checks that the three engines agree before it prints the timings, and
prints the best of `--repeat` runs of each, interleaved so that load from
other processes hits all engines alike.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
from deltalake import DeltaTable

from creator_kit.analytics import analytics_report, find_price_card
from creator_kit.storage import resolve_workspace

COLUMNS = [
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
]

BOUNDS = (100, 500, 1000, 2000, 5000)


def run_creator_kit(workspace: Path, files: list[str], rates: pd.DataFrame) -> dict[str, Any]:
    report = analytics_report(resolve_workspace(workspace), "all")
    return {
        "requests": report["summary"]["total_requests"],
        "avg_ttft_ms": report["summary"]["avg_ttft_ms"],
        "histogram": [row["count"] for row in report["latency_histogram"]],
        "p95": {(row["provider"], row["model"]): row["p95_ttft_ms"] for row in report["models"]},
        "days": len(report["daily"]),
        "cost": report["cost"]["text_usd"],
    }


def run_duckdb(workspace: Path, files: list[str], rates: pd.DataFrame) -> dict[str, Any]:
    con = duckdb.connect()
    con.register("rates", rates)
    file_list = ", ".join(f"'{file}'" for file in files)
    con.execute(
        f"""
        CREATE TEMP TABLE latest AS
        SELECT * EXCLUDE (id, recorded_at)
        FROM read_parquet([{file_list}])
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY recorded_at DESC) = 1
        """
    )
    summary = con.execute(
        """
        SELECT count(*),
               avg(ttft_ms) FILTER (WHERE status = 'success'),
               count(*) FILTER (WHERE status = 'success') / count(*) FILTER (WHERE status IN ('success', 'failed', 'aborted')),
               count(*) FILTER (WHERE status = 'aborted') / count(*) FILTER (WHERE status IN ('success', 'failed', 'aborted'))
        FROM latest
        """
    ).fetchone()
    models = con.execute(
        """
        SELECT provider, model, count(*),
               count(*) FILTER (WHERE status = 'success') / count(*) FILTER (WHERE status IN ('success', 'failed', 'aborted')),
               avg(ttft_ms) FILTER (WHERE status = 'success'),
               quantile_cont(ttft_ms, 0.5) FILTER (WHERE status = 'success'),
               quantile_cont(ttft_ms, 0.95) FILTER (WHERE status = 'success')
        FROM latest GROUP BY ALL
        """
    ).fetchall()
    histogram = con.execute(
        """
        SELECT count(*) FILTER (WHERE ttft_ms < 100),
               count(*) FILTER (WHERE ttft_ms >= 100 AND ttft_ms < 500),
               count(*) FILTER (WHERE ttft_ms >= 500 AND ttft_ms < 1000),
               count(*) FILTER (WHERE ttft_ms >= 1000 AND ttft_ms < 2000),
               count(*) FILTER (WHERE ttft_ms >= 2000 AND ttft_ms < 5000),
               count(*) FILTER (WHERE ttft_ms >= 5000)
        FROM latest WHERE status = 'success'
        """
    ).fetchone()
    daily = con.execute(
        """
        SELECT CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS day, count(*),
               sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)),
               avg(ttft_ms) FILTER (WHERE status = 'success')
        FROM latest GROUP BY day ORDER BY day
        """
    ).fetchall()
    cost = con.execute(
        """
        SELECT l.provider, l.model, count(*),
               sum(coalesce(l.cost_usd,
                   (coalesce(prompt_tokens, 0) - least(coalesce(cached_tokens, 0), coalesce(prompt_tokens, 0))) * r_input
                   + least(coalesce(cached_tokens, 0), coalesce(prompt_tokens, 0)) * r_cached
                   + (coalesce(completion_tokens, 0) - least(coalesce(reasoning_tokens, 0), coalesce(completion_tokens, 0))) * r_output
                   + least(coalesce(reasoning_tokens, 0), coalesce(completion_tokens, 0)) * r_reasoning
                   + r_request))
        FROM latest l LEFT JOIN rates r ON l.provider = r.provider AND l.model = r.model
        GROUP BY ALL
        """
    ).fetchall()
    con.close()
    return {
        "requests": summary[0],
        "avg_ttft_ms": summary[1],
        "histogram": list(histogram),
        "p95": {(row[0], row[1]): row[6] for row in models},
        "days": len(daily),
        "cost": sum(row[3] or 0.0 for row in cost),
    }


def run_pandas(workspace: Path, files: list[str], rates: pd.DataFrame) -> dict[str, Any]:
    frame = pd.concat([pd.read_parquet(file, columns=COLUMNS) for file in files], ignore_index=True)
    frame = frame.sort_values("recorded_at", kind="stable").drop_duplicates("id", keep="last")
    finished = frame["status"].isin(["success", "failed", "aborted"])
    success = frame["status"] == "success"
    ttft = frame["ttft_ms"].where(success)
    frame = frame.assign(_ttft=ttft, _success=success, _finished=finished)

    summary_requests = len(frame)
    summary_ttft = ttft.mean()
    per_model = frame.groupby(["provider", "model"]).agg(
        requests=("status", "size"),
        successes=("_success", "sum"),
        finished=("_finished", "sum"),
        avg_ttft=("_ttft", "mean"),
        p50=("_ttft", lambda values: values.quantile(0.5)),
        p95=("_ttft", lambda values: values.quantile(0.95)),
    )
    histogram = pd.cut(ttft.dropna(), [-math.inf, *BOUNDS, math.inf], right=False).value_counts(sort=False)
    tokens = frame["prompt_tokens"].fillna(0) + frame["completion_tokens"].fillna(0)
    daily = frame.assign(_tokens=tokens, _day=frame["created_at"].dt.date).groupby("_day").agg(
        requests=("status", "size"), tokens=("_tokens", "sum"), avg_ttft=("_ttft", "mean")
    )

    priced = frame.merge(rates, on=["provider", "model"], how="left")
    prompt = priced["prompt_tokens"].fillna(0)
    completion = priced["completion_tokens"].fillna(0)
    cached = priced["cached_tokens"].fillna(0).clip(upper=prompt)
    reasoning = priced["reasoning_tokens"].fillna(0).clip(upper=completion)
    computed = (
        (prompt - cached) * priced["r_input"]
        + cached * priced["r_cached"]
        + (completion - reasoning) * priced["r_output"]
        + reasoning * priced["r_reasoning"]
        + priced["r_request"]
    )
    cost = priced["cost_usd"].fillna(computed)
    by_model = cost.groupby([priced["provider"], priced["model"]]).sum()
    return {
        "requests": summary_requests,
        "avg_ttft_ms": summary_ttft,
        "histogram": [int(value) for value in histogram.to_numpy()],
        "p95": {key: row.p95 for key, row in per_model.iterrows()},
        "days": len(daily),
        "cost": float(by_model.sum()),
    }


ENGINES: dict[str, Callable[[Path, list[str], pd.DataFrame], dict[str, Any]]] = {
    "creator_kit": run_creator_kit,
    "duckdb": run_duckdb,
    "pandas": run_pandas,
}


def model_rates(files: list[str]) -> pd.DataFrame:
    """Return per-model rates (USD per token) for the peers; the benchmark's models have flat prices."""
    pairs = pl.scan_parquet(files).select("provider", "model").unique().collect()
    records = []
    now = datetime.now(UTC)
    for provider, model in pairs.iter_rows():
        card = find_price_card(model, provider=provider)
        if card is None:
            continue
        rates = card.rates(now, 1)
        records.append(
            {
                "provider": provider,
                "model": model,
                "r_input": rates.input,
                "r_cached": rates.cached_input,
                "r_output": rates.output,
                "r_reasoning": rates.reasoning,
                "r_request": rates.per_request,
            }
        )
    return pd.DataFrame.from_records(records)


def print_stages(workspace: Path) -> None:
    """Print the CPU and wall time of each stage of creator_kit's report, one stage at a time."""
    from creator_kit.analytics import _queries
    from creator_kit.analytics._range import parse_range
    from creator_kit.storage import scan_table

    ws = resolve_workspace(workspace)
    everything = parse_range("all")
    scan = scan_table(ws, "generations").select(_queries._COLUMNS)
    rows = _queries.latest_generations(ws, everything).lazy()
    stages: dict[str, Callable[[], object]] = {
        "read the columns but id": lambda: scan.drop("id").collect(),
        "read the columns with id": lambda: scan.collect(),
        "read and keep latest per id": lambda: _queries.latest_generations(ws, everything),
        "grouped pass (in memory)": lambda: _queries._group(rows).collect(),
        "TTFT quantiles (in memory)": lambda: _queries._quantiles(rows).collect(),
        "whole report": lambda: analytics_report(ws, "all"),
    }
    for name, stage in stages.items():
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        stage()
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        print(f"  stage {name:28s} wall {wall:6.2f} s  cpu {cpu:6.2f} s")


def check_agreement(results: dict[str, dict[str, Any]]) -> None:
    """Stop with an error unless every engine computed the same report."""
    reference = results["creator_kit"]
    for name, result in results.items():
        assert result["requests"] == reference["requests"], (name, "requests")
        assert result["histogram"] == reference["histogram"], (name, "histogram")
        assert result["days"] == reference["days"], (name, "days")
        assert math.isclose(result["avg_ttft_ms"], reference["avg_ttft_ms"], rel_tol=1e-9), (name, "avg_ttft_ms")
        assert math.isclose(result["cost"], reference["cost"], rel_tol=1e-6), (name, "cost")
        for key, value in reference["p95"].items():
            assert math.isclose(result["p95"][key], value, rel_tol=1e-9), (name, "p95", key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspaces", nargs="+", type=Path, help="workspaces made by benchmarks/generate.py")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the best is reported (default 3)")
    parser.add_argument("--engines", default="creator_kit,duckdb,pandas", help="comma-separated engines to run")
    parser.add_argument("--stages", action="store_true", help="also time the stages of creator_kit's report")
    args = parser.parse_args()
    engines = [name.strip() for name in args.engines.split(",")]

    for workspace in args.workspaces:
        if args.stages:
            print(f"\n{workspace}: stages of creator_kit's report")
            print_stages(workspace)
        table = DeltaTable(str(workspace / "generations"))
        files = table.file_uris()
        rows = pl.scan_parquet(files).select(pl.len()).collect().item()
        rates = model_rates(files)
        timings: dict[str, list[float]] = {name: [] for name in engines}
        cpu: dict[str, list[float]] = {name: [] for name in engines}
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeat):
            for name in engines:
                gc.collect()
                started = time.perf_counter()
                started_cpu = time.process_time()
                results[name] = ENGINES[name](workspace, files, rates)
                timings[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - started_cpu)
        if {"creator_kit"} <= set(results):
            check_agreement(results)

        print(f"\n{workspace} ({rows:,} stored rows, {len(files)} files); best of {args.repeat} runs:")
        best = {name: min(values) for name, values in timings.items()}
        best_cpu = {name: min(values) for name, values in cpu.items()}
        for name in engines:
            line = (
                f"  {name:12s} wall {best[name]:7.2f} s  cpu {best_cpu[name]:7.2f} s"
                f"  (wall per run: {', '.join(f'{value:.2f}' for value in timings[name])})"
            )
            if name != "creator_kit" and "creator_kit" in best:
                line += (
                    f"  creator_kit/{name}: wall {best['creator_kit'] / best[name]:.2f}x,"
                    f" cpu {best_cpu['creator_kit'] / best_cpu[name]:.2f}x"
                )
            print(line)


if __name__ == "__main__":
    main()
