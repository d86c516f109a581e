"""Tests of creator_kit.importers: every format, bad input, dedup and shifting."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from creator_kit.cli import main
from creator_kit.errors import InvalidInputError, StorageError
from creator_kit.importers import ImportReport, import_files, seed_workspace
from creator_kit.storage import Workspace, collect, resolve_workspace, scan_table, table_version

EARLIER_ROWS = [
    {
        "created_at": "2026-01-05T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "success",
        "title": "Launch video script",
        "prompt_tokens": 120,
        "completion_tokens": 80,
        "ttft_ms": 310.5,
        "tags": ["launch", "video"],
    },
    {
        "created_at": "2026-01-05T11:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "failed",
        "error_type": "rate_limited",
        "prompt_tokens": 50,
        "completion_tokens": 0,
    },
    {
        "created_at": "2026-01-06T09:30:00Z",
        "provider": "groq",
        "model": "llama-3.3-70b",
        "status": "aborted",
        "prompt_tokens": 40,
        "completion_tokens": 12,
    },
]


def read_generations(ws: Workspace) -> pl.DataFrame:
    return collect(scan_table(ws, "generations"), workspace=ws).sort("id")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_llmperf(folder: Path, name: str, requests: Any, *, summary: dict[str, Any] | None) -> Path:
    (folder / "individual").mkdir(parents=True, exist_ok=True)
    path = folder / "individual" / name
    path.write_text(json.dumps(requests), encoding="utf-8")
    if summary is not None:
        (folder / "summary").mkdir(exist_ok=True)
        (folder / "summary" / name).write_text(json.dumps(summary), encoding="utf-8")
    return path


def llmperf_request(**changes: Any) -> dict[str, Any]:
    request = {
        "error_code": None,
        "error_msg": "",
        "ttft_s": 0.25,
        "end_to_end_latency_s": 2.0,
        "number_input_tokens": 550,
        "number_output_tokens": 150,
    }
    request.update(changes)
    return request


SUMMARY = {"model": "meta-llama/Llama-2-7b-chat-hf", "timestamp": 1703135943, "num_concurrent_requests": 5}


@pytest.fixture
def earlier(workspace: Workspace, tmp_path: Path) -> pl.DataFrame:
    """Rows already in the workspace before a bad import is tried."""
    path = write_jsonl(tmp_path / "earlier.jsonl", EARLIER_ROWS)
    report = import_files(workspace, [path], format="jsonl")
    assert report.imported == len(EARLIER_ROWS)
    return read_generations(workspace)


def assert_earlier_intact(ws: Workspace, earlier: pl.DataFrame) -> None:
    now = read_generations(ws).filter(pl.col("id").is_in(earlier["id"].implode()))
    assert now.height == earlier.height
    assert now.equals(earlier)


# --- llmperf -----------------------------------------------------------------


def test_llmperf_real_files_statuses(workspace: Workspace, llmperf_files: list[Path]) -> None:
    report = import_files(workspace, llmperf_files, format="llmperf")
    raw = {path: json.loads(path.read_text()) for path in llmperf_files}
    expected_total = sum(len(requests) for requests in raw.values())

    assert report.to_dict() == {"imported": expected_total, "duplicates": 0, "rejected": 0, "errors": []}
    rows = read_generations(workspace)
    assert rows.height == expected_total
    codes = [r["error_code"] for requests in raw.values() for r in requests]
    assert rows.filter(pl.col("status") == "success").height == codes.count(None)
    assert rows.filter(pl.col("error_type") == "rate_limited").height == codes.count(429)
    assert rows.filter(pl.col("error_type") == "error_code_-100").height == codes.count(-100)
    assert set(rows["source"]) == {"import:llmperf"}


def test_llmperf_row_values(workspace: Workspace, llmperf_dir: Path) -> None:
    path = llmperf_dir / "individual" / "bedrock_13b.json"
    requests = json.loads(path.read_text())
    summary = json.loads((llmperf_dir / "summary" / "bedrock_13b.json").read_text())
    import_files(workspace, [path], format="llmperf")

    rows = read_generations(workspace).sort("title").with_columns(
        pl.col("title").str.extract(r"request (\d+)$").cast(pl.Int64).alias("position")
    ).sort("position")
    assert rows["position"].to_list() == list(range(1, len(requests) + 1))
    assert set(rows["provider"]) == {"bedrock"}
    assert set(rows["model"]) == {summary["model"]}
    assert rows["created_at"].max() <= datetime.fromtimestamp(summary["timestamp"], UTC)
    assert rows["created_at"].is_sorted()

    first_ok = next(i for i, r in enumerate(requests) if r["error_code"] is None)
    row = rows.row(first_ok, named=True)
    assert row["status"] == "success"
    assert row["ttft_ms"] == pytest.approx(requests[first_ok]["ttft_s"] * 1000)
    assert row["latency_ms"] == pytest.approx(requests[first_ok]["end_to_end_latency_s"] * 1000)
    assert row["prompt_tokens"] == requests[first_ok]["number_input_tokens"]
    assert row["completion_tokens"] == requests[first_ok]["number_output_tokens"]
    assert row["output"] == requests[first_ok]["GEN_TEXT"]

    first_failed = next(i for i, r in enumerate(requests) if r["error_code"] == -100)
    failed = rows.row(first_failed, named=True)
    assert failed["status"] == "failed"
    assert failed["error_type"] == "error_code_-100"
    assert failed["error_message"].startswith("error code -100")
    assert requests[first_failed]["error_msg"] in failed["error_message"]


def test_llmperf_rate_limited_rows(workspace: Workspace, llmperf_dir: Path) -> None:
    path = llmperf_dir / "individual" / "lepton_7b.json"
    requests = json.loads(path.read_text())
    import_files(workspace, [path], format="llmperf")

    limited = read_generations(workspace).filter(pl.col("error_type") == "rate_limited")
    assert limited.height == sum(r["error_code"] == 429 for r in requests)
    assert set(limited["status"]) == {"failed"}
    assert all(message.startswith("error code 429") for message in limited["error_message"])
    # LLMPerf writes 0 s for timings a failed request never measured.
    assert limited["ttft_ms"].null_count() == limited.height


def test_llmperf_without_summary_names_flags(workspace: Workspace, tmp_path: Path) -> None:
    path = write_llmperf(tmp_path, "acme_7b.json", [llmperf_request()], summary=None)

    with pytest.raises(InvalidInputError, match="--model"):
        import_files(workspace, [path], format="llmperf")
    with pytest.raises(InvalidInputError, match="--timestamp"):
        import_files(workspace, [path], format="llmperf", model="llama-2-7b")
    assert table_version(workspace, "generations") is None

    report = import_files(
        workspace, [path], format="llmperf", model="llama-2-7b", timestamp="2024-01-02T03:04:05+01:00"
    )
    assert report.imported == 1
    row = read_generations(workspace).row(0, named=True)
    assert row["provider"] == "acme"
    assert row["model"] == "llama-2-7b"
    # One request of 2 s ending at the run's end: it started 2 s before.
    assert row["created_at"] == datetime(2024, 1, 2, 2, 4, 3, tzinfo=UTC)


def test_llmperf_flags_override_summary(workspace: Workspace, tmp_path: Path) -> None:
    path = write_llmperf(tmp_path, "acme_7b.json", [llmperf_request()], summary=SUMMARY)
    import_files(workspace, [path], format="llmperf", provider="my-gateway", model="custom-model")
    row = read_generations(workspace).row(0, named=True)
    assert row["provider"] == "my-gateway"
    assert row["model"] == "custom-model"


# --- azure-trace -------------------------------------------------------------


def test_azure_trace_real_file(workspace: Workspace, azure_trace_file: Path) -> None:
    with azure_trace_file.open(newline="") as handle:
        raw = list(csv.DictReader(handle))
    report = import_files(workspace, [azure_trace_file], format="azure-trace")

    assert report.imported == len(raw)
    assert report.rejected == 0
    rows = read_generations(workspace).sort("created_at")
    assert set(rows["model"]) == {"code"}
    assert set(rows["provider"]) == {"azure-trace"}
    assert set(rows["status"]) == {"success"}
    assert rows["latency_ms"].null_count() == rows.height
    assert rows["prompt_tokens"].sum() == sum(int(r["ContextTokens"]) for r in raw)
    assert rows["completion_tokens"].sum() == sum(int(r["GeneratedTokens"]) for r in raw)
    # 2023-11-16 18:17:03.9799600, 7 fractional digits, naive UTC.
    assert raw[0]["TIMESTAMP"] == "2023-11-16 18:17:03.9799600"
    assert rows["created_at"][0] == datetime(2023, 11, 16, 18, 17, 3, 979960, tzinfo=UTC)


def test_azure_model_from_service_name(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "AzureLLMInferenceTrace_conv.csv"
    path.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n")
    import_files(workspace, [path], format="azure-trace")
    assert read_generations(workspace)["model"].to_list() == ["conv"]

    other = tmp_path / "trace.csv"
    other.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47.0000000,100,5\n")
    with pytest.raises(InvalidInputError, match="--model"):
        import_files(workspace, [other], format="azure-trace")
    import_files(workspace, [other], format="azure-trace", model="gpt-4", provider="azure")
    assert read_generations(workspace).filter(pl.col("provider") == "azure")["model"].to_list() == ["gpt-4"]


# --- csv and jsonl -----------------------------------------------------------


def test_csv_all_column_types(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(
        "id,created_at,provider,model,title,status,prompt_tokens,completion_tokens,"
        "cached_tokens,usage_estimated,ttft_ms,latency_ms,cost_usd,tags,archived\n"
        'run-1,2026-02-01T08:00:00+02:00,openai,gpt-4o,"Hook, take 2",success,100,20,'
        '40,false,250.5,900,0.0012,"[""ad"", ""hook""]",true\n'
        "run-2,2026-02-01 09:00:00,openai,gpt-4o,,pending,,,,,,,,ad;draft,\n",
        encoding="utf-8",
    )
    report = import_files(workspace, [path], format="csv")
    assert report.to_dict() == {"imported": 2, "duplicates": 0, "rejected": 0, "errors": []}

    rows = {row["id"]: row for row in read_generations(workspace).to_dicts()}
    first = rows["run-1"]
    assert first["created_at"] == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert first["title"] == "Hook, take 2"
    assert first["cached_tokens"] == 40
    assert first["usage_estimated"] is False
    assert first["ttft_ms"] == 250.5
    assert first["cost_usd"] == 0.0012
    assert first["tags"] == ["ad", "hook"]
    assert first["archived"] is True
    assert first["source"] == "import:csv"
    second = rows["run-2"]
    assert second["created_at"] == datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    assert second["prompt_tokens"] is None
    assert second["tags"] == ["ad", "draft"]
    assert second["archived"] is False


def test_jsonl_rows_and_flags(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS)
    report = import_files(workspace, [path], format="jsonl", provider="openrouter")
    assert report.imported == 3
    rows = read_generations(workspace).sort("created_at")
    assert rows["provider"].to_list() == ["openrouter"] * 3
    assert rows["status"].to_list() == ["success", "failed", "aborted"]
    assert rows["tags"][0].to_list() == ["launch", "video"]


def test_ignored_columns_set_by_import(workspace: Workspace, tmp_path: Path) -> None:
    row = {**EARLIER_ROWS[0], "source": "app", "source_key": "mine", "recorded_at": "2020-01-01T00:00:00Z"}
    import_files(workspace, [write_jsonl(tmp_path / "export.jsonl", [row])], format="jsonl")
    stored = read_generations(workspace).row(0, named=True)
    assert stored["source"] == "import:jsonl"
    assert stored["source_key"].startswith("jsonl:")
    assert stored["recorded_at"].year >= 2026


# --- dedup and shifting ------------------------------------------------------


def test_reimport_adds_nothing(workspace: Workspace, tmp_path: Path, azure_trace_file: Path) -> None:
    first = import_files(workspace, [azure_trace_file], format="azure-trace")
    again = import_files(workspace, [azure_trace_file], format="azure-trace", shift_to_now=True)
    copy = tmp_path / "AzureLLMInferenceTrace_code.csv"
    shutil.copy(azure_trace_file, copy)
    copied = import_files(workspace, [copy], format="azure-trace")

    assert again.imported == 0
    assert again.duplicates == first.imported
    assert copied.imported == 0
    assert read_generations(workspace).height == first.imported


def test_same_file_twice_in_one_call(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS)
    report = import_files(workspace, [path, path], format="jsonl")
    assert report.imported == 3
    assert report.duplicates == 3


def test_changed_file_imports_new_rows(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS[:2])
    import_files(workspace, [path], format="jsonl")
    write_jsonl(path, EARLIER_ROWS)
    report = import_files(workspace, [path], format="jsonl")
    # The content hash changed, so every row of the new file is new.
    assert report.imported == 3
    assert read_generations(workspace).height == 5


def test_shift_to_now_keeps_gaps(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "AzureLLMInferenceTrace_code.csv"
    path.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:17:03.9799600,4808,10\n"
        "2023-11-16 18:17:04.0319600,3180,8\n"
        "2023-11-16 19:14:19.9300000,110,27\n"
    )
    now = datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC)
    import_files(workspace, [path], format="azure-trace", shift_to_now=True, now=now)

    times = read_generations(workspace).sort("created_at")["created_at"].to_list()
    assert times[-1] == now
    assert times[1] - times[0] == timedelta(microseconds=52000)
    assert times[2] - times[1] == timedelta(minutes=57, seconds=15, microseconds=898040)


def test_without_shift_times_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS[:1])
    import_files(workspace, [path], format="jsonl")
    assert read_generations(workspace)["created_at"][0] == datetime(2026, 1, 5, 10, tzinfo=UTC)


# --- bad input: each keeps the earlier rows ----------------------------------

BAD_FILES = [
    pytest.param(
        "llmperf", "individual/acme_7b.json", '[{"error_code": null,\n  "ttft_s": 0.2\n', 3,
        "malformed JSON", id="malformed-json",
    ),
    pytest.param(
        "llmperf", "individual/acme_7b.json", json.dumps(SUMMARY), 1,
        "expected a JSON array of request objects, got a JSON object", id="object-not-array",
    ),
    pytest.param(
        "llmperf", "individual/acme_7b.json", "[]", 1, "empty JSON array", id="llmperf-zero-rows",
    ),
    pytest.param("llmperf", "individual/acme_7b.json", "", 1, "the file is empty", id="empty-json"),
    pytest.param("csv", "runs.csv", "", 1, "the file is empty", id="empty-csv"),
    pytest.param("jsonl", "runs.jsonl", "\n\n", 1, "the file is empty", id="blank-jsonl"),
    pytest.param(
        "csv", "runs.csv", "created_at,provider,model,status\n", 1, "has a header but no rows",
        id="csv-zero-rows",
    ),
    pytest.param(
        "csv", "runs.csv", "created_at,provider,model,prompt_tokens\n2026-01-01T00:00:00Z,openai,gpt,3\n",
        1, "missing required column 'status'", id="csv-missing-column",
    ),
    pytest.param(
        "csv", "runs.csv", "created_at,provider,model,status,colour\n2026-01-01T00:00:00Z,openai,gpt,success,red\n",
        1, "unknown column 'colour'", id="csv-unknown-column",
    ),
    pytest.param(
        "azure-trace", "AzureLLMInferenceTrace_code.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens,Region\n2023-11-16 18:17:03.9799600,1,2,west\n",
        1, "unknown column 'Region'", id="azure-unknown-column",
    ),
    pytest.param(
        "azure-trace", "AzureLLMInferenceTrace_code.csv",
        "TIMESTAMP,ContextTokens\n2023-11-16 18:17:03.9799600,1\n",
        1, "missing required column 'GeneratedTokens'", id="azure-missing-column",
    ),
]


@pytest.mark.parametrize(("format_", "name", "content", "line", "reason"), BAD_FILES)
def test_bad_file_rejected(
    workspace: Workspace,
    earlier: pl.DataFrame,
    tmp_path: Path,
    format_: str,
    name: str,
    content: str,
    line: int,
    reason: str,
) -> None:
    path = tmp_path / "input" / name
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    version = table_version(workspace, "generations")

    report = import_files(workspace, [path], format=format_, model="m", timestamp="2024-01-01T00:00:00")

    assert report.imported == 0
    assert report.rejected == 1
    assert report.errors[0]["file"] == str(path)
    assert report.errors[0]["line"] == line
    assert reason in report.errors[0]["reason"]
    assert table_version(workspace, "generations") == version
    assert_earlier_intact(workspace, earlier)


AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
GOOD_AZURE_ROW = "2023-11-16 18:17:03.9799600,4808,10\n"

BAD_ROWS = [
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "2023-11-16 18:17:04.03196001,3180,8\n", 3,
        "TIMESTAMP '2023-11-16 18:17:04.03196001' has 8 fractional digits; at most 7", id="eight-digits",
    ),
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "2023-11-16 18:17:04.0319600+02:00,3180,8\n", 3,
        "has a UTC offset (+02:00)", id="azure-offset",
    ),
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "16/11/2023 18:17,3180,8\n", 3,
        "TIMESTAMP '16/11/2023 18:17' is not an ISO 8601 time", id="unparsable-time",
    ),
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "2023-11-16 18:17:04.0319600,-3180,8\n", 3,
        "ContextTokens '-3180' is negative", id="azure-negative-tokens",
    ),
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "2023-11-16 18:17:04.0319600,3180,8.5\n", 3,
        "GeneratedTokens '8.5' is fractional", id="azure-fractional-tokens",
    ),
    pytest.param(
        "azure-trace", AZURE_HEADER + GOOD_AZURE_ROW + "2023-11-16 18:17:04.0319600,3180\n", 3,
        "the row has 2 fields but the header has 3", id="azure-short-row",
    ),
    pytest.param(
        "llmperf", json.dumps([llmperf_request(), llmperf_request(number_output_tokens=-1)]), 2,
        "number_output_tokens -1 is negative", id="llmperf-negative-tokens",
    ),
    pytest.param(
        "llmperf", json.dumps([llmperf_request(), llmperf_request(number_input_tokens=550.5)]), 2,
        "number_input_tokens 550.5 is fractional", id="llmperf-fractional-tokens",
    ),
    pytest.param(
        "llmperf", json.dumps([llmperf_request(), {"ttft_s": 0.1}]), 2,
        "missing required field 'number_input_tokens'", id="llmperf-missing-field",
    ),
    pytest.param(
        "llmperf", json.dumps([llmperf_request(), llmperf_request(ttft_s="fast")]), 2,
        "ttft_s 'fast' is not a number", id="llmperf-wrong-type",
    ),
    pytest.param(
        "llmperf", json.dumps([llmperf_request(), [1, 2]]), 2,
        "expected a request object, got a JSON array", id="llmperf-array-element",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + '{"created_at": "2026-01-01T00:00:00Z", "provider": "x"\n', 2,
        "malformed JSON", id="jsonl-malformed-line",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps({**EARLIER_ROWS[0], "colour": "red"}) + "\n", 2,
        "unknown column 'colour'", id="jsonl-unknown-column",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps({**EARLIER_ROWS[0], "prompt_tokens": "many"}) + "\n",
        2, "prompt_tokens 'many' is not a whole number", id="jsonl-wrong-type",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps({**EARLIER_ROWS[0], "status": None}) + "\n", 2,
        "missing required field 'status'", id="jsonl-missing-field",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps({**EARLIER_ROWS[0], "status": "done"}) + "\n", 2,
        "status 'done' is not one of success, failed, aborted, pending", id="jsonl-bad-status",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps({**EARLIER_ROWS[0], "ttft_ms": -5}) + "\n", 2,
        "ttft_ms -5 is negative", id="jsonl-negative-ttft",
    ),
    pytest.param(
        "jsonl", json.dumps(EARLIER_ROWS[0]) + "\n" + json.dumps(["not", "an", "object"]) + "\n", 2,
        "expected a JSON object", id="jsonl-array-line",
    ),
    pytest.param(
        "csv",
        "created_at,provider,model,status,completion_tokens\n"
        "2026-01-01T00:00:00Z,openai,gpt,success,3\n"
        '"2026-01-01T00:00:00.123456789Z",openai,gpt,success,3\n',
        3, "has 9 fractional digits; at most 7", id="csv-nine-digits",
    ),
    pytest.param(
        "csv",
        "created_at,provider,model,status,completion_tokens\n"
        "2026-01-01T00:00:00Z,openai,gpt,success,3\n"
        "2026-01-01T00:00:00Z,openai,gpt,success,3.25\n",
        3, "completion_tokens '3.25' is fractional", id="csv-fractional-tokens",
    ),
]


@pytest.mark.parametrize(("format_", "content", "line", "reason"), BAD_ROWS)
def test_bad_row_rejected_good_rows_kept(
    workspace: Workspace,
    earlier: pl.DataFrame,
    tmp_path: Path,
    format_: str,
    content: str,
    line: int,
    reason: str,
) -> None:
    names = {
        "azure-trace": "AzureLLMInferenceTrace_code.csv",
        "llmperf": "individual/acme_7b.json",
        "csv": "runs.csv",
        "jsonl": "runs.jsonl",
    }
    path = tmp_path / "input" / names[format_]
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")

    report = import_files(workspace, [path], format=format_, model="m", timestamp="2024-01-01T00:00:00")

    assert report.imported == 1
    assert report.rejected == 1
    assert report.errors == [{"file": str(path), "line": line, "reason": report.errors[0]["reason"]}]
    assert reason in report.errors[0]["reason"]
    assert read_generations(workspace).height == earlier.height + 1
    assert_earlier_intact(workspace, earlier)


def test_csv_offset_converted_to_utc(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(
        "created_at,provider,model,status\n"
        "2026-03-01T01:30:00-05:00,openai,gpt,success\n"
        "2026-03-01T01:30:00.9799600Z,openai,gpt,success\n"
    )
    import_files(workspace, [path], format="csv")
    times = sorted(read_generations(workspace)["created_at"].to_list())
    assert times == [
        datetime(2026, 3, 1, 1, 30, 0, 979960, tzinfo=UTC),
        datetime(2026, 3, 1, 6, 30, tzinfo=UTC),
    ]


def test_multiline_csv_cell_keeps_line_numbers(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "runs.csv"
    path.write_text(
        "created_at,provider,model,status,prompt\n"
        '2026-01-01T00:00:00Z,openai,gpt,success,"line one\nline two"\n'
        "2026-01-01T00:00:00Z,openai,gpt,finished,x\n"
    )
    report = import_files(workspace, [path], format="csv")
    assert report.imported == 1
    assert report.errors[0]["line"] == 4
    assert read_generations(workspace)["prompt"].to_list() == ["line one\nline two"]


def test_bad_and_good_files_together(workspace: Workspace, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", EARLIER_ROWS)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("")
    report = import_files(workspace, [bad, good], format="jsonl")
    assert report.imported == 3
    assert report.errors == [{"file": str(bad), "line": 1, "reason": report.errors[0]["reason"]}]


def test_usage_errors_write_nothing(workspace: Workspace, earlier: pl.DataFrame, tmp_path: Path) -> None:
    version = table_version(workspace, "generations")
    good = write_jsonl(tmp_path / "good.jsonl", EARLIER_ROWS[:1])

    with pytest.raises(InvalidInputError, match="unknown import format 'parquet'"):
        import_files(workspace, [good], format="parquet")
    with pytest.raises(InvalidInputError, match="not found"):
        import_files(workspace, [good, tmp_path / "missing.jsonl"], format="jsonl")
    with pytest.raises(InvalidInputError, match="is a folder"):
        import_files(workspace, [tmp_path], format="jsonl")
    with pytest.raises(InvalidInputError, match="--timestamp 'yesterday' is not an ISO 8601 time"):
        import_files(workspace, [good], format="llmperf", timestamp="yesterday")

    assert table_version(workspace, "generations") == version
    assert_earlier_intact(workspace, earlier)


# --- bad workspaces ----------------------------------------------------------


def test_workspace_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    rows = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS)

    with pytest.raises(StorageError, match="is a file, not a folder") as caught:
        import_files(path, [rows], format="jsonl")
    assert "--workspace" in str(caught.value)
    assert path.read_text() == "keep me"


def test_cli_workspace_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    rows = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS)

    assert main(["import", str(rows), "--format", "jsonl", "--workspace", str(path)]) == 1
    assert f"error: workspace path {str(path)!r} is a file, not a folder" in capsys.readouterr().err
    assert path.read_text() == "keep me"


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` and everything in it read-only, even for root.

    Root ignores permission bits, so as root the folders get the immutable
    attribute (chattr +i), which the kernel enforces for every user.
    """
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
        return
    done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make {folder} read-only for root: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)


def test_read_only_workspace(workspace: Workspace, earlier: pl.DataFrame, tmp_path: Path) -> None:
    new_rows = write_jsonl(tmp_path / "new.jsonl", [{**EARLIER_ROWS[0], "title": "new"}])
    version = table_version(workspace, "generations")

    with read_only(workspace.path):
        with pytest.raises(OSError):
            (workspace.path / "probe").write_text("x")
        with pytest.raises(StorageError, match="read-only") as caught:
            import_files(workspace, [new_rows], format="jsonl")
        assert str(workspace.path) in str(caught.value)
        assert "--workspace" in str(caught.value)

    assert table_version(workspace, "generations") == version
    assert_earlier_intact(workspace, earlier)


def test_read_only_table_folder(workspace: Workspace, earlier: pl.DataFrame, tmp_path: Path) -> None:
    """The workspace folder is writable but the table's own folder is not."""
    new_rows = write_jsonl(tmp_path / "new.jsonl", [{**EARLIER_ROWS[0], "title": "new"}])
    version = table_version(workspace, "generations")

    with read_only(workspace.table_path("generations")):
        with pytest.raises(StorageError, match="is read-only") as caught:
            import_files(workspace, [new_rows], format="jsonl")
        assert str(workspace.table_path("generations")) in str(caught.value)

    assert table_version(workspace, "generations") == version
    assert_earlier_intact(workspace, earlier)


def test_corrupt_parquet_named(workspace: Workspace, earlier: pl.DataFrame, tmp_path: Path) -> None:
    more = write_jsonl(tmp_path / "more.jsonl", EARLIER_ROWS[:1])
    import_files(workspace, [more], format="jsonl")
    before = read_generations(workspace)
    newest = max(workspace.table_path("generations").glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    saved = newest.read_bytes()
    newest.write_bytes(b"this is not parquet")
    version = table_version(workspace, "generations")

    # Re-importing the file must read the damaged file to find its source keys.
    with pytest.raises(StorageError) as caught:
        import_files(workspace, [more], format="jsonl")
    assert newest.name in str(caught.value)
    assert "Hint:" in str(caught.value)
    assert table_version(workspace, "generations") == version

    newest.write_bytes(saved)
    assert read_generations(workspace).equals(before)
    assert_earlier_intact(workspace, earlier)


# --- seeding and the command line --------------------------------------------


def test_seed_workspace_once(workspace: Workspace, llmperf_files: list[Path], azure_trace_file: Path) -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    report = seed_workspace(workspace, now=now)

    expected = sum(len(json.loads(p.read_text())) for p in llmperf_files)
    expected += len(azure_trace_file.read_text().splitlines()) - 1
    assert isinstance(report, ImportReport)
    assert report.imported == expected
    assert report.rejected == 0
    rows = read_generations(workspace)
    assert rows.height == expected
    assert rows.filter(pl.col("source") == "import:llmperf")["created_at"].max() == now
    assert rows.filter(pl.col("source") == "import:azure-trace")["created_at"].max() == now

    assert seed_workspace(workspace) is None
    assert seed_workspace(workspace.path) is None
    assert read_generations(workspace).height == expected


def test_seed_missing_traces(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="shipped traces are missing"):
        seed_workspace(workspace, traces_dir=tmp_path / "nothing")


def test_cli_import_exit_status_and_json(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", EARLIER_ROWS)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**EARLIER_ROWS[0], "prompt_tokens": -1}) + "\n")
    ws = str(workspace.path)

    assert main(["import", str(good), "--format", "jsonl", "--workspace", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"imported": 3, "duplicates": 0, "rejected": 0, "errors": []}

    assert main(["import", str(good), str(bad), "--format", "jsonl", "--workspace", ws, "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "imported": 0,
        "duplicates": 3,
        "rejected": 1,
        "errors": [{"file": str(bad), "line": 1, "reason": "prompt_tokens -1 is negative; it must be 0 or more"}],
    }

    assert main(["import", str(bad), "--format", "jsonl", "--workspace", ws]) == 1
    out = capsys.readouterr().out
    assert "Imported 0 rows from 1 file(s); 0 duplicates skipped; 1 rejected." in out
    assert f"{bad}:1: prompt_tokens -1 is negative" in out


def test_cli_usage_error_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_llmperf(tmp_path, "acme_7b.json", [llmperf_request()], summary=None)
    status = main(["import", str(path), "--format", "llmperf", "--workspace", str(tmp_path / "ws")])
    assert status == 1
    assert "Hint: pass --model NAME." in capsys.readouterr().err


def test_cli_seed(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--workspace", str(workspace.path)]) == 0
    assert "Seeded workspace" in capsys.readouterr().out
    assert main(["seed", "--workspace", str(workspace.path)]) == 0
    assert "already has generations; nothing was imported" in capsys.readouterr().out


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREATOR_KIT_WORKSPACE", str(tmp_path / "env-ws"))
    rows = write_jsonl(tmp_path / "runs.jsonl", EARLIER_ROWS)
    assert main(["import", str(rows), "--format", "jsonl"]) == 0
    assert read_generations(resolve_workspace(tmp_path / "env-ws")).height == 3


def test_jsonl_errors_sorted_by_file_line(workspace: Workspace, tmp_path: Path) -> None:
    # Line 1 is valid JSON with an invalid value; line 2 is not JSON at all, so the
    # parser meets line 2's error before the row check reports line 1's.
    bad_value = json.dumps({**EARLIER_ROWS[0], "prompt_tokens": "many"})
    second = tmp_path / "b.jsonl"
    second.write_text(bad_value + "\n{not json\n", encoding="utf-8")
    first = tmp_path / "a.jsonl"
    first.write_text(bad_value + "\n{not json\n", encoding="utf-8")

    report = import_files(workspace, [second, first], format="jsonl")

    assert report.rejected == 4
    assert [(Path(e["file"]).name, e["line"]) for e in report.errors] == [
        ("a.jsonl", 1), ("a.jsonl", 2), ("b.jsonl", 1), ("b.jsonl", 2)]
    assert "prompt_tokens" in report.errors[0]["reason"]


def test_report_merge_sorts_errors() -> None:
    later = ImportReport(rejected=1, errors=[{"file": "a.csv", "line": 9, "reason": "late"}])
    earlier = ImportReport(rejected=2, errors=[
        {"file": "a.csv", "line": 3, "reason": "early"}, {"file": "a.csv", "line": None, "reason": "whole file"}])

    merged = later.merge(earlier)

    assert [e["reason"] for e in merged.errors] == ["whole file", "early", "late"]
