"""The public face of video jobs: submit, list, cancel, download, watch."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import polars as pl

from creator_kit.errors import JobError
from creator_kit.jobs._client import VideoApiError, VideoClient
from creator_kit.jobs._config import (
    Endpoint,
    VideoSettings,
    read_video_settings,
    resolve_endpoint,
    validate_request,
)
from creator_kit.jobs._download import download_job_files
from creator_kit.jobs._poller import JobPoller, PollerStats
from creator_kit.jobs._store import next_row, read_job, read_jobs
from creator_kit.storage import Workspace, append_rows, resolve_workspace

__all__ = [
    "cancel_job",
    "cancel_job_async",
    "download_job",
    "download_job_async",
    "list_jobs",
    "submit_job",
    "submit_job_async",
    "watch_jobs",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def submit_job_async(
    prompt: str,
    *,
    workspace: Workspace | str | os.PathLike[str] | None = None,
    model: str | None = None,
    seconds: str | int = "4",
    size: str = "720x1280",
    provider: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Validate and submit a video job, then record it in ``video_jobs``.

    Parameters
    ----------
    prompt
        What the video shows; 1 to 1000 characters.
    model
        A model name or a tier of the ``video`` setting (``fast``, ``quality``);
        by default the fast tier (``sora-2``).
    seconds
        Duration: ``"4"``, ``"8"`` or ``"12"``.
    size
        ``720x1280``, ``1280x720``, ``1024x1792`` or ``1792x1024``.
    provider, base_url, api_key_env
        The endpoint, see `resolve_endpoint`. Jobs submitted with `base_url`
        record the URL as their provider, so the poller finds it again.

    Returns
    -------
    dict
        The job's first row.

    Raises
    ------
    InvalidInputError
        Naming the invalid field; nothing is sent.
    JobError
        If the endpoint rejects the request. A row with status ``failed``
        records the attempt.
    """
    ws = _workspace(workspace)
    settings = read_video_settings(ws)
    request = validate_request(
        prompt, model=settings.model_for(model), seconds=seconds, size=size, supported_models=settings.supported_models
    )
    endpoint = resolve_endpoint(ws, provider=provider, base_url=base_url, api_key_env=api_key_env, settings=settings)
    cost, price_source = _estimate_cost(ws, request.model, int(request.seconds))
    now = datetime.now(UTC)
    base = {
        "provider": endpoint.provider,
        "model": request.model,
        "prompt": request.prompt,
        "seconds": int(request.seconds),
        "size": request.size,
        "cost_usd": cost,
        "price_source": price_source,
        "checked_at": now,
    }

    client = VideoClient(endpoint, http_client=http_client)
    try:
        video = await client.create(request)
    except VideoApiError as exc:
        row = {
            **base,
            "id": f"local-{uuid.uuid4().hex}",
            "created_at": now,
            "status": "failed",
            "error_code": exc.code or (f"http_{exc.status_code}" if exc.status_code else "connection"),
            "error_message": str(exc),
            "provider_response": exc.body or None,
            "cost_usd": None,
        }
        await asyncio.to_thread(append_rows, ws, "video_jobs", [row])
        raise
    finally:
        await client.aclose()

    job_id = video.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise JobError(f"{endpoint.base_url} accepted the job but returned no id: {json.dumps(video)[:200]}")
    status = video.get("status") if video.get("status") in ("queued", "in_progress") else "queued"
    row = {
        **base,
        "id": job_id,
        "recorded_at": datetime.now(UTC),
        "created_at": _from_unix(video.get("created_at")) or now,
        "status": status,
        "progress": video.get("progress") if isinstance(video.get("progress"), int) else 0,
        "provider_response": json.dumps(video)[:2000],
    }
    await asyncio.to_thread(append_rows, ws, "video_jobs", [row])
    logger.info("submitted video job %s (%s, %ss, %s)", job_id, request.model, request.seconds, request.size)
    return row


def submit_job(prompt: str, **options: Any) -> dict[str, Any]:
    """Submit a video job from synchronous code; see `submit_job_async` for the options.

    Examples
    --------
    >>> submit_job("")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    creator_kit.errors.InvalidInputError: prompt is empty; write what the video should show
    """
    return _run(submit_job_async(prompt, **options))


def list_jobs(
    workspace: Workspace | str | os.PathLike[str] | None = None, *, status: str | None = None
) -> pl.DataFrame:
    """Return the current state of every video job, newest first.

    The ``display_status`` column is what the queue shows: queued,
    processing, stalled, completed, download_failed, failed or cancelled.
    `status` keeps only the jobs with that display status.
    """
    return read_jobs(_workspace(workspace), status=status)


async def cancel_job_async(
    job_id: str,
    *,
    workspace: Workspace | str | os.PathLike[str] | None = None,
    api_key_env: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Send ``DELETE`` for a job and record it as cancelled.

    A job that the provider no longer has (HTTP 404) is recorded as
    cancelled too, with the provider's answer.

    Raises
    ------
    JobError
        If the job already ended, or the provider rejects the request.
    """
    ws = _workspace(workspace)
    row = read_job(ws, job_id)
    if row["status"] in ("failed", "cancelled"):
        raise JobError(f"job {job_id} is already {row['status']}; nothing to cancel")
    endpoint = resolve_endpoint(ws, provider=row.get("provider"), api_key_env=api_key_env)
    client = VideoClient(endpoint, http_client=http_client)
    try:
        answer: dict[str, Any] | str = await client.delete(job_id, model=row.get("model"))
    except VideoApiError as exc:
        if exc.status_code != 404:
            raise
        answer = exc.body or str(exc)
    finally:
        await client.aclose()
    new = next_row(
        row,
        status="cancelled",
        checked_at=datetime.now(UTC),
        provider_response=(answer if isinstance(answer, str) else json.dumps(answer))[:2000],
        download_state=row.get("download_state") if row.get("download_state") == "downloaded" else None,
    )
    await asyncio.to_thread(append_rows, ws, "video_jobs", [new])
    return new


def cancel_job(job_id: str, **options: Any) -> dict[str, Any]:
    """Cancel a job from synchronous code; see `cancel_job_async`."""
    return _run(cancel_job_async(job_id, **options))


async def download_job_async(
    job_id: str,
    *,
    workspace: Workspace | str | os.PathLike[str] | None = None,
    api_key_env: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Download the video of a completed job now (also a retry after a failed download).

    Returns the job's current row; ``video_path`` names the file.

    Raises
    ------
    JobError
        If the job is not completed, another process is downloading it, or
        the download fails.
    """
    ws = _workspace(workspace)
    row = read_job(ws, job_id)
    if row["status"] != "completed":
        raise JobError(f"job {job_id} is {row['status']}, not completed; there is no video to download yet")
    if row.get("download_state") == "downloaded":
        return row
    endpoint = resolve_endpoint(ws, provider=row.get("provider"), api_key_env=api_key_env)
    client = VideoClient(endpoint, http_client=http_client)
    try:
        result = await download_job_files(ws, row, client)
    finally:
        await client.aclose()
    if result is None:
        current = read_job(ws, job_id)
        if current.get("download_state") == "downloaded":
            return current
        raise JobError(f"job {job_id} is being downloaded by another process; try again in a moment")
    if result["download_state"] != "downloaded":
        raise JobError(f"{result['error_message']}\nHint: run `creator-kit jobs download {job_id}` again to retry.")
    return result


def download_job(job_id: str, **options: Any) -> dict[str, Any]:
    """Download a job's video from synchronous code; see `download_job_async`."""
    return _run(download_job_async(job_id, **options))


def watch_jobs(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    until_done: bool = False,
    settings: VideoSettings | None = None,
    endpoint_for: Callable[[str], Endpoint] | None = None,
    api_key_env: str | None = None,
    on_change: Callable[[list[dict[str, Any]]], None] | None = None,
) -> PollerStats:
    """Run the poller in the foreground (the ``jobs watch`` command).

    Stops on Ctrl+C or, with `until_done`, when no job is left to follow.
    """
    poller = JobPoller(
        _workspace(workspace),
        settings=settings,
        endpoint_for=endpoint_for,
        api_key_env=api_key_env,
        on_change=on_change,
    )
    return _run(poller.run(until_done=until_done))


def _workspace(workspace: Workspace | str | os.PathLike[str] | None) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else resolve_workspace(workspace)


def _estimate_cost(workspace: Workspace, model: str, seconds: int) -> tuple[float | None, str | None]:
    try:
        from creator_kit.analytics import estimate_video_cost
    except ImportError:
        # NOTE: the video price table lives in creator_kit.analytics; until it exists the cost stays unknown.
        return None, None
    overrides = workspace.read_settings().get("price_overrides") or None
    estimate = estimate_video_cost(model, seconds, overrides=overrides)
    return estimate.cost_usd, estimate.price_source


def _from_unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end from synchronous code.

    Inside a running event loop (a notebook kernel, Playwright's sync API)
    it runs on a fresh loop in a worker thread, and the caller waits.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="creator-kit-jobs") as pool:
        return pool.submit(asyncio.run, coroutine).result()
