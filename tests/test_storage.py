"""Tests of creator_kit.storage on real Delta tables in temporary folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from creator_kit.errors import InvalidInputError, StorageError
from creator_kit.storage import (
    SCHEMAS,
    BatchWriter,
    Workspace,
    append_rows,
    collect,
    compact_tables,
    create_tables,
    read_latest,
    resolve_workspace,
    scan_table,
    table_version,
)

REPO = Path(__file__).resolve().parents[1]

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def generation(**values: Any) -> dict[str, Any]:
    row = {"created_at": NOW, "provider": "openai", "model": "gpt-4o-mini", "status": "success"}
    row.update(values)
    return row


def read_all(ws: Workspace, table: str = "generations") -> pl.DataFrame:
    return collect(scan_table(ws, table), workspace=ws)


def start_python(code: str, *args: str, stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


# --- append, scan, latest ----------------------------------------------------


def test_append_fills_defaults(workspace: Workspace) -> None:
    assert append_rows(workspace, "generations", [generation(prompt_tokens=12)]) == 1
    row = read_all(workspace).row(0, named=True)

    assert len(row["id"]) == 32
    assert row["recorded_at"].tzinfo is not None
    assert row["created_at"] == NOW
    assert row["prompt_tokens"] == 12
    assert row["tags"] == []
    assert row["source"] == "app"
    assert row["archived"] is False
    assert row["usage_estimated"] is False


def test_scan_keeps_microseconds_and_schema(workspace: Workspace) -> None:
    created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    append_rows(workspace, "generations", [generation(created_at=created, tags=["a", "b"])])
    frame = read_all(workspace)

    assert frame.schema == SCHEMAS["generations"]
    assert frame["created_at"][0] == created
    assert frame["tags"][0].to_list() == ["a", "b"]


def test_scan_of_missing_table_is_empty(workspace: Workspace) -> None:
    frame = read_all(workspace, "video_jobs")
    assert frame.height == 0
    assert frame.schema == SCHEMAS["video_jobs"]
    assert not workspace.path.exists()


def test_append_rejects_unknown_column(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="unknown column 'colour'"):
        append_rows(workspace, "generations", [generation(colour="red")])
    assert table_version(workspace, "generations") is None


def test_append_rejects_missing_required(workspace: Workspace) -> None:
    row = generation()
    del row["model"]
    with pytest.raises(InvalidInputError, match="required column 'model'"):
        append_rows(workspace, "generations", [row])


def test_append_rejects_wrong_type(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="generations"):
        append_rows(workspace, "generations", [generation(prompt_tokens="twelve")])


def test_read_latest_picks_newest_fact(workspace: Workspace) -> None:
    append_rows(workspace, "video_jobs", [{"id": "job-1", "created_at": NOW, "model": "sora-2", "status": "queued"}])
    append_rows(workspace, "video_jobs", [{"id": "job-2", "created_at": NOW, "model": "sora-2", "status": "queued"}])
    append_rows(
        workspace,
        "video_jobs",
        [{"id": "job-1", "created_at": NOW, "model": "sora-2", "status": "in_progress", "progress": 40}],
    )

    latest = collect(read_latest(workspace, "video_jobs"), workspace=workspace).sort("id")
    assert latest["id"].to_list() == ["job-1", "job-2"]
    assert latest["status"].to_list() == ["in_progress", "queued"]
    assert latest["progress"].to_list() == [40, None]
    assert read_all(workspace, "video_jobs").height == 3


def test_create_tables_makes_every_table(workspace: Workspace) -> None:
    create_tables(workspace)
    create_tables(workspace)
    for name in SCHEMAS:
        assert table_version(workspace, name) == 0
        assert read_all(workspace, name).height == 0


# --- BatchWriter -------------------------------------------------------------


def test_batch_writer_flushes_on_close(workspace: Workspace) -> None:
    with BatchWriter(workspace, "events", batch_size=100, interval=60) as writer:
        for number in range(7):
            writer.add({"kind": "attempt", "status_code": number})
        assert writer.pending == 7
    assert sorted(read_all(workspace, "events")["status_code"]) == list(range(7))


def test_batch_writer_flushes_full_batch(workspace: Workspace) -> None:
    writer = BatchWriter(workspace, "events", batch_size=5, interval=60)
    try:
        for _ in range(5):
            writer.add({"kind": "retry"})
        # The background thread commits a full batch without waiting for the interval.
        for _ in range(200):
            if table_version(workspace, "events") is not None and read_all(workspace, "events").height == 5:
                break
            time.sleep(0.05)
        assert read_all(workspace, "events").height == 5
        assert writer.pending == 0
    finally:
        writer.close()


def test_batch_writer_explicit_flush(workspace: Workspace) -> None:
    with BatchWriter(workspace, "events", batch_size=100, interval=60) as writer:
        writer.add({"kind": "failover"})
        writer.add({"kind": "failover"})
        assert writer.flush() == 2
        assert writer.flush() == 0
        assert read_all(workspace, "events").height == 2


def test_batch_writer_checks_rows_at_once(workspace: Workspace) -> None:
    with BatchWriter(workspace, "events", interval=60) as writer:
        with pytest.raises(InvalidInputError, match="unknown column 'colour'"):
            writer.add({"kind": "attempt", "colour": "red"})
        assert writer.pending == 0


def test_batch_writer_closed(workspace: Workspace) -> None:
    writer = BatchWriter(workspace, "events", interval=60)
    writer.close()
    with pytest.raises(StorageError, match="closed"):
        writer.add({"kind": "attempt"})


# --- several processes -------------------------------------------------------

APPENDER = """
import sys, time
from pathlib import Path
from creator_kit.storage import BatchWriter, resolve_workspace
from datetime import UTC, datetime

workspace, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():
    time.sleep(0.01)
with BatchWriter(resolve_workspace(workspace), "generations", batch_size=100, interval=60) as writer:
    for number in range(count):
        writer.add({
            "id": f"{name}-{number}",
            "created_at": datetime.now(UTC),
            "provider": name,
            "model": "m",
            "status": "success",
        })
"""


@pytest.mark.slow
def test_four_processes_append_at_once(workspace: Workspace, tmp_path: Path) -> None:
    create_tables(workspace)
    go = tmp_path / "go"
    writers = [
        start_python(APPENDER, str(workspace.path), f"writer{n}", "2000", str(go)) for n in range(4)
    ]
    go.touch()
    for writer in writers:
        _, stderr = writer.communicate(timeout=240)
        assert writer.returncode == 0, stderr.decode()

    rows = read_all(workspace)
    assert rows.height == 8000
    assert rows["id"].n_unique() == 8000
    assert rows.group_by("provider").len().sort("provider")["len"].to_list() == [2000] * 4


KILLED_WRITER = """
import os, sys
from creator_kit.storage import BatchWriter, resolve_workspace
from datetime import UTC, datetime

workspace, log = sys.argv[1], sys.argv[2]
writer = BatchWriter(resolve_workspace(workspace), "generations", batch_size=10_000, interval=3600)
with open(log, "a", encoding="utf-8") as committed:
    batch = 0
    while True:
        ids = [f"b{batch}-r{number}" for number in range(50)]
        for row_id in ids:
            writer.add({
                "id": row_id,
                "created_at": datetime.now(UTC),
                "provider": "p",
                "model": "m",
                "status": "success",
            })
        writer.flush()
        # Only rows whose commit returned are reported as flushed.
        committed.write(" ".join(ids) + "\\n")
        committed.flush()
        os.fsync(committed.fileno())
        batch += 1
"""


@pytest.mark.slow
def test_append_survives_killed_writer(workspace: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "committed.txt"
    writer = start_python(KILLED_WRITER, str(workspace.path), str(log))
    try:
        for _ in range(1200):
            if log.exists() and len(log.read_text().splitlines()) >= 5:
                break
            assert writer.poll() is None, writer.stderr.read().decode() if writer.stderr else ""
            time.sleep(0.05)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    flushed = [row_id for line in log.read_text().splitlines() for row_id in line.split()]
    assert len(flushed) >= 5 * 50
    rows = read_all(workspace)
    stored = set(rows["id"].to_list())
    assert set(flushed) <= stored
    assert rows["id"].n_unique() == rows.height
    # Rows beyond the last reported flush come only as whole committed batches.
    assert rows.height % 50 == 0

    assert append_rows(workspace, "generations", [generation(id="after-kill")]) == 1
    assert read_all(workspace).height == rows.height + 1


# --- compaction --------------------------------------------------------------


def test_compact_merges_files(workspace: Workspace) -> None:
    for number in range(5):
        append_rows(workspace, "generations", [generation(id=f"g{number}")])
    before = read_all(workspace).sort("id")
    version = table_version(workspace, "generations")

    report = compact_tables(workspace)

    assert report["generations"]["files_removed"] == 5
    assert report["generations"]["files_added"] == 1
    assert report["generations"]["version"] == version + 1
    assert read_all(workspace).sort("id").equals(before)
    log = workspace.table_path("generations") / "_delta_log"
    assert list(log.glob(f"{version + 1:020d}.checkpoint.parquet"))


def test_compact_empty_workspace(workspace: Workspace) -> None:
    assert compact_tables(workspace) == {}


# --- bad workspaces and files ------------------------------------------------


def test_workspace_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(StorageError, match="is a file, not a folder"):
        resolve_workspace(path)


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREATOR_KIT_WORKSPACE", str(tmp_path / "env"))
    assert resolve_workspace().path == tmp_path / "env"
    assert resolve_workspace(tmp_path / "flag").path == tmp_path / "flag"


def _set_read_only(folder: Path, *, on: bool) -> None:
    """Make `folder` read-only even for root (immutable attribute), or undo it."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w" if on else "u+w", str(folder)], check=True)
        return
    done = subprocess.run(["chattr", "-R", "+i" if on else "-i", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot make {folder} read-only for root: {done.stderr.strip()}")


def test_read_only_workspace(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="kept")])
    _set_read_only(workspace.path, on=True)
    try:
        with pytest.raises(StorageError, match="is read-only"):
            append_rows(workspace, "generations", [generation(id="new")])
        with pytest.raises(StorageError, match="is read-only"):
            create_tables(workspace)
        assert read_all(workspace)["id"].to_list() == ["kept"]
    finally:
        _set_read_only(workspace.path, on=False)
    assert table_version(workspace, "generations") == 1


def test_read_only_table_folder_message(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="kept")])
    table = workspace.table_path("generations")
    _set_read_only(table, on=True)
    try:
        with pytest.raises(StorageError) as caught:
            append_rows(workspace, "generations", [generation(id="new")])
    finally:
        _set_read_only(table, on=False)
    message = str(caught.value)
    assert "permission denied" in message.lower() or "read-only" in message
    assert "repair" not in message
    assert read_all(workspace)["id"].to_list() == ["kept"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"not parquet at all", id="garbage"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-8] + b"XXXXXXXX", id="bad-footer"),
    ],
)
def test_corrupt_parquet_named(workspace: Workspace, damage: Any) -> None:
    append_rows(workspace, "generations", [generation(id="first")])
    append_rows(workspace, "generations", [generation(id="second", created_at=NOW + timedelta(seconds=1))])
    file = max(workspace.table_path("generations").glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    saved = file.read_bytes()
    file.write_bytes(damage(saved))

    with pytest.raises(StorageError) as caught:
        collect(read_latest(workspace, "generations"), workspace=workspace)
    assert str(file) in str(caught.value)
    assert "Hint:" in str(caught.value)
    assert table_version(workspace, "generations") == 2

    file.write_bytes(saved)
    assert sorted(read_all(workspace)["id"]) == ["first", "second"]


def test_compact_names_corrupt_parquet(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="first")])
    append_rows(workspace, "generations", [generation(id="second")])
    file = sorted(workspace.table_path("generations").glob("*.parquet"))[0]
    file.write_bytes(b"not parquet at all")

    with pytest.raises(StorageError) as caught:
        compact_tables(workspace)
    # The raw error quoted at the end names the file too; the summary must name it.
    assert f"data file {file.name!r}" in str(caught.value)


def test_missing_parquet_named(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="first")])
    file = next(workspace.table_path("generations").glob("*.parquet"))
    file.rename(file.with_suffix(".moved"))

    with pytest.raises(StorageError) as caught:
        collect(scan_table(workspace, "generations"), workspace=workspace)
    assert file.name in str(caught.value)


def test_settings_round_trip_and_bad_file(workspace: Workspace) -> None:
    assert workspace.read_settings() == {}
    workspace.update_settings(daily_token_quota=5000, failover_order=["openai", "groq"])
    assert workspace.read_settings() == {"daily_token_quota": 5000, "failover_order": ["openai", "groq"]}
    workspace.update_settings(daily_token_quota=None)
    assert workspace.read_settings() == {"failover_order": ["openai", "groq"]}

    (workspace.path / "settings.json").write_text("{not json")
    with pytest.raises(StorageError, match="is not valid JSON"):
        workspace.read_settings()
    (workspace.path / "settings.json").write_text(json.dumps([1, 2]))
    with pytest.raises(StorageError, match="must contain a JSON object"):
        workspace.read_settings()


def test_repair_quarantines_damaged_file(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="first")])
    append_rows(workspace, "generations", [generation(id="second", created_at=NOW + timedelta(seconds=1))])
    append_rows(workspace, "events", [{"kind": "validation"}])
    file = max(workspace.table_path("generations").glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    file.write_bytes(b"not parquet at all")

    command = [sys.executable, "-m", "creator_kit.cli", "repair", "--workspace", str(workspace.path), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["quarantined"]
    assert [entry["table"] for entry in report] == ["generations"]
    assert report[0]["file"] == str(file)
    moved = workspace.path / "quarantine" / "generations" / file.name
    assert report[0]["moved_to"] == str(moved)
    assert moved.read_bytes() == b"not parquet at all"
    assert not file.exists()
    assert read_all(workspace)["id"].to_list() == ["first"]
    assert read_all(workspace, "events").height == 1


def test_repair_with_nothing_damaged(workspace: Workspace) -> None:
    append_rows(workspace, "generations", [generation(id="kept")])

    command = [sys.executable, "-m", "creator_kit.cli", "repair", "--workspace", str(workspace.path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert "nothing to repair" in done.stdout
    assert read_all(workspace)["id"].to_list() == ["kept"]
    assert not (workspace.path / "quarantine").exists()
