"""The poller: follows every unfinished job of a workspace in one asyncio task.

Rules it keeps:

- At most one status request per job per ``poll_interval``: the next request
  of a job is scheduled from the moment the previous response arrived, never
  earlier, and later when the provider asks (``openai-poll-after-ms``,
  ``retry-after-ms``, ``retry-after``) or after errors (exponential backoff
  with jitter, capped at ``max_backoff``).
- Each observed change is appended to ``video_jobs``; the rows of one pass are
  committed together. Nothing else is kept between runs: a new poller resumes
  from the table alone.
- One poller per workspace does the polling. It holds an ``flock`` on
  ``<workspace>/.video-poller.lock``; another poller (a second kernel, a
  ``jobs watch`` process) waits on standby, reads the table, and takes over
  when the holder stops or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import polars as pl

from creator_kit.errors import CreatorKitError, JobError, StorageError
from creator_kit.jobs._client import VideoApiError, VideoClient
from creator_kit.jobs._config import Endpoint, VideoSettings, read_video_settings, resolve_endpoint
from creator_kit.jobs._download import download_job_files
from creator_kit.jobs._store import ACTIVE_STATUSES, FileLock, is_active, next_row
from creator_kit.storage import Workspace, append_rows, collect, read_latest

__all__ = ["JobPoller", "PollerStats"]

logger = logging.getLogger(__name__)

# More parallel connections than this made httpx slower, not faster, in the poller benchmark.
MAX_CONCURRENT_REQUESTS = 16
RESPONSE_CHARS = 2000
POLLER_LOCK = ".video-poller.lock"


@dataclass
class PollerStats:
    """Counters of one poller run."""

    status_requests: int = 0
    errors: int = 0
    rows_appended: int = 0
    downloads: int = 0
    passes: int = 0


@dataclass
class _Tracked:
    row: dict[str, Any]
    next_at: float
    last_change: datetime
    stalled: bool = False
    stall_reported: float = 0.0
    failures: int = 0
    busy: bool = False
    done: bool = False
    last_response: str | None = None
    download_attempts: int = 0


class JobPoller:
    """Follow the unfinished video jobs of a workspace until they end.

    Parameters
    ----------
    workspace
        The workspace whose ``video_jobs`` table is followed.
    settings
        Intervals and limits; by default the workspace's ``video`` setting.
    endpoint_for
        Returns the endpoint for a job's ``provider`` value. By default
        `resolve_endpoint` with `api_key_env`.
    api_key_env
        Environment variable with the key for jobs whose provider is a URL.
    http_client
        Shared `httpx.AsyncClient`; the poller makes one when omitted.
    on_change
        Called with the rows of each committed pass, in the event loop.

    Examples
    --------
    In a notebook, where an event loop is running::

        poller = JobPoller(workspace)
        task = poller.start()      # returns at once
        ...
        poller.stop()
    """

    def __init__(
        self,
        workspace: Workspace,
        *,
        settings: VideoSettings | None = None,
        endpoint_for: Callable[[str], Endpoint] | None = None,
        api_key_env: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        on_change: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.settings = settings or read_video_settings(workspace)
        self.stats = PollerStats()
        self._endpoint_for = endpoint_for or (
            lambda provider: resolve_endpoint(
                workspace, provider=provider, api_key_env=api_key_env, settings=self.settings
            )
        )
        self._http = http_client
        self._owns_http = http_client is None
        self._on_change = on_change
        self._clients: dict[str, VideoClient] = {}
        self._tracked: dict[str, _Tracked] = {}
        self._parked: set[str] = set()
        self._pending_rows: list[dict[str, Any]] = []
        self._pending_events: list[dict[str, Any]] = []
        self._unflushed: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self._lease = FileLock(workspace.path / POLLER_LOCK)
        self._task: asyncio.Task[PollerStats] | None = None
        self._next_refresh = 0.0

    @property
    def is_leader(self) -> bool:
        """True while this poller holds the workspace lock and sends requests."""
        return self._lease.held

    @property
    def active_jobs(self) -> int:
        """Number of jobs this poller still follows."""
        return sum(1 for t in self._tracked.values() if not t.done)

    def start(self) -> asyncio.Task[PollerStats]:
        """Run the poller as a task of the running event loop and return the task."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self.run(), name="creator-kit-video-poller")
        return self._task

    def stop(self) -> None:
        """Ask the poller to stop after committing what it observed."""
        self._stopping = True
        self._wake.set()

    def poke(self) -> None:
        """Make the poller read the table now, e.g. after a job was submitted."""
        self._next_refresh = 0.0
        self._wake.set()

    async def run(self, *, until_done: bool = False) -> PollerStats:
        """Poll until `stop` is called or, with `until_done`, until no job is left.

        Jobs whose download failed more than ``download_retries`` times in
        this run wait for a manual retry and do not keep `until_done` running.
        """
        self._next_refresh = 0.0
        next_flush = 0.0
        flush_every = min(1.0, self.settings.poll_interval / 2)
        tick = min(0.05, self.settings.poll_interval / 10)
        try:
            while not self._stopping:
                self._wake.clear()
                self._try_lead()
                now = time.monotonic()
                if now >= self._next_refresh:
                    await self._refresh()
                    self._next_refresh = time.monotonic() + self.settings.poll_interval
                if self.is_leader:
                    self._launch_due(time.monotonic())
                if (self._pending_rows or self._pending_events) and time.monotonic() >= next_flush:
                    await self._flush()
                    next_flush = time.monotonic() + flush_every
                self.stats.passes += 1
                if until_done and self.active_jobs == 0 and not self._tasks:
                    break
                wait = self._seconds_to_next(time.monotonic())
                if self._pending_rows:
                    wait = min(wait, max(0.0, next_flush - time.monotonic()))
                await self._sleep(wait)
                # Let responses that arrive together be handled in one pass.
                await asyncio.sleep(tick)
        finally:
            await self._shutdown()
        return self.stats

    def _try_lead(self) -> None:
        if self._lease.held:
            return
        try:
            self.workspace.ensure_writable()
            if self._lease.acquire():
                logger.info("video poller leads workspace %s", self.workspace.path)
        except (OSError, StorageError) as exc:
            logger.error("cannot take the poller lock of %s: %s", self.workspace.path, exc)

    async def _refresh(self) -> None:
        try:
            rows = await asyncio.to_thread(_read_active, self.workspace)
        except CreatorKitError as exc:
            logger.error("cannot read video jobs of %s: %s", self.workspace.path, exc)
            return
        now = time.monotonic()
        seen = set()
        for row in rows:
            job_id = row["id"]
            seen.add(job_id)
            tracked = self._tracked.get(job_id)
            if tracked is None:
                if job_id not in self._parked:
                    self._tracked[job_id] = _track(row, now)
            elif not tracked.busy and not self._unflushed[job_id] and _newer(row, tracked.row):
                tracked.row = row
                tracked.stalled = row.get("download_state") == "stalled"
        for job_id, tracked in list(self._tracked.items()):
            if job_id not in seen and not tracked.busy and not self._unflushed[job_id]:
                del self._tracked[job_id]

    def _launch_due(self, now: float) -> None:
        for tracked in self._tracked.values():
            if tracked.busy or tracked.done or tracked.next_at > now:
                continue
            status = tracked.row.get("status")
            if status in ACTIVE_STATUSES:
                self._spawn(tracked, self._poll(tracked))
            elif is_active(tracked.row) and not self._unflushed[tracked.row["id"]]:
                self._spawn(tracked, self._download(tracked))

    def _spawn(self, tracked: _Tracked, work: Any) -> None:
        tracked.busy = True
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self, tracked: _Tracked) -> None:
        row = tracked.row
        delay = self.settings.poll_interval
        try:
            async with self._semaphore:
                client = self._client(str(row.get("provider") or ""))
                video, poll_after = await client.retrieve(row["id"], model=row.get("model"))
            self.stats.status_requests += 1
            tracked.failures = 0
            tracked.last_response = json.dumps(video)[:RESPONSE_CHARS]
            self._queue(tracked, self._observe(tracked, video))
            delay = max(delay, poll_after or 0.0)
        except VideoApiError as exc:
            self.stats.status_requests += exc.status_code is not None
            self.stats.errors += 1
            tracked.last_response = exc.body or str(exc)
            if exc.gone:
                logger.warning("job %s failed: %s", row["id"], exc)
                failed = next_row(
                    row,
                    status="failed",
                    error_code=exc.code or "not_found",
                    error_message=str(exc),
                    checked_at=_now(),
                    provider_response=tracked.last_response[:RESPONSE_CHARS],
                    download_state=None,
                )
                self._queue(tracked, failed)
            else:
                delay = self._backoff(tracked, exc.retry_after)
                self._queue_event(row, exc, delay)
                self._queue(tracked, self._stall_check(tracked))
        except JobError as exc:
            # The job's endpoint cannot be resolved (provider entry removed, bad URL).
            self.stats.errors += 1
            tracked.last_response = str(exc)
            logger.error("cannot poll job %s: %s", row["id"], exc)
            delay = self.settings.max_backoff
            self._queue(tracked, self._stall_check(tracked))
        finally:
            # Scheduled from the response, so two requests are never closer than the interval.
            tracked.next_at = time.monotonic() + delay
            tracked.busy = False
            self._wake.set()

    def _observe(self, tracked: _Tracked, video: dict[str, Any]) -> dict[str, Any] | None:
        row = tracked.row
        status = video.get("status")
        if status not in (*ACTIVE_STATUSES, "completed", "failed", "cancelled"):
            logger.warning("job %s: unknown status %r from the provider, kept %r", row["id"], status, row["status"])
            status = row["status"]
        progress = _as_int(video.get("progress"))
        error = video.get("error") if isinstance(video.get("error"), dict) else {}
        error_code = error.get("code") or None
        error_message = error.get("message") or None
        if status == "failed" and not error_message:
            error_message = f"the provider reported job {row['id']} as failed without a reason"
        if status == "completed":
            progress = 100 if progress is None else progress

        before = (row.get("status"), row.get("progress"), row.get("error_code"), row.get("error_message"))
        if (status, progress, error_code, error_message) == before:
            return self._stall_check(tracked)

        now = _now()
        tracked.last_change = now
        tracked.stalled = False
        changes: dict[str, Any] = {
            "status": status,
            "progress": progress,
            "error_code": error_code,
            "error_message": error_message,
            "checked_at": now,
            "provider_response": tracked.last_response,
            "download_state": "pending" if status == "completed" else None,
        }
        if status == "completed":
            changes["completed_at"] = _from_unix(video.get("completed_at")) or now
        logger.info("job %s: %s -> %s (%s%%)", row["id"], row.get("status"), status, progress)
        return next_row(row, **changes)

    def _stall_check(self, tracked: _Tracked) -> dict[str, Any] | None:
        """Flag a job stalled once it has not changed for ``stall_after``; refresh the flag as often."""
        now = _now()
        quiet = (now - tracked.last_change).total_seconds()
        if quiet < self.settings.stall_after:
            return None
        mono = time.monotonic()
        if tracked.stalled and mono - tracked.stall_reported < self.settings.stall_after:
            return None
        if not tracked.stalled:
            logger.warning("job %s stalled: no change for %.0f s", tracked.row["id"], quiet)
        tracked.stalled = True
        tracked.stall_reported = mono
        return next_row(
            tracked.row,
            download_state="stalled",
            checked_at=now,
            provider_response=(tracked.last_response or "")[:RESPONSE_CHARS] or None,
        )

    async def _download(self, tracked: _Tracked) -> None:
        row = tracked.row
        try:
            client = self._client(str(row.get("provider") or ""))
            result = await download_job_files(self.workspace, row, client)
        except (JobError, StorageError, OSError) as exc:
            logger.error("download of job %s failed: %s", row["id"], exc)
            failed = next_row(row, download_state="download_failed", error_message=str(exc))
            self._queue(tracked, failed)
            tracked.download_attempts += 1
            tracked.next_at = time.monotonic() + self._backoff(tracked, None)
            return
        finally:
            tracked.busy = False
            self._wake.set()

        if result is None:
            # Another process holds the download lock; the table will tell how it ended.
            tracked.next_at = time.monotonic() + self.settings.poll_interval
            return
        tracked.row = result
        if result["download_state"] == "downloaded":
            self.stats.downloads += 1
            tracked.done = True
            self._notify([result])
            return
        tracked.download_attempts += 1
        if tracked.download_attempts >= self.settings.download_retries:
            logger.warning("job %s: download failed %d times, waiting for a manual retry", row["id"], tracked.download_attempts)
            self._parked.add(row["id"])
            tracked.done = True
        tracked.next_at = time.monotonic() + self._backoff(tracked, None)
        self._notify([result])

    def _backoff(self, tracked: _Tracked, retry_after: float | None) -> float:
        tracked.failures += 1
        interval = self.settings.poll_interval
        capped = min(self.settings.max_backoff, interval * 2 ** min(tracked.failures, 30))
        delay = max(interval, capped * random.uniform(0.75, 1.0))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _queue(self, tracked: _Tracked, row: dict[str, Any] | None) -> None:
        if row is None:
            return
        tracked.row = row
        if row["status"] not in ACTIVE_STATUSES and not is_active(row):
            tracked.done = True
        self._pending_rows.append(row)
        self._unflushed[row["id"]] += 1

    def _queue_event(self, row: dict[str, Any], exc: VideoApiError, delay: float) -> None:
        self._pending_events.append(
            {
                "kind": "job_poll",
                "job_id": row["id"],
                "provider": row.get("provider"),
                "model": row.get("model"),
                "outcome": "rate_limited" if exc.status_code == 429 else "error",
                "status_code": exc.status_code,
                "wait_ms": delay * 1000,
                "message": str(exc)[:500],
            }
        )

    async def _flush(self) -> None:
        rows, self._pending_rows = self._pending_rows, []
        events, self._pending_events = self._pending_events, []
        if events:
            try:
                await asyncio.to_thread(append_rows, self.workspace, "events", events)
            except CreatorKitError as exc:
                logger.error("cannot record %d poll events: %s", len(events), exc)
        if rows:
            await self._commit_rows(rows)
        for job_id, tracked in list(self._tracked.items()):
            if tracked.done and not tracked.busy and not self._unflushed[job_id]:
                del self._tracked[job_id]

    async def _commit_rows(self, rows: list[dict[str, Any]]) -> None:
        try:
            await asyncio.to_thread(append_rows, self.workspace, "video_jobs", rows)
        except CreatorKitError as exc:
            # Kept for the next pass; a crash before then only loses observations the provider repeats.
            logger.error("cannot record %d job changes, retrying: %s", len(rows), exc)
            self._pending_rows[:0] = rows
            return
        self.stats.rows_appended += len(rows)
        for row in rows:
            self._unflushed[row["id"]] -= 1
            if self._unflushed[row["id"]] <= 0:
                del self._unflushed[row["id"]]
        self._notify(rows)

    def _notify(self, rows: list[dict[str, Any]]) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(rows)
        except Exception:  # a display callback must not stop the poller
            logger.exception("on_change callback of the video poller failed")

    def _seconds_to_next(self, now: float) -> float:
        candidates = [self._next_refresh - now]
        if self.is_leader:
            candidates += [t.next_at - now for t in self._tracked.values() if not t.busy and not t.done]
        else:
            # Standby: try to take over the lock at least once per interval.
            candidates.append(self.settings.poll_interval)
        return max(0.0, min(candidates))

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _client(self, provider: str) -> VideoClient:
        client = self._clients.get(provider)
        if client is None:
            if self._http is None:
                self._http = httpx.AsyncClient(
                    timeout=httpx.Timeout(30.0, connect=10.0),
                    limits=httpx.Limits(max_connections=MAX_CONCURRENT_REQUESTS),
                )
            client = VideoClient(self._endpoint_for(provider), http_client=self._http)
            self._clients[provider] = client
        return client

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None
        self._clients.clear()
        self._lease.release()


def _read_active(workspace: Workspace) -> list[dict[str, Any]]:
    # NOTE: this scans the whole history once per interval. Every pass with a
    # change commits one small file, so a long-running poller relies on
    # `creator-kit compact` to keep this read fast.
    latest = read_latest(workspace, "video_jobs")
    active = pl.col("status").is_in(list(ACTIVE_STATUSES)) | (
        (pl.col("status") == "completed")
        & (pl.col("download_state").is_null() | pl.col("download_state").is_in(["pending", "download_failed"]))
    )
    return collect(latest.filter(active), workspace=workspace).to_dicts()


def _track(row: dict[str, Any], now: float) -> _Tracked:
    seen = row.get("recorded_at") or _now()
    return _Tracked(
        row=row,
        next_at=now,
        last_change=seen,
        stalled=row.get("download_state") == "stalled",
        stall_reported=now,
    )


def _newer(row: dict[str, Any], current: dict[str, Any]) -> bool:
    new, old = row.get("recorded_at"), current.get("recorded_at")
    return new is not None and (old is None or new > old)


def _now() -> datetime:
    return datetime.now(UTC)


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _from_unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
