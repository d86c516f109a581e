"""The poller under stress: killed and restarted, and many jobs at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from creator_kit.jobs import JobPoller, submit_job, video_file_path
from creator_kit.storage import Workspace, append_rows, scan_table
from tests.fixtures.video_server import VideoServer, run_async, video_content

REPO = Path(__file__).resolve().parents[1]


def wait_for(condition: Callable[[], bool], *, timeout: float = 120, description: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {description}")
        time.sleep(0.02)


def start_watch(workspace: Workspace, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "import sys; from creator_kit.cli import main; sys.exit(main(sys.argv[1:]))",
        "-v",
        "jobs",
        "watch",
        "--until-done",
        "--interval",
        "0.05",
        "--workspace",
        str(workspace.path),
    ]
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_killed_poller_resumes_exactly_once(workspace: Workspace, video_server: VideoServer, tmp_path: Path) -> None:
    workspace.update_settings(video={"base_url": video_server.url, "max_backoff": 0.5})
    quick = [submit_job(f"a quick scene {n}", workspace=workspace)["id"] for n in range(4)]
    slow = [submit_job(f"scenario:slow a long scene {n}", workspace=workspace)["id"] for n in range(4)]
    video_server.content_gate.clear()
    log = tmp_path / "watch.log"

    first = start_watch(workspace, log)
    try:
        # Kill while a download is in flight and the slow jobs are still running.
        wait_for(lambda: sum(video_server.content_waiting.values()) >= 1, description="a download in flight")
        assert any(video_server.jobs[job_id].state()[0] != "completed" for job_id in slow)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    recorded_before_restart = scan_table(workspace, "video_jobs").collect()
    assert recorded_before_restart.filter(pl.col("status") == "completed").height >= 1
    requests_before_restart = len(video_server.requests)
    video_server.content_gate.set()

    second = start_watch(workspace, log)
    assert second.wait(timeout=240) == 0, log.read_text()

    history = scan_table(workspace, "video_jobs").collect()
    for job_id in quick + slow:
        rows = history.filter(pl.col("id") == job_id)
        assert rows.filter(pl.col("download_state") == "pending").height == 1, job_id
        assert rows.filter(pl.col("download_state") == "downloaded").height == 1, job_id
        assert rows.filter(pl.col("status") == "failed").height == 0, job_id
        assert video_server.full_deliveries[job_id] == 1, job_id
        assert video_file_path(workspace, job_id).read_bytes() == video_content(job_id)
    assert list(workspace.videos_dir.glob(".*.part")) == []

    # Jobs recorded as completed before the kill were not polled again.
    done_before = recorded_before_restart.filter(pl.col("status") == "completed")["id"].unique().to_list()
    later = video_server.requests[requests_before_restart:]
    assert not [r for r in later if r.job_id in done_before and r.method == "GET" and not r.path.endswith("/content")]


@pytest.mark.slow
def test_many_jobs_one_request_per_interval(workspace: Workspace, video_server: VideoServer) -> None:
    interval = 0.5
    workspace.update_settings(video={"base_url": video_server.url, "poll_interval": interval, "max_backoff": 2})
    ids = video_server.add_jobs(200, scenario="complete")
    now = datetime.now(UTC)
    append_rows(
        workspace,
        "video_jobs",
        [
            {"id": job_id, "created_at": now, "provider": video_server.url, "model": "sora-2", "prompt": "a benchmark", "seconds": 4, "size": "720x1280", "status": "queued", "progress": 0}
            for job_id in ids
        ],
    )

    poller = JobPoller(workspace)
    stats = run_async(asyncio.wait_for(poller.run(until_done=True), timeout=240))

    assert stats.downloads == 200
    for job_id in ids:
        times = video_server.status_times(job_id)
        assert len(times) == 5, job_id
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert min(gaps) >= interval, (job_id, gaps)
        assert video_server.full_deliveries[job_id] == 1
    latest = scan_table(workspace, "video_jobs").collect().sort("recorded_at").unique("id", keep="last")
    assert latest["download_state"].to_list() == ["downloaded"] * 200
    assert os.path.getsize(video_file_path(workspace, ids[0])) == len(video_content(ids[0]))
