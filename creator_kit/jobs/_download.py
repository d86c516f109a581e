"""Download of a completed job's video and thumbnail, once.

The video goes to ``<workspace>/videos/<job id>.mp4`` through a temporary
file in the same folder and `os.replace`, after its size was checked against
``content-length``; the thumbnail goes beside it. A per-job file lock makes
two processes (two pollers, or a poller and ``jobs download``) fetch a video
at most once between them, and the row that records the download is
committed before the lock is released. A process killed mid-download leaves
only a ``.part`` file, removed by the next attempt; the final file exists only
when complete, so a restarted poller that finds it records it without fetching
it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from creator_kit.jobs._client import VideoApiError, VideoClient
from creator_kit.jobs._store import FileLock, next_row
from creator_kit.storage import Workspace, append_rows, collect, read_latest

__all__ = ["download_job_files", "video_file_path"]

logger = logging.getLogger(__name__)

THUMBNAIL_SUFFIXES = {"image/webp": ".webp", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}


def video_file_path(workspace: Workspace, job_id: str) -> Path:
    """Return where the video of `job_id` is stored."""
    return workspace.videos_dir / f"{_safe_id(job_id)}.mp4"


async def download_job_files(workspace: Workspace, row: dict[str, Any], client: VideoClient) -> dict[str, Any] | None:
    """Download the video and thumbnail of a completed job and append the resulting row.

    Returns the appended row (``download_state`` ``downloaded`` or
    ``download_failed``), or None when another process holds the job's lock
    or the table already records the download.
    """
    job_id = str(row["id"])
    workspace.ensure_writable()
    lock = FileLock(workspace.videos_dir / f".{_safe_id(job_id)}.lock")
    if not lock.acquire():
        logger.debug("job %s is being downloaded by another process", job_id)
        return None
    try:
        current = await asyncio.to_thread(_read_current, workspace, job_id)
        if current is not None and current.get("download_state") == "downloaded":
            return None
        current = current or row
        new_row = await _fetch(workspace, current, client)
        await asyncio.to_thread(append_rows, workspace, "video_jobs", [new_row])
        return new_row
    finally:
        lock.release()


async def _fetch(workspace: Workspace, row: dict[str, Any], client: VideoClient) -> dict[str, Any]:
    job_id = str(row["id"])
    final = video_file_path(workspace, job_id)
    _remove_parts(workspace.videos_dir, job_id)

    if final.exists():
        # Only a checked, complete file is ever renamed to this name.
        size = final.stat().st_size
        logger.info("video of job %s already at %s (%d bytes)", job_id, final, size)
    else:
        part = workspace.videos_dir / f".{_safe_id(job_id)}.{uuid.uuid4().hex}.part"
        try:
            result = await client.download(job_id, part, variant="video")
            os.replace(part, final)
            _fsync_dir(final.parent)
        except VideoApiError as exc:
            part.unlink(missing_ok=True)
            logger.warning("download of job %s failed: %s", job_id, exc)
            return next_row(row, download_state="download_failed", error_message=str(exc), checked_at=datetime.now(UTC))
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        size = result.size
        logger.info("downloaded video of job %s to %s (%d bytes)", job_id, final, size)

    thumbnail = await _fetch_thumbnail(workspace, job_id, client)
    return next_row(
        row,
        download_state="downloaded",
        video_path=str(final),
        video_bytes=size,
        thumbnail_path=str(thumbnail) if thumbnail else None,
        error_message=None,
    )


async def _fetch_thumbnail(workspace: Workspace, job_id: str, client: VideoClient) -> Path | None:
    """Fetch the thumbnail beside the video; a missing thumbnail does not fail the download."""
    stem = f"{_safe_id(job_id)}.thumbnail"
    existing = sorted(workspace.videos_dir.glob(f"{stem}.*"))
    if existing:
        return existing[0]
    part = workspace.videos_dir / f".{_safe_id(job_id)}.{uuid.uuid4().hex}.part"
    try:
        result = await client.download(job_id, part, variant="thumbnail")
    except VideoApiError as exc:
        part.unlink(missing_ok=True)
        logger.warning("thumbnail of job %s not downloaded: %s", job_id, exc)
        return None
    target = workspace.videos_dir / f"{stem}{THUMBNAIL_SUFFIXES.get(result.content_type, '.webp')}"
    os.replace(part, target)
    return target


def _read_current(workspace: Workspace, job_id: str) -> dict[str, Any] | None:
    frame = collect(read_latest(workspace, "video_jobs").filter(pl.col("id") == job_id), workspace=workspace)
    return frame.row(0, named=True) if frame.height else None


def _remove_parts(folder: Path, job_id: str) -> None:
    for stale in folder.glob(f".{_safe_id(job_id)}.*.part"):
        stale.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _safe_id(job_id: str) -> str:
    """Return the id usable as a file name; provider ids are like ``video_68d7...``."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in job_id)
    return cleaned or "job"
