"""Tests of the overview stats and the ``stats``, ``import`` and ``compact`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from creator_kit.analytics._overview import overview_stats
from creator_kit.analytics._range import parse_range
from creator_kit.cli import main
from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, append_rows, collect, scan_table

CREATOR_KIT = Path(sys.executable).parent / "creator-kit"

NOW = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CREATOR_KIT), *args], capture_output=True, text=True, timeout=120)


def generation(minutes_ago: float, **values: Any) -> dict[str, Any]:
    row = {
        "created_at": NOW - timedelta(minutes=minutes_ago),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "success",
    }
    row.update(values)
    return row


# --- acceptance on the real LLMPerf files -------------------------------------


def test_stats_match_raw_llmperf_files(workspace: Workspace, llmperf_files: list[Path]) -> None:
    requests = [request for path in llmperf_files for request in json.loads(path.read_text())]
    successes = [request for request in requests if request["error_code"] is None]
    expected_ttft_ms = sum(request["ttft_s"] * 1000 for request in successes) / len(successes)
    ws = str(workspace.path)

    imported = run_cli("import", *map(str, llmperf_files), "--format", "llmperf", "--workspace", ws, "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == len(requests)

    done = run_cli("stats", "--range", "all", "--json", "--workspace", ws)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert len(requests) == 1650
    assert stats["total_generations"] == len(requests)
    assert stats["success_rate"] == len(successes) / len(requests)
    assert stats["success_rate"] == 1292 / 1650
    assert stats["avg_ttft_ms"] == pytest.approx(expected_ttft_ms, rel=1e-12)

    again = run_cli("import", *map(str, llmperf_files), "--format", "llmperf", "--workspace", ws, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "imported": 0,
        "duplicates": len(requests),
        "rejected": 0,
        "errors": [],
    }
    recount = json.loads(run_cli("stats", "--range", "all", "--json", "--workspace", ws).stdout)
    assert recount["total_generations"] == len(requests)


def test_stats_readable_table(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(1, title="Teaser <b>cut</b>", prompt_tokens=10)])
    done = run_cli("stats", "--range", "all", "--workspace", str(workspace.path))
    assert done.returncode == 0, done.stderr
    assert "Total generations        1" in done.stdout
    assert "Success rate             100.0%" in done.stdout
    assert "Teaser <b>cut</b>" in done.stdout


def test_stats_bad_since_is_an_error(workspace: Workspace) -> None:
    done = run_cli("stats", "--since", "last week", "--workspace", str(workspace.path))
    assert done.returncode == 1
    assert "invalid --since value 'last week'" in done.stderr


def test_stats_names_corrupt_parquet(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(5)])
    append_rows(workspace, "generations", [generation(4)])
    damaged = sorted(workspace.table_path("generations").glob("*.parquet"))[0]
    damaged.write_bytes(b"PAR1 not really")

    done = run_cli("stats", "--range", "all", "--json", "--workspace", str(workspace.path))
    assert done.returncode == 1
    assert damaged.name in done.stderr
    assert "Hint:" in done.stderr
    assert done.stdout == ""


# --- overview_stats ----------------------------------------------------------


def test_overview_empty_workspace(workspace: Workspace) -> None:
    stats = overview_stats(workspace, "7d", now=NOW)
    assert stats == {
        "total_generations": 0,
        "success_rate": None,
        "avg_ttft_ms": None,
        "tokens_today": 0,
        "most_used_model": None,
        "recent_projects": [],
        "daily_quota": {"limit": 100_000, "used": 0, "remaining": 100_000},
    }


def test_overview_rates_and_ttft(workspace: Workspace) -> None:
    append_rows(
        workspace,
        "generations",
        [
            generation(1, ttft_ms=100.0),
            generation(2, ttft_ms=300.0),
            generation(3),  # success without a TTFT
            generation(4, status="failed", ttft_ms=9000.0),
            generation(5, status="aborted", ttft_ms=50.0),
            generation(6, status="pending"),
        ],
    )
    stats = overview_stats(workspace, "all", now=NOW)
    assert stats["total_generations"] == 6
    # Pending runs are neither a success nor a failure yet.
    assert stats["success_rate"] == 3 / 5
    assert stats["avg_ttft_ms"] == 200.0


def test_overview_tokens_today_and_quota(workspace: Workspace) -> None:
    midnight = datetime(2026, 12, 4, tzinfo=UTC)
    append_rows(
        workspace,
        "generations",
        [
            generation(0, created_at=midnight, prompt_tokens=1000, completion_tokens=500),
            generation(0, created_at=NOW, prompt_tokens=200, completion_tokens=None, status="failed"),
            generation(0, created_at=midnight - timedelta(microseconds=1), prompt_tokens=70_000),
        ],
    )
    stats = overview_stats(workspace, "24h", now=NOW)
    assert stats["tokens_today"] == 1700
    assert stats["daily_quota"] == {"limit": 100_000, "used": 1700, "remaining": 98_300}

    workspace.update_settings(daily_token_quota=1000)
    stats = overview_stats(workspace, "24h", now=NOW)
    assert stats["daily_quota"] == {"limit": 1000, "used": 1700, "remaining": 0}


def test_overview_invalid_quota_setting(workspace: Workspace) -> None:
    workspace.update_settings(daily_token_quota="lots")
    with pytest.raises(InvalidInputError, match="daily_token_quota 'lots' is invalid"):
        overview_stats(workspace, "7d", now=NOW)


def test_overview_range_filters(workspace: Workspace) -> None:
    append_rows(
        workspace,
        "generations",
        [
            generation(60, model="recent-model"),
            generation(60 * 24 * 3, model="older-model"),
            generation(60 * 24 * 3, model="older-model"),
        ],
    )
    assert overview_stats(workspace, "24h", now=NOW)["total_generations"] == 1
    assert overview_stats(workspace, "24h", now=NOW)["most_used_model"] == "recent-model"
    assert overview_stats(workspace, "7d", now=NOW)["total_generations"] == 3
    assert overview_stats(workspace, "7d", now=NOW)["most_used_model"] == "older-model"
    custom = parse_range(since="2026-12-01", until="2026-12-01")
    assert overview_stats(workspace, custom, now=NOW)["total_generations"] == 2


def test_overview_most_used_model_tie(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(1, model="b-model"), generation(2, model="a-model")])
    assert overview_stats(workspace, "all", now=NOW)["most_used_model"] == "a-model"


def test_overview_recent_projects(workspace: Workspace) -> None:
    rows = [generation(minutes, id=f"gen-{minutes}", title=f"Project {minutes}") for minutes in range(1, 8)]
    rows[0]["archived"] = True
    append_rows(workspace, "generations", rows)
    # A later fact about gen-2 (a new title) replaces the earlier row.
    append_rows(workspace, "generations", [{**rows[1], "title": "Renamed", "status": "failed"}])

    stats = overview_stats(workspace, "all", now=NOW)
    recent = stats["recent_projects"]
    assert [project["id"] for project in recent] == ["gen-2", "gen-3", "gen-4", "gen-5", "gen-6"]
    assert recent[0] == {
        "id": "gen-2",
        "title": "Renamed",
        "status": "failed",
        "model": "gpt-4o-mini",
        "created_at": NOW - timedelta(minutes=2),
    }
    # The edit is a second row of the same generation, not a new one.
    assert stats["total_generations"] == 7


# --- compact -----------------------------------------------------------------


def test_compact_keeps_rows_and_stats(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    for minutes in range(6):
        append_rows(workspace, "generations", [generation(minutes, ttft_ms=float(minutes * 10))])
    before = overview_stats(workspace, "all", now=NOW)
    files_before = len(list(workspace.table_path("generations").glob("*.parquet")))

    assert main(["compact", "--workspace", str(workspace.path)]) == 0
    out = capsys.readouterr().out
    assert f"generations: {files_before} files compacted into 1" in out
    assert overview_stats(workspace, "all", now=NOW) == before
    assert collect(scan_table(workspace, "generations")).height == 6
    assert list((workspace.table_path("generations") / "_delta_log").glob("*.checkpoint.parquet"))
