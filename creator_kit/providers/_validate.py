"""Key validation through the cheapest authenticated call: the model list.

OpenAI-compatible providers are asked ``GET /models``; GitHub Models is asked
its catalog. Validation never runs an inference, so it costs no tokens.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import openai

from creator_kit.errors import ProviderError
from creator_kit.providers._config import ProviderConfig, get_provider, mark_validated
from creator_kit.providers._errors import translate_error
from creator_kit.providers._keys import install_log_filter, register_secret, resolve_key, scrub
from creator_kit.storage import Workspace, append_rows

__all__ = ["ValidationResult", "check_provider", "validate_provider", "validate_provider_async"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0
_NO_KEY = "no-key-needed"


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of a validation, shaped as the data endpoint returns it.

    `to_dict` gives ``{"provider", "valid", "message", "details": {"models",
    "requestsPerMinute"}}``; `status_code` is kept for the events table.
    """

    provider: str
    valid: bool
    message: str
    models: tuple[str, ...] = ()
    requests_per_minute: int | None = None
    status_code: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape shown by ``creator-kit validate NAME --json``."""
        return {
            "provider": self.provider,
            "valid": self.valid,
            "message": self.message,
            "details": {"models": list(self.models), "requestsPerMinute": self.requests_per_minute},
        }


async def check_provider(
    config: ProviderConfig,
    *,
    api_key: str | None = None,
    http_client: Any = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ValidationResult:
    """Ask `config`'s provider for its models with the key and describe the response.

    Nothing is recorded; see `validate_provider_async` for that. Never raises
    for a provider's refusal: the result has ``valid=False`` and the reason.
    """
    install_log_filter()
    if api_key:
        register_secret(api_key)
    key = api_key or resolve_key(config)
    if key is None and config.needs_key:
        env = f"set {config.api_key_env}, or " if config.api_key_env else ""
        return ValidationResult(
            config.name, False,
            f"no key for provider {config.name!r}: {env}enter one in Settings or run "
            f"creator-kit providers set-key {config.name}",
        )

    try:
        if config.catalog_url:
            models, headers = await _read_catalog(config, key, http_client, timeout_s)
        else:
            models, headers = await _read_model_list(config, key, http_client, timeout_s)
    except Exception as exc:  # noqa: BLE001 (translated at this boundary)
        failure = translate_error(exc, provider=config.name, model="-", preset=config.preset)
        logger.info("validation of %s failed: %s", config.name, failure.message)
        return ValidationResult(config.name, False, failure.message, status_code=failure.status_code)

    rpm = _int_header(headers, "x-ratelimit-limit-requests")
    what = "accepted the key" if config.needs_key else "is reachable"
    message = f"{config.name} {what}: {len(models)} model(s) available"
    if rpm is not None:
        message += f", {rpm} requests per minute"
    logger.info("validated %s: %d models", config.name, len(models))
    return ValidationResult(config.name, True, scrub(message), tuple(models), rpm, 200)


async def validate_provider_async(
    workspace: Workspace,
    name: str,
    *,
    api_key: str | None = None,
    http_client: Any = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    record: bool = True,
) -> ValidationResult:
    """Validate provider `name` of `workspace`, record an event and store the outcome.

    The outcome (valid or not, and when) is saved on the provider's settings
    entry, which is what Settings shows as the "Configured" badge.
    """
    config = get_provider(workspace, name)
    result = await check_provider(config, api_key=api_key, http_client=http_client, timeout_s=timeout_s)
    if record:
        await asyncio.to_thread(_record, workspace, result)
    return result


def validate_provider(
    workspace: Workspace,
    name: str,
    *,
    api_key: str | None = None,
    http_client: Any = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    record: bool = True,
) -> ValidationResult:
    """Validate provider `name` from synchronous code (see `validate_provider_async`).

    Raises
    ------
    ProviderError
        If called while an event loop runs in this thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise ProviderError("validate_provider() cannot run inside an event loop; await validate_provider_async()")
    return asyncio.run(validate_provider_async(
        workspace, name, api_key=api_key, http_client=http_client, timeout_s=timeout_s, record=record
    ))


def _record(workspace: Workspace, result: ValidationResult) -> None:
    append_rows(workspace, "events", [{
        "kind": "validation",
        "provider": result.provider,
        "outcome": "valid" if result.valid else "invalid",
        "status_code": result.status_code,
        "message": scrub(result.message),
    }])
    mark_validated(workspace, result.provider, valid=result.valid, at=datetime.now(UTC).isoformat())


async def _read_model_list(
    config: ProviderConfig, key: str | None, http_client: Any, timeout_s: float
) -> tuple[list[str], Any]:
    client = openai.AsyncOpenAI(
        api_key=key or _NO_KEY, base_url=config.base_url, max_retries=0,
        timeout=timeout_s, http_client=http_client,
    )
    try:
        raw = await client.models.with_raw_response.list()
        page = raw.parse()
        return [model.id for model in page.data], raw.headers
    finally:
        if http_client is None:
            await client.close()


async def _read_catalog(
    config: ProviderConfig, key: str | None, http_client: Any, timeout_s: float
) -> tuple[list[str], Any]:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    own_client = http_client is None
    client = http_client or httpx.AsyncClient(timeout=timeout_s)
    try:
        response = await client.get(config.catalog_url, headers=headers, timeout=timeout_s)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = {"error": {"message": response.text[:300]}}
            raise openai.APIStatusError(
                f"Error code: {response.status_code}", response=response, body=body
            )
        data = response.json()
    finally:
        if own_client:
            await client.aclose()
    items = data.get("data", data) if isinstance(data, dict) else data
    models = [str(item.get("id")) for item in items if isinstance(item, dict) and item.get("id")]
    return models, response.headers


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
