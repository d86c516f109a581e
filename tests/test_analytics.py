"""Analytics queries and the ``creator-kit analytics`` command on real Delta tables."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from creator_kit.analytics import (
    LATENCY_BUCKETS,
    abort_rate,
    analytics_report,
    cost_analysis,
    daily_trends,
    data_extent,
    estimate_cost,
    latency_histogram,
    model_performance,
    parse_range,
)
from creator_kit.analytics._queries import latest_generations
from creator_kit.cli import main
from creator_kit.importers import import_files
from creator_kit.storage import Workspace, append_rows, read_latest

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BOUNDS_MS = (100, 500, 1000, 2000, 5000)


def _row(**values: Any) -> dict[str, Any]:
    row = {
        "created_at": NOW - timedelta(hours=1),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "success",
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "ttft_ms": 300.0,
    }
    row.update(values)
    return row


def _bucket(ttft_ms: float) -> int:
    return sum(ttft_ms >= bound for bound in BOUNDS_MS)


def _run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["analytics", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- the LLMPerf import against an independent computation over the raw JSON ---


def _llmperf_expected(files: list[Path]) -> dict[str, Any]:
    per_model: dict[tuple[str, str], dict[str, Any]] = {}
    histogram = [0] * len(LATENCY_BUCKETS)
    all_ttft: list[float] = []
    for file in files:
        requests = json.loads(file.read_text(encoding="utf-8"))
        summary = json.loads((file.parent.parent / "summary" / file.name).read_text(encoding="utf-8"))
        key = (file.stem.split("_")[0], summary["model"])
        ttfts = [request["ttft_s"] * 1000 for request in requests if request["error_code"] is None]
        per_model[key] = {
            "requests": len(requests),
            "successes": len(ttfts),
            "ttfts": ttfts,
            "input_tokens": sum(request["number_input_tokens"] for request in requests),
            "output_tokens": sum(request["number_output_tokens"] for request in requests),
        }
        for value in ttfts:
            histogram[_bucket(value)] += 1
        all_ttft.extend(ttfts)
    return {"models": per_model, "histogram": histogram, "mean_ttft": sum(all_ttft) / len(all_ttft)}


def test_llmperf_import_matches_raw_json(
    workspace: Workspace, llmperf_files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report = import_files(workspace, llmperf_files, format="llmperf")
    assert report.rejected == 0
    expected = _llmperf_expected(llmperf_files)

    result = _run_cli(capsys, "--range", "all", "--workspace", str(workspace.path))

    assert result["summary"]["total_requests"] == 1650
    assert result["summary"]["avg_ttft_ms"] == pytest.approx(expected["mean_ttft"], rel=1e-9)
    assert [row["bucket"] for row in result["latency_histogram"]] == list(LATENCY_BUCKETS)
    assert [row["count"] for row in result["latency_histogram"]] == expected["histogram"]

    models = {(row["provider"], row["model"]): row for row in result["models"]}
    assert set(models) == set(expected["models"])
    for key, want in expected["models"].items():
        got = models[key]
        assert got["requests"] == want["requests"], key
        assert got["success_rate"] == pytest.approx(want["successes"] / want["requests"]), key
        assert got["avg_ttft_ms"] == pytest.approx(sum(want["ttfts"]) / len(want["ttfts"]), rel=1e-9), key
        assert got["p50_ttft_ms"] == pytest.approx(float(np.percentile(want["ttfts"], 50)), rel=1e-9), key
        assert got["p95_ttft_ms"] == pytest.approx(float(np.percentile(want["ttfts"], 95)), rel=1e-9), key

    providers: dict[str, list[int]] = {}
    for (provider, _), want in expected["models"].items():
        totals = providers.setdefault(provider, [0, 0])
        totals[0] += want["requests"]
        totals[1] += want["successes"]
    by_provider = {row["provider"]: row for row in result["cost"]["by_provider"]}
    for provider, (requests, successes) in providers.items():
        assert by_provider[provider]["requests"] == requests
        got_successes = sum(
            round(row["success_rate"] * row["requests"]) for row in result["models"] if row["provider"] == provider
        )
        assert got_successes == successes, provider


def test_llmperf_costs_from_litellm(
    workspace: Workspace, llmperf_files: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import_files(workspace, llmperf_files, format="llmperf")
    expected = _llmperf_expected(llmperf_files)["models"]

    cost = _run_cli(capsys, "--range", "all", "--workspace", str(workspace.path))["cost"]

    by_model = {(row["provider"], row["model"]): row for row in cost["by_model"]}
    # LiteLLM: meta.llama2-13b-chat-v1 costs 7.5e-07 per input and 1e-06 per output token.
    bedrock = expected[("bedrock", "meta.llama2-13b-chat-v1")]
    bedrock_cost = bedrock["input_tokens"] * 7.5e-07 + bedrock["output_tokens"] * 1e-06
    assert by_model[("bedrock", "meta.llama2-13b-chat-v1")]["cost_usd"] == pytest.approx(bedrock_cost)
    # Lepton and the Together Llama-2 models are in neither price dataset: 4 runs of 150.
    assert cost["unpriced_requests"] == 600
    assert by_model[("lepton", "llama2-7b")]["cost_usd"] is None
    assert by_model[("lepton", "llama2-7b")]["unpriced_requests"] == 150
    priced = sum(row["cost_usd"] for row in cost["by_model"] if row["cost_usd"] is not None)
    assert cost["period_usd"] == pytest.approx(priced)


# --- unit cases on rows written directly ---


def test_empty_workspace_zeros(workspace: Workspace) -> None:
    report = analytics_report(workspace, "all")
    assert report["summary"] == {"total_requests": 0, "success_rate": None, "avg_ttft_ms": None, "abort_rate": None}
    assert report["models"] == []
    assert [row["count"] for row in report["latency_histogram"]] == [0] * 6
    assert report["daily"] == []
    assert report["cost"]["period_usd"] is None
    assert report["cost"]["unpriced_requests"] == 0
    assert data_extent(workspace) is None
    assert abort_rate(workspace, "7d") is None
    json.dumps(report)


def test_latest_row_per_id_counts_once(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [_row(id="a", status="failed", ttft_ms=None), _row(id="b")])
    later = datetime.now(UTC) + timedelta(seconds=5)
    append_rows(workspace, "generations", [_row(id="a", status="success", ttft_ms=700.0, recorded_at=later)])

    frame = model_performance(workspace, "all")

    assert frame.get_column("requests").to_list() == [2]
    assert frame.get_column("success_rate").to_list() == [1.0]
    assert frame.get_column("avg_ttft_ms").to_list() == [500.0]


def test_histogram_bucket_bounds(workspace: Workspace) -> None:
    values = [0.0, 99.9, 100.0, 499.0, 500.0, 1999.0, 2000.0, 5000.0, 12000.0]
    rows = [_row(ttft_ms=value) for value in values]
    rows.append(_row(status="failed", ttft_ms=50.0))
    rows.append(_row(status="success", ttft_ms=None))
    append_rows(workspace, "generations", rows)

    frame = latency_histogram(workspace, "all")

    assert frame.get_column("bucket").to_list() == list(LATENCY_BUCKETS)
    assert frame.get_column("count").to_list() == [2, 2, 1, 1, 1, 2]


def test_rates_exclude_pending(workspace: Workspace) -> None:
    statuses = ["success"] * 6 + ["failed"] * 2 + ["aborted"] * 2 + ["pending"] * 5
    append_rows(workspace, "generations", [_row(status=status) for status in statuses])

    report = analytics_report(workspace, "all")

    assert report["summary"]["total_requests"] == 15
    assert report["summary"]["success_rate"] == pytest.approx(0.6)
    assert report["summary"]["abort_rate"] == pytest.approx(0.2)


def test_time_range_and_daily_trends(workspace: Workspace) -> None:
    rows = [
        _row(created_at=datetime(2026, 11, 18, 23, 59, tzinfo=UTC), ttft_ms=100.0, prompt_tokens=10),
        _row(created_at=datetime(2026, 11, 19, 0, 0, tzinfo=UTC), ttft_ms=200.0, prompt_tokens=20),
        _row(created_at=datetime(2026, 11, 19, 10, 0, tzinfo=UTC), ttft_ms=400.0, prompt_tokens=30),
        _row(created_at=datetime(2026, 10, 1, tzinfo=UTC), ttft_ms=900.0),
    ]
    append_rows(workspace, "generations", rows)

    week = parse_range("7d", now=NOW)
    daily = daily_trends(workspace, week)

    assert daily.get_column("date").to_list() == [date(2026, 11, 18), date(2026, 11, 19)]
    assert daily.get_column("requests").to_list() == [1, 2]
    # Completion tokens are 50 per row.
    assert daily.get_column("tokens").to_list() == [60, 150]
    assert daily.get_column("avg_ttft_ms").to_list() == [100.0, 300.0]
    custom = parse_range(since="2026-11-19", until="2026-11-19")
    assert analytics_report(workspace, custom)["summary"]["total_requests"] == 2
    assert data_extent(workspace) == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 19, 10, tzinfo=UTC))


def test_cost_recorded_kept_and_null_priced(workspace: Workspace) -> None:
    rows = [
        _row(cost_usd=1.25, price_source="recorded"),
        # gpt-4o-mini: 1000 x 0.15e-6 + 500 x 0.6e-6 = 0.00045
        _row(prompt_tokens=1000, completion_tokens=500),
        _row(model="house-model-9", provider="studio-proxy", prompt_tokens=1000, completion_tokens=500),
    ]
    append_rows(workspace, "generations", rows)

    cost = cost_analysis(workspace, parse_range("7d", now=NOW), now=NOW)

    assert cost["text_usd"] == pytest.approx(1.25045)
    assert cost["unpriced_requests"] == 1
    by_model = {row["model"]: row for row in cost["by_model"]}
    assert by_model["house-model-9"]["cost_usd"] is None
    assert by_model["house-model-9"]["price_source"] == "price unknown"
    assert by_model["gpt-4o-mini"]["requests"] == 2
    # Tokens of the priced rows only: 150 + 1500.
    assert cost["per_1k_tokens_usd"] == pytest.approx(1.25045 / 1650 * 1000)
    # A 7-day range: the daily spend times 30.
    assert cost["monthly_projection_usd"] == pytest.approx(1.25045 / 7 * 30)


def test_cost_uses_workspace_overrides(workspace: Workspace) -> None:
    workspace.update_settings(price_overrides={"house-model-9": {"input_per_mtok": 2.0, "output_per_mtok": 4.0}})
    append_rows(workspace, "generations", [_row(model="house-model-9", prompt_tokens=1000, completion_tokens=500)])

    cost = cost_analysis(workspace, "all")

    assert cost["text_usd"] == pytest.approx(0.004)
    assert cost["by_model"][0]["price_source"] == "user override"
    assert cost["unpriced_requests"] == 0


def test_bulk_pricing_matches_per_row_estimates(workspace: Workspace) -> None:
    # Date-bounded (o3 before and after 2025-06-10), tiered (gemini-2.5-pro over 200k
    # tokens) and off-peak (deepseek-chat) prices must come out as one-by-one pricing.
    cases = [
        ("openai", "o3", datetime(2025, 6, 9, 22, tzinfo=UTC), 1000, 1000, 0, 0),
        ("openai", "o3", datetime(2025, 6, 10, 2, tzinfo=UTC), 1000, 1000, 0, 0),
        ("google", "gemini-2.5-pro", datetime(2026, 1, 5, tzinfo=UTC), 300_000, 2000, 100_000, 0),
        ("google", "gemini-2.5-pro", datetime(2026, 1, 5, tzinfo=UTC), 1000, 2000, 100, 0),
        ("openai", "o4-mini", datetime(2026, 1, 5, tzinfo=UTC), 500, 3000, 0, 2000),
        ("deepseek", "deepseek-chat", datetime(2026, 1, 5, 3, tzinfo=UTC), 1000, 1000, 0, 0),
        ("deepseek", "deepseek-chat", datetime(2026, 1, 5, 20, tzinfo=UTC), 1000, 1000, 0, 0),
    ]
    rows = [
        _row(provider=provider, model=model, created_at=at, prompt_tokens=prompt, completion_tokens=completion,
             cached_tokens=cached, reasoning_tokens=reasoning)
        for provider, model, at, prompt, completion, cached, reasoning in cases
    ]
    append_rows(workspace, "generations", rows)
    expected: dict[str, float] = {}
    for provider, model, at, prompt, completion, cached, reasoning in cases:
        estimate = estimate_cost(model, provider=provider, prompt_tokens=prompt, completion_tokens=completion,
                                 cached_tokens=cached, reasoning_tokens=reasoning, at=at)
        assert estimate.cost_usd is not None
        expected[model] = expected.get(model, 0.0) + estimate.cost_usd

    cost = cost_analysis(workspace, "all")

    by_model = {row["model"]: row["cost_usd"] for row in cost["by_model"]}
    assert by_model == pytest.approx(expected, rel=1e-9)
    assert expected["o3"] == pytest.approx(0.05 + 0.01)


def test_video_cost_enters_period(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [_row(cost_usd=0.5)])
    jobs = [
        {"id": "v1", "created_at": NOW - timedelta(hours=2), "model": "sora-2", "seconds": 8, "status": "completed"},
        {"id": "v2", "created_at": NOW - timedelta(hours=2), "model": "sora-2", "seconds": 4, "status": "failed"},
        {"id": "v3", "created_at": NOW - timedelta(hours=2), "model": "video-x", "seconds": 4, "status": "completed"},
        {"id": "v4", "created_at": NOW - timedelta(hours=2), "model": "sora-2-pro", "seconds": 4, "status": "completed",
         "cost_usd": 2.0},
    ]
    append_rows(workspace, "video_jobs", jobs)

    cost = cost_analysis(workspace, parse_range("24h", now=NOW), now=NOW)

    # sora-2: 8 s x 0.10 from LiteLLM; the recorded 2.0 is kept; video-x has no price.
    assert cost["video_usd"] == pytest.approx(2.8)
    assert cost["period_usd"] == pytest.approx(3.3)
    assert cost["unpriced_video_jobs"] == 1
    assert cost["video_jobs"] == 3


def test_cli_text_names_newest_data(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    append_rows(workspace, "generations", [_row(created_at=datetime(2024, 3, 1, tzinfo=UTC))])

    assert main(["analytics", "--range", "24h", "--workspace", str(workspace.path)]) == 0

    out = capsys.readouterr().out
    assert "No generations in this range" in out
    assert "2024-03-01" in out


def test_cli_text_report(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    append_rows(workspace, "generations", [_row(created_at=datetime.now(UTC) - timedelta(hours=1))])

    assert main(["analytics", "--workspace", str(workspace.path)]) == 0

    out = capsys.readouterr().out
    assert "gpt-4o-mini" in out
    assert "100.0%" in out
    assert "300 ms" in out


def test_latest_rows_equal_read_latest(workspace: Workspace) -> None:
    rng = np.random.default_rng(3)
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for commit in range(4):
        rows = []
        for position in range(300):
            # 120 ids repeat across commits; the rest are new in each commit.
            ident = f"shared-{position}" if position < 120 else f"c{commit}-{position}"
            rows.append(
                _row(
                    id=ident,
                    created_at=base,
                    status=str(rng.choice(["success", "failed", "aborted"])),
                    ttft_ms=float(rng.integers(1, 9000)),
                    # Few distinct times, so some versions of an id tie on recorded_at.
                    recorded_at=base + timedelta(minutes=int(rng.integers(0, 3))),
                )
            )
        append_rows(workspace, "generations", rows)

    columns = ["provider", "model", "status", "ttft_ms", "created_at"]
    fast = latest_generations(workspace, parse_range("all")).select(columns).sort(columns)
    reference = read_latest(workspace, "generations").select(columns).collect().sort(columns)

    assert fast.height == 120 + 4 * 180
    assert fast.equals(reference)
