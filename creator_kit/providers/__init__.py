"""Text providers: configuration, keys, streaming with TTFT, failover and validation.

Every provider speaks the OpenAI Chat Completions protocol through the
``openai`` SDK, so one adapter serves OpenAI, OpenRouter, Ollama, GitHub
Models (retired, returns HTTP 410) and any compatible base URL.

Errors raised here derive from `creator_kit.errors.ProviderError`
(`RateLimitError` for HTTP 429) or `InvalidInputError` for bad settings.
A failed or stopped run is not an exception: it is a `GenerationResult`
with ``status`` ``"failed"`` or ``"aborted"``, recorded like a success.

Examples
--------
>>> import tempfile
>>> from creator_kit.providers import make_provider, save_provider, list_providers
>>> from creator_kit.storage import resolve_workspace
>>> ws = resolve_workspace(tempfile.mkdtemp())
>>> _ = save_provider(ws, make_provider("local", preset="ollama", models=["llama3.2"]))
>>> [p.name for p in list_providers(ws)]
['local']
"""

from __future__ import annotations

from creator_kit.providers._config import (
    GITHUB_MODELS_RETIRED,
    PRESETS,
    Preset,
    ProviderConfig,
    failover_order,
    get_provider,
    list_providers,
    make_provider,
    mark_validated,
    remove_provider,
    save_provider,
    set_failover_order,
)
from creator_kit.providers._errors import Failure, parse_retry_after, translate_error
from creator_kit.providers._failover import RetryPolicy, Step, build_route
from creator_kit.providers._keys import (
    CONFIG_DIR_ENV,
    KeyInfo,
    config_dir,
    delete_key,
    describe_key,
    mask_key,
    register_secret,
    resolve_key,
    scrub,
    store_key,
)
from creator_kit.providers._stream import (
    ClientPool,
    Generation,
    GenerationResult,
    PricingFunction,
    estimate_tokens,
    generate,
    start_generation,
)
from creator_kit.providers._validate import (
    ValidationResult,
    check_provider,
    validate_provider,
    validate_provider_async,
)

__all__ = [
    "CONFIG_DIR_ENV",
    "ClientPool",
    "GITHUB_MODELS_RETIRED",
    "PRESETS",
    "Failure",
    "Generation",
    "GenerationResult",
    "KeyInfo",
    "Preset",
    "PricingFunction",
    "ProviderConfig",
    "RetryPolicy",
    "Step",
    "ValidationResult",
    "build_route",
    "check_provider",
    "config_dir",
    "delete_key",
    "describe_key",
    "estimate_tokens",
    "failover_order",
    "generate",
    "get_provider",
    "list_providers",
    "make_provider",
    "mark_validated",
    "parse_retry_after",
    "register_secret",
    "remove_provider",
    "resolve_key",
    "save_provider",
    "scrub",
    "set_failover_order",
    "start_generation",
    "store_key",
    "translate_error",
    "validate_provider",
    "validate_provider_async",
]
