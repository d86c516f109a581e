"""Video settings, endpoint resolution and request validation."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from creator_kit.errors import InvalidInputError, JobError
from creator_kit.storage import Workspace

__all__ = [
    "DEFAULT_KEY_ENV",
    "MAX_PROMPT_CHARS",
    "SUPPORTED_SECONDS",
    "SUPPORTED_SIZES",
    "Endpoint",
    "VideoRequest",
    "VideoSettings",
    "parse_video_settings",
    "read_video_settings",
    "resolve_endpoint",
    "update_video_settings",
    "validate_request",
]

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 1000
SUPPORTED_SECONDS = ("4", "8", "12")
SUPPORTED_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
DEFAULT_MODELS = {"fast": "sora-2", "quality": "sora-2-pro"}

# Environment variable read for the key of an endpoint given by URL alone.
DEFAULT_KEY_ENV = "CREATOR_KIT_VIDEO_API_KEY"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

OPENAI_SHUTDOWN_NOTE = (
    "OpenAI removed Sora 2 and the Videos API from its own platform on 2026-09-24; "
    "point the video endpoint at a gateway that still serves /v1/videos "
    "(for example a LiteLLM proxy) with --base-url or the `video` setting."
)


@dataclass(frozen=True)
class Endpoint:
    """Video endpoint: a provider name, a base URL ending in ``/v1`` and a key.

    The key is kept out of `repr` so that it never reaches a log line or a
    traceback.
    """

    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)

    @property
    def is_openai(self) -> bool:
        """True when the endpoint is OpenAI's own API host."""
        return (urlsplit(self.base_url).hostname or "").lower() == "api.openai.com"


@dataclass(frozen=True)
class VideoSettings:
    """The ``video`` workspace setting, with defaults.

    Attributes
    ----------
    provider
        Default provider entry (from the ``providers`` setting) to send jobs to.
    base_url
        Default endpoint URL when no provider entry is used, e.g.
        ``http://localhost:4000/v1`` for a LiteLLM proxy.
    api_key_env
        Environment variable holding the key for `base_url`.
    models
        Model per quality tier: ``fast`` and ``quality``.
    poll_interval
        Seconds between two status requests for one job, at least.
    max_backoff
        Upper bound, in seconds, of the wait after repeated errors.
    stall_after
        Seconds without any change after which a job is flagged stalled.
    download_retries
        Automatic download attempts per poller run before the job waits
        for a manual retry.
    """

    provider: str | None = None
    base_url: str | None = None
    api_key_env: str = DEFAULT_KEY_ENV
    models: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MODELS))
    poll_interval: float = 5.0
    max_backoff: float = 120.0
    stall_after: float = 600.0
    download_retries: int = 3

    @property
    def supported_models(self) -> tuple[str, ...]:
        """Models accepted by validation: the configured tiers plus the defaults."""
        names = list(self.models.values()) + list(DEFAULT_MODELS.values())
        return tuple(dict.fromkeys(names))

    def model_for(self, choice: str | None) -> str:
        """Return the model for a tier name (``fast``, ``quality``) or a model name."""
        if choice is None or choice == "":
            return self.models.get("fast", DEFAULT_MODELS["fast"])
        return self.models.get(choice, choice)


def read_video_settings(workspace: Workspace) -> VideoSettings:
    """Read the ``video`` setting of `workspace`, filling in defaults.

    Raises
    ------
    InvalidInputError
        If the setting is not an object or contains a value of the wrong type.
    """
    return parse_video_settings(workspace.read_settings().get("video") or {})


def parse_video_settings(raw: Any) -> VideoSettings:
    """Check a ``video`` setting object and return it with defaults filled in.

    Raises
    ------
    InvalidInputError
        Naming the key whose value is invalid and the values it accepts.
    """
    if not isinstance(raw, dict):
        raise InvalidInputError(f"setting 'video' must be a JSON object, got {raw!r}")
    known = set(VideoSettings.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        msg = (
            f"setting 'video' has unknown key {unknown[0]!r}.\n"
            f"Hint: the keys are {', '.join(sorted(known))}."
        )
        raise InvalidInputError(msg)
    values: dict[str, Any] = {k: v for k, v in raw.items() if v is not None}
    for name in ("provider", "base_url"):
        if name in values and (not isinstance(values[name], str) or not values[name].strip()):
            raise InvalidInputError(f"setting video.{name} must be a non-empty string, got {values[name]!r}")
    if "base_url" in values and not _looks_like_url(values["base_url"]):
        raise InvalidInputError(
            f"setting video.base_url {values['base_url']!r} must start with http:// or https://, "
            "e.g. http://localhost:4000/v1"
        )
    if "api_key_env" in values:
        key_env = values["api_key_env"]
        if not isinstance(key_env, str) or not _ENV_NAME.fullmatch(key_env):
            raise InvalidInputError(
                f"setting video.api_key_env {key_env!r} is not an environment variable name; "
                f"use letters, digits and underscores, e.g. {DEFAULT_KEY_ENV}"
            )
    if "models" in values:
        models = values["models"]
        if not isinstance(models, dict) or not all(isinstance(v, str) and v.strip() for v in models.values()):
            raise InvalidInputError(f"setting video.models must map tiers to model names, got {models!r}")
        values["models"] = {**DEFAULT_MODELS, **models}
    for name in ("poll_interval", "max_backoff", "stall_after"):
        if name in values:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or value == float("inf"):
                raise InvalidInputError(f"setting video.{name} must be a positive number of seconds, got {value!r}")
            values[name] = float(value)
    if "download_retries" in values:
        retries = values["download_retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError(
                f"setting video.download_retries must be a whole number of 0 or more, got {retries!r}"
            )
    return VideoSettings(**values)


def update_video_settings(workspace: Workspace, **changes: Any) -> VideoSettings:
    """Merge `changes` into the ``video`` setting, check the result and save it.

    A change to None removes that key, so its default applies again. Nothing
    is written when the result is invalid.

    Raises
    ------
    InvalidInputError
        If a value is invalid (see `parse_video_settings`).
    """
    current = workspace.read_settings().get("video") or {}
    if not isinstance(current, dict):
        current = {}
    merged = {**current, **changes}
    merged = {k: v for k, v in merged.items() if v is not None}
    settings = parse_video_settings(merged)
    workspace.update_settings(video=merged or None)
    logger.info("saved the video setting: keys %s", ", ".join(sorted(merged)) or "(none)")
    return settings


def resolve_endpoint(
    workspace: Workspace,
    *,
    provider: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    settings: VideoSettings | None = None,
) -> Endpoint:
    """Choose the endpoint for new jobs or for the stored ``provider`` of a job.

    The order is: `base_url`, then `provider`, then the ``video`` setting's
    ``base_url`` and ``provider``. A `provider` value that is itself a URL
    (jobs submitted with a base URL record it there) is used as the base URL.

    Raises
    ------
    JobError
        If nothing names an endpoint, or the provider entry does not exist.
    """
    settings = settings or read_video_settings(workspace)
    key_env = api_key_env or settings.api_key_env
    if base_url:
        return _url_endpoint(base_url, key_env)
    if provider:
        if _looks_like_url(provider):
            return _url_endpoint(provider, key_env)
        return _provider_endpoint(workspace, provider)
    if settings.base_url:
        return _url_endpoint(settings.base_url, key_env)
    if settings.provider:
        return _provider_endpoint(workspace, settings.provider)
    msg = (
        "no video endpoint is configured.\n"
        "Hint: set the video endpoint on the Settings page, or pass --base-url URL "
        "(key in $%s) or --provider NAME." % key_env
    )
    raise JobError(msg)


@dataclass(frozen=True)
class VideoRequest:
    """A validated request for ``POST /v1/videos``."""

    prompt: str
    model: str
    seconds: str
    size: str

    def form(self) -> dict[str, str]:
        """Return the form fields of the request."""
        return {"prompt": self.prompt, "model": self.model, "seconds": self.seconds, "size": self.size}


def validate_request(
    prompt: str,
    *,
    model: str,
    seconds: str | int = "4",
    size: str = "720x1280",
    supported_models: tuple[str, ...] = tuple(DEFAULT_MODELS.values()),
) -> VideoRequest:
    """Check a video request before anything is sent.

    Raises
    ------
    InvalidInputError
        Naming the field (prompt, model, seconds or size) that is invalid.
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInputError("prompt is empty; write what the video should show")
    if len(prompt) > MAX_PROMPT_CHARS:
        msg = (
            f"prompt has {len(prompt)} characters, more than the maximum of {MAX_PROMPT_CHARS}.\n"
            f"Hint: shorten it by {_count(len(prompt) - MAX_PROMPT_CHARS, 'character')}."
        )
        raise InvalidInputError(msg)
    if model not in supported_models:
        msg = (
            f"model {model!r} is not supported; the supported models are {', '.join(supported_models)}.\n"
            "Hint: name it as the fast or quality model on the Settings page (setting video.models)."
        )
        raise InvalidInputError(msg)
    seconds_text = str(seconds).strip()
    if seconds_text not in SUPPORTED_SECONDS:
        raise InvalidInputError(f"seconds {seconds!r} is not supported; choose one of {', '.join(SUPPORTED_SECONDS)}")
    if size not in SUPPORTED_SIZES:
        raise InvalidInputError(f"size {size!r} is not supported; choose one of {', '.join(SUPPORTED_SIZES)}")
    return VideoRequest(prompt=prompt, model=model, seconds=seconds_text, size=size)


def _count(number: int, noun: str) -> str:
    """Return ``"1 character"`` or ``"2 characters"``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _url_endpoint(base_url: str, key_env: str) -> Endpoint:
    if not _looks_like_url(base_url):
        raise JobError(f"base URL {base_url!r} must start with http:// or https://")
    base = base_url.rstrip("/")
    return Endpoint(provider=base, base_url=base, api_key=os.environ.get(key_env) or None)


def _provider_endpoint(workspace: Workspace, name: str) -> Endpoint:
    """Read a provider entry (``providers`` setting) and its key (environment, keyring, owner-only file)."""
    from creator_kit import providers
    from creator_kit.errors import CreatorKitError

    try:
        config = providers.get_provider(workspace, name)
        key = providers.resolve_key(config)
    except CreatorKitError as exc:
        msg = f"cannot use provider {name!r} for video jobs: {exc}\nTo use an endpoint without a provider entry, pass --base-url URL."
        raise JobError(msg) from exc
    return Endpoint(provider=name, base_url=config.base_url.rstrip("/"), api_key=key)
