"""Client for the ``/v1/videos`` protocol over httpx.

Every httpx error and every HTTP error status is translated here, and only
here, into `VideoApiError` (a `JobError`), so the poller and the command line
deal with one exception type.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from creator_kit.errors import JobError
from creator_kit.jobs._config import OPENAI_SHUTDOWN_NOTE, Endpoint, VideoRequest

__all__ = ["DownloadResult", "VideoApiError", "VideoClient"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CHUNK_BYTES = 1 << 16


class VideoApiError(JobError):
    """A request to the video endpoint failed.

    Attributes
    ----------
    status_code
        HTTP status, or None when no response arrived (connection error, timeout).
    code
        The provider's error code (``error.code`` in the body), if any.
    retry_after
        Seconds the provider asked to wait (``retry-after-ms`` or ``retry-after``).
    body
        The response body as text, at most 2,000 characters.
    gone
        True when the job or the model does not exist at this endpoint (404 or
        model not found): polling again cannot help.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        body: str = "",
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.retry_after = retry_after
        self.body = body
        self.gone = gone

    @property
    def retryable(self) -> bool:
        """True for errors worth retrying later: no response, 408, 409, 429 and 5xx."""
        if self.gone:
            return False
        return self.status_code is None or self.status_code in (408, 409, 429) or self.status_code >= 500


@dataclass(frozen=True)
class DownloadResult:
    """A file downloaded from ``/content``: its path, size and media type."""

    path: Path
    size: int
    content_type: str


class VideoClient:
    """Asynchronous client for one video endpoint.

    Parameters
    ----------
    endpoint
        Base URL (ending in ``/v1``), provider name and key.
    http_client
        An `httpx.AsyncClient` to use, e.g. with a test transport. When
        omitted the client makes its own and closes it in `aclose`.

    Examples
    --------
    >>> import asyncio
    >>> from creator_kit.jobs import Endpoint, VideoClient
    >>> client = VideoClient(Endpoint(provider="local", base_url="http://127.0.0.1:9/v1"))
    >>> asyncio.run(client.aclose())
    """

    def __init__(self, endpoint: Endpoint, *, http_client: httpx.AsyncClient | None = None) -> None:
        self.endpoint = endpoint
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
        )

    async def create(self, request: VideoRequest) -> dict[str, Any]:
        """Send ``POST /videos`` and return the new video object."""
        # The protocol takes multipart form fields (it also accepts a reference image).
        files = {name: (None, value) for name, value in request.form().items()}
        response = await self._send("POST", "/videos", files=files, model=request.model)
        logger.info("created video job %s on %s (model %s)", _field(response, "id"), self.endpoint.provider, request.model)
        return _json(response)

    async def retrieve(self, job_id: str, *, model: str | None = None) -> tuple[dict[str, Any], float | None]:
        """Send ``GET /videos/{id}``; return the video object and the poll-after hint in seconds."""
        response = await self._send("GET", f"/videos/{job_id}", model=model, job_id=job_id)
        return _json(response), _poll_after(response)

    async def delete(self, job_id: str, *, model: str | None = None) -> dict[str, Any]:
        """Send ``DELETE /videos/{id}`` and return the provider's response body."""
        response = await self._send("DELETE", f"/videos/{job_id}", model=model, job_id=job_id)
        logger.info("deleted video job %s on %s", job_id, self.endpoint.provider)
        return _json(response) if response.content else {}

    async def download(self, job_id: str, target: Path, *, variant: str = "video") -> DownloadResult:
        """Stream ``GET /videos/{id}/content?variant=...`` into `target` and check its size.

        `target` is written as it arrives; the caller renames it into place.

        Raises
        ------
        VideoApiError
            If the request fails, the body is cut short or its size differs
            from ``content-length``.
        """
        url = self._url(f"/videos/{job_id}/content")
        try:
            async with self._http.stream(
                "GET", url, params={"variant": variant}, headers=self._headers()
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise self._status_error(response, job_id=job_id, model=None)
                expected = response.headers.get("content-length")
                size = 0
                with target.open("wb") as handle:
                    async for chunk in response.aiter_raw(CHUNK_BYTES):
                        handle.write(chunk)
                        size += len(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
        except httpx.HTTPError as exc:
            msg = f"download of the {variant} of job {job_id} from {self.endpoint.base_url} failed: {_describe(exc)}"
            raise VideoApiError(msg) from exc

        if expected is not None and int(expected) != size:
            msg = f"download of the {variant} of job {job_id} is incomplete: {size} of {expected} bytes arrived"
            raise VideoApiError(msg)
        if size == 0:
            raise VideoApiError(f"download of the {variant} of job {job_id} is empty")
        return DownloadResult(path=target, size=size, content_type=content_type)

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> VideoClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(
        self, method: str, path: str, *, model: str | None, job_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = await self._http.request(method, self._url(path), headers=self._headers(), **kwargs)
        except httpx.HTTPError as exc:
            msg = f"{method} {self.endpoint.base_url}{path} failed: {_describe(exc)}"
            raise VideoApiError(msg) from exc
        logger.debug("%s %s -> %d", method, path, response.status_code)
        if response.is_error:
            raise self._status_error(response, job_id=job_id, model=model)
        return response

    def _url(self, path: str) -> str:
        return f"{self.endpoint.base_url}{path}"

    def _headers(self) -> dict[str, str]:
        if self.endpoint.api_key:
            return {"Authorization": f"Bearer {self.endpoint.api_key}"}
        return {}

    def _status_error(self, response: httpx.Response, *, job_id: str | None, model: str | None) -> VideoApiError:
        body = response.text[:2000]
        code, provider_message = _error_fields(body)
        status = response.status_code
        model_missing = code == "model_not_found" or (
            status in (400, 404) and "model" in provider_message.lower() and "not" in provider_message.lower()
            and ("found" in provider_message.lower() or "exist" in provider_message.lower())
        )
        where = f"{self.endpoint.base_url} (provider {self.endpoint.provider}, model {model or 'unknown'})"
        gone = status in (404, 410) or model_missing
        if model_missing:
            msg = f"model {model or 'unknown'} was not found at {self.endpoint.base_url}: {provider_message or body}"
        elif gone and job_id:
            msg = f"job {job_id} was not found at {where}: HTTP {status}"
        elif gone:
            msg = f"the videos endpoint was not found at {where}: HTTP {status}"
        elif status == 429:
            msg = f"rate limited by {where}: HTTP 429"
        elif status in (401, 403):
            msg = (
                f"{where} rejected the key: HTTP {status} {provider_message}.\n"
                "Hint: check the key of this provider (Settings page, or the variable named by --api-key-env)."
            )
        else:
            msg = f"{where} answered HTTP {status}: {provider_message or body[:200]}"
        if gone and self.endpoint.is_openai:
            msg = f"{msg}.\n{OPENAI_SHUTDOWN_NOTE}"
        return VideoApiError(
            msg, status_code=status, code=code, retry_after=_retry_after(response), body=body, gone=gone
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError as exc:
        msg = f"{response.request.method} {response.request.url} returned a body that is not JSON: {response.text[:200]!r}"
        raise VideoApiError(msg, status_code=response.status_code, body=response.text[:2000]) from exc
    if not isinstance(value, dict):
        raise VideoApiError(f"{response.request.url} returned {type(value).__name__}, expected a JSON object")
    return value


def _field(response: httpx.Response, name: str) -> Any:
    try:
        return response.json().get(name)
    except ValueError:
        return None


def _error_fields(body: str) -> tuple[str | None, str]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None, body[:200]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return (str(code) if code else None), str(error.get("message") or "")
    if isinstance(error, str):
        return None, error
    return None, body[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    millis = response.headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _poll_after(response: httpx.Response) -> float | None:
    value = response.headers.get("openai-poll-after-ms")
    try:
        return max(0.0, float(value) / 1000) if value else None
    except ValueError:
        return None


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
