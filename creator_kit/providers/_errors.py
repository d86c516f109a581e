"""Translation of openai SDK and HTTP errors into one `Failure` per attempt.

This is the single boundary where errors of the openai SDK, httpx, httpx2
and the stream parser enter creator_kit. Every message leaves it scrubbed of
keys (see `creator_kit.providers.scrub`).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from dataclasses import dataclass

import httpx
import openai

from creator_kit.errors import ProviderError, RateLimitError
from creator_kit.providers._config import GITHUB_MODELS_RETIRED
from creator_kit.providers._keys import scrub

__all__ = ["RETRYABLE_STATUS", "Failure", "parse_retry_after", "translate_error"]

# Statuses worth another provider or a later retry. 400, 401, 403, 404 and 422
# would fail the same way anywhere.
RETRYABLE_STATUS = frozenset({408, 409, 410, 429}) | frozenset(range(500, 600))

_CONTENT_POLICY_CODES = frozenset(
    {"content_filter", "content_policy_violation", "content_policy", "moderation_blocked"}
)


@dataclass(frozen=True)
class Failure:
    """What went wrong in one attempt, in the package's terms.

    Attributes
    ----------
    provider, model
        Where the attempt went.
    error_type
        A short class name: ``http_429``, ``connection``, ``timeout``,
        ``malformed_stream``, ``content_policy``, ``incomplete_stream``, ...
    message
        A message for people, scrubbed of keys.
    status_code
        The HTTP status, when there was a response.
    retryable
        True when another provider or a later attempt may succeed.
    retry_after_s
        The wait the provider asked for, in seconds.
    """

    provider: str
    model: str
    error_type: str
    message: str
    status_code: int | None = None
    retryable: bool = False
    retry_after_s: float | None = None

    def to_exception(self) -> ProviderError:
        """Return the matching exception: `RateLimitError` for 429, else `ProviderError`."""
        cls = RateLimitError if self.status_code == 429 else ProviderError
        return cls(self.message)


def translate_error(
    exc: BaseException, *, provider: str, model: str, preset: str | None = None
) -> Failure:
    """Describe `exc`, raised while calling `provider`, as a `Failure`."""
    if isinstance(exc, openai.APIStatusError):
        return _status_failure(exc, provider=provider, model=model, preset=preset)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | asyncio.TimeoutError):
        return Failure(provider, model, "timeout", f"{provider} timed out (model {model})", retryable=True)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | OSError):
        cause = exc.__cause__ or exc.__context__
        detail = f": {type(cause).__name__}" if cause is not None else ""
        return Failure(
            provider, model, "connection",
            scrub(f"cannot connect to {provider}, or it closed the connection{detail}"),
            retryable=True,
        )
    if isinstance(exc, json.JSONDecodeError | ValueError):
        return Failure(
            provider, model, "malformed_stream",
            scrub(f"{provider} sent a malformed stream event ({type(exc).__name__}: {exc})"),
            retryable=True,
        )
    if isinstance(exc, openai.APIError):
        # An error event inside an otherwise well-formed stream.
        return Failure(
            provider, model, "stream_error",
            scrub(f"{provider} reported an error mid-stream: {exc.message}"),
            retryable=False,
        )
    return Failure(
        provider, model, type(exc).__name__, scrub(f"{provider} failed: {type(exc).__name__}: {exc}")
    )


def parse_retry_after(headers: httpx.Headers | dict[str, str] | None, *, now: float | None = None) -> float | None:
    """Return the wait in seconds asked by ``retry-after-ms`` or ``retry-after``, if any.

    ``retry-after-ms`` wins when both are present. ``retry-after`` may be a
    number of seconds or an HTTP date.

    Examples
    --------
    >>> parse_retry_after({"retry-after-ms": "250"})
    0.25
    >>> parse_retry_after({"retry-after": "2"})
    2.0
    >>> parse_retry_after({}) is None
    True
    """
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    millis = lower.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _status_failure(
    exc: openai.APIStatusError, *, provider: str, model: str, preset: str | None
) -> Failure:
    status = exc.status_code
    reason = _reason(exc)
    retry_after = parse_retry_after(exc.response.headers if exc.response is not None else None)

    if status == 410:
        if preset == "github-models":
            message = f"{provider}: {GITHUB_MODELS_RETIRED}"
        else:
            message = f"{provider} returned HTTP 410 Gone: the endpoint or model {model!r} was retired ({reason})"
        return Failure(provider, model, "http_410", scrub(message), status, True, retry_after)

    if _is_content_policy(exc):
        message = f"{provider} rejected the prompt under its content policy (HTTP {status}): {reason}"
        return Failure(provider, model, "content_policy", scrub(message), status, False, None)

    if status in (401, 403):
        message = (
            f"{provider} rejected the key (HTTP {status}): {reason}.\n"
            f"Hint: check the key with creator-kit validate {provider}"
        )
    elif status == 429:
        wait = f"; it asked to wait {retry_after:.3g} s" if retry_after is not None else ""
        message = f"{provider} is rate limiting requests (HTTP 429){wait}: {reason}"
    elif status == 404:
        message = f"{provider} does not know model {model!r} or the URL (HTTP 404): {reason}"
    else:
        message = f"{provider} returned HTTP {status}: {reason}"
    return Failure(
        provider, model, f"http_{status}", scrub(message), status, status in RETRYABLE_STATUS, retry_after
    )


def _reason(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
        if isinstance(inner, str):
            return inner[:500]
    return (exc.message or "no reason given")[:500]


def _is_content_policy(exc: openai.APIStatusError) -> bool:
    if exc.status_code != 400:
        return False
    code = (exc.code or "").lower() if isinstance(exc.code, str) else ""
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    inner_code = str(inner.get("code") or "").lower() if isinstance(inner, dict) else ""
    return code in _CONTENT_POLICY_CODES or inner_code in _CONTENT_POLICY_CODES
