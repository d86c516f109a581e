"""Rows of the ``video_jobs`` table: reading the current state, building the next row.

A job's current state is its newest row. Every observed change is a new full
row, so the history of a job is its timeline.

``download_state`` holds, besides the download itself, the stalled flag of an
unfinished job:

- null: not completed yet, nothing to report;
- ``stalled``: no change for the configured time (``checked_at`` and
  ``provider_response`` say when the provider was last asked and what it sent);
- ``pending``: completed, the video is not downloaded yet;
- ``downloaded``: ``video_path`` holds the checked file;
- ``download_failed``: completed at the provider, the download failed and may
  be retried (``error_message`` says why).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from creator_kit.errors import JobError
from creator_kit.storage import SCHEMAS, Workspace, collect, read_latest

__all__ = [
    "ACTIVE_STATUSES",
    "DISPLAY_STATUSES",
    "FileLock",
    "display_status",
    "is_active",
    "next_row",
    "read_job",
    "read_jobs",
]

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = ("queued", "in_progress")
DOWNLOAD_OPEN = (None, "pending", "download_failed")
DISPLAY_STATUSES = ("queued", "processing", "stalled", "completed", "download_failed", "failed", "cancelled")


def read_jobs(workspace: Workspace, *, status: str | None = None) -> pl.DataFrame:
    """Return the current state of every job, newest first.

    Parameters
    ----------
    status
        Keep only jobs with this display status (see `display_status`), e.g.
        ``"stalled"`` or ``"completed"``.
    """
    if status is not None and status not in DISPLAY_STATUSES:
        raise JobError(f"status {status!r} is not one of {', '.join(DISPLAY_STATUSES)}")
    frame = collect(read_latest(workspace, "video_jobs"), workspace=workspace)
    frame = frame.with_columns(_display_status_expr().alias("display_status")).sort(
        "created_at", descending=True, nulls_last=True
    )
    if status is not None:
        frame = frame.filter(pl.col("display_status") == status)
    return frame


def read_job(workspace: Workspace, job_id: str) -> dict[str, Any]:
    """Return the current row of job `job_id`.

    Raises
    ------
    JobError
        If the workspace has no job with that id.
    """
    frame = collect(read_latest(workspace, "video_jobs").filter(pl.col("id") == job_id), workspace=workspace)
    if frame.height == 0:
        msg = f"no video job {job_id!r} in workspace {str(workspace.path)!r}.\nHint: `creator-kit jobs list` shows the ids."
        raise JobError(msg)
    return frame.row(0, named=True)


def display_status(row: dict[str, Any]) -> str:
    """Return what the queue shows for a job: queued, processing, stalled, completed, ..."""
    status = row.get("status")
    state = row.get("download_state")
    if status in ACTIVE_STATUSES:
        if state == "stalled":
            return "stalled"
        return "queued" if status == "queued" else "processing"
    if status == "completed" and state == "download_failed":
        return "download_failed"
    return str(status)


def _display_status_expr() -> pl.Expr:
    status = pl.col("status")
    state = pl.col("download_state")
    active = status.is_in(list(ACTIVE_STATUSES))
    return (
        pl.when(active & (state == "stalled"))
        .then(pl.lit("stalled"))
        .when(status == "in_progress")
        .then(pl.lit("processing"))
        .when((status == "completed") & (state == "download_failed"))
        .then(pl.lit("download_failed"))
        .otherwise(status)
    )


def is_active(row: dict[str, Any]) -> bool:
    """True while the poller still has work for the job: a status to follow or a video to fetch."""
    status = row.get("status")
    if status in ACTIVE_STATUSES:
        return True
    return status == "completed" and row.get("download_state") in DOWNLOAD_OPEN


def next_row(previous: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Copy `previous` into a new full row with `changes` and a fresh ``recorded_at``."""
    row = {name: previous.get(name) for name in SCHEMAS["video_jobs"]}
    row.update(changes)
    row["recorded_at"] = datetime.now(UTC)
    return row


class FileLock:
    """An exclusive, non-blocking ``flock`` on a file.

    The operating system releases the lock when the holder exits, also on
    SIGKILL, so a killed poller never leaves a lock behind. Locks taken
    through two different `FileLock` objects exclude each other even inside
    one process.

    NOTE: POSIX only (``fcntl``); the lock files stay on disk, empty.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if it is free; return whether it is held now."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        """Release the lock if held."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
