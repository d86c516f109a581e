"""Video jobs over the ``/v1/videos`` protocol: submit, poll, download.

The protocol (``POST /v1/videos``, ``GET /v1/videos/{id}``,
``GET /v1/videos/{id}/content?variant=video|thumbnail``, ``DELETE``) is the
one OpenAI's Sora 2 used; OpenAI removed it from its own platform on
2026-09-24, and gateways such as a LiteLLM proxy still serve it. So the
endpoint is any base URL: a provider entry of the workspace settings, the
``video`` setting, or a URL given directly.

A job goes ``queued`` -> ``in_progress`` -> ``completed`` | ``failed``, or is
``cancelled``. Every observed change is a row of the ``video_jobs`` table; the
`JobPoller` follows unfinished jobs and resumes from the table after a
restart. A completed video is downloaded once to
``<workspace>/videos/<job id>.mp4``.

Errors: invalid input raises `InvalidInputError` before anything is sent;
everything else raises `JobError` (`VideoApiError` for HTTP failures).

Examples
--------
>>> from creator_kit.jobs import validate_request
>>> validate_request("a red kite over the sea", model="sora-2", seconds=8).seconds
'8'
"""

from __future__ import annotations

from creator_kit.jobs._client import DownloadResult, VideoApiError, VideoClient
from creator_kit.jobs._config import (
    DEFAULT_KEY_ENV,
    MAX_PROMPT_CHARS,
    SUPPORTED_SECONDS,
    SUPPORTED_SIZES,
    Endpoint,
    VideoRequest,
    VideoSettings,
    parse_video_settings,
    read_video_settings,
    resolve_endpoint,
    update_video_settings,
    validate_request,
)
from creator_kit.jobs._download import download_job_files, video_file_path
from creator_kit.jobs._functions import (
    cancel_job,
    cancel_job_async,
    download_job,
    download_job_async,
    list_jobs,
    submit_job,
    submit_job_async,
    watch_jobs,
)
from creator_kit.jobs._poller import JobPoller, PollerStats
from creator_kit.jobs._store import DISPLAY_STATUSES, display_status, is_active, read_job

__all__ = [
    "DEFAULT_KEY_ENV",
    "DISPLAY_STATUSES",
    "MAX_PROMPT_CHARS",
    "SUPPORTED_SECONDS",
    "SUPPORTED_SIZES",
    "DownloadResult",
    "Endpoint",
    "JobPoller",
    "PollerStats",
    "VideoApiError",
    "VideoClient",
    "VideoRequest",
    "VideoSettings",
    "cancel_job",
    "cancel_job_async",
    "display_status",
    "download_job",
    "download_job_async",
    "download_job_files",
    "is_active",
    "list_jobs",
    "parse_video_settings",
    "read_job",
    "read_video_settings",
    "resolve_endpoint",
    "submit_job",
    "submit_job_async",
    "update_video_settings",
    "validate_request",
    "video_file_path",
    "watch_jobs",
]
