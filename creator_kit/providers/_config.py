"""Provider entries and presets, stored in the workspace settings.

A provider is a name, a preset, a base URL, where its key comes from and a
list of models. The entries live in the workspace settings under
``providers`` ({name: entry}) and the failover order under
``failover_order`` ([name, ...]). Keys are never stored there: see
`creator_kit.providers.resolve_key`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace

__all__ = [
    "GITHUB_MODELS_RETIRED",
    "PRESETS",
    "Preset",
    "ProviderConfig",
    "failover_order",
    "get_provider",
    "list_providers",
    "make_provider",
    "mark_validated",
    "providers_from_settings",
    "remove_provider",
    "save_provider",
    "set_failover_order",
]

logger = logging.getLogger(__name__)

GITHUB_MODELS_RETIRED = (
    "GitHub retired GitHub Models on 2026-07-30 and its endpoint now returns HTTP 410 Gone. "
    "Choose another provider (openai, openrouter, ollama or custom) in Settings."
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Preset:
    """Defaults of a known OpenAI-compatible service."""

    name: str
    base_url: str | None
    key_env: str | None
    needs_key: bool = True
    catalog_url: str | None = None
    models: tuple[str, ...] = ()
    # Left out of the default failover order (a retired or a local-only service).
    default_fallback: bool = True
    description: str = ""


PRESETS: dict[str, Preset] = {
    "openai": Preset(
        name="openai",
        base_url="https://api.openai.com/v1",
        key_env="OPENAI_API_KEY",
        models=("gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini"),
        description="OpenAI Chat Completions",
    ),
    "github-models": Preset(
        name="github-models",
        base_url="https://models.github.ai/inference",
        key_env="GITHUB_TOKEN",
        catalog_url="https://models.github.ai/catalog/models",
        models=("openai/gpt-4.1-mini",),
        default_fallback=False,
        description="GitHub Models (retired 2026-07-30, returns HTTP 410)",
    ),
    "openrouter": Preset(
        name="openrouter",
        base_url="https://openrouter.ai/api/v1",
        key_env="OPENROUTER_API_KEY",
        models=("openai/gpt-4.1-mini",),
        description="OpenRouter",
    ),
    "ollama": Preset(
        name="ollama",
        base_url="http://127.0.0.1:11434/v1",
        key_env=None,
        needs_key=False,
        models=("llama3.2",),
        description="Ollama on this machine (no key)",
    ),
    "custom": Preset(
        name="custom",
        base_url=None,
        key_env=None,
        description="any OpenAI-compatible base URL",
    ),
}


@dataclass(frozen=True)
class ProviderConfig:
    """One configured provider.

    Attributes
    ----------
    name
        The name the user chose, e.g. ``"openai"`` or ``"local"``.
    preset
        One of `PRESETS`.
    base_url
        The OpenAI-compatible base URL, e.g. ``https://api.openai.com/v1``.
    api_key_env
        Environment variable read first for the key, or None.
    models
        Models offered for this provider; the first is the default.
    needs_key
        False for local servers that take no key.
    catalog_url
        Model catalog used for validation instead of ``GET /models``.
    validated
        Result of the last validation: True, False, or None if never validated.
    validated_at
        ISO 8601 time of the last validation.
    """

    name: str
    preset: str
    base_url: str
    api_key_env: str | None = None
    models: tuple[str, ...] = ()
    needs_key: bool = True
    catalog_url: str | None = None
    validated: bool | None = None
    validated_at: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def default_model(self) -> str | None:
        """The first listed model, used when a run names none."""
        return self.models[0] if self.models else None

    def to_settings(self) -> dict[str, Any]:
        """Return the JSON entry stored under ``providers`` (no key in it)."""
        entry: dict[str, Any] = {
            "preset": self.preset,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "models": list(self.models),
            "needs_key": self.needs_key,
        }
        if self.catalog_url:
            entry["catalog_url"] = self.catalog_url
        if self.validated is not None:
            entry["validated"] = self.validated
            entry["validated_at"] = self.validated_at
        return entry

    @classmethod
    def from_settings(cls, name: str, entry: Mapping[str, Any]) -> ProviderConfig:
        """Build a config from its settings entry, filling gaps from the preset."""
        if not isinstance(entry, Mapping):
            raise InvalidInputError(
                f"settings entry of provider {name!r} must be a JSON object, got {type(entry).__name__}"
            )
        preset_name = str(entry.get("preset") or "custom")
        preset = PRESETS.get(preset_name, PRESETS["custom"])
        base_url = entry.get("base_url") or preset.base_url
        if not base_url:
            raise InvalidInputError(
                f"provider {name!r} has no base_url.\n"
                f"Hint: creator-kit providers set {name} --preset custom --base-url URL"
            )
        models = entry.get("models") or list(preset.models)
        return cls(
            name=name,
            preset=preset_name,
            base_url=str(base_url),
            api_key_env=entry.get("api_key_env", preset.key_env),
            models=tuple(str(model) for model in models),
            needs_key=bool(entry.get("needs_key", preset.needs_key)),
            catalog_url=entry.get("catalog_url") or preset.catalog_url,
            validated=entry.get("validated"),
            validated_at=entry.get("validated_at"),
        )


def make_provider(
    name: str,
    *,
    preset: str,
    base_url: str | None = None,
    api_key_env: str | None = None,
    models: Iterable[str] | None = None,
) -> ProviderConfig:
    """Build and check a provider config from a preset and overrides.

    Raises
    ------
    InvalidInputError
        If the name, preset, base URL, variable name or model list is invalid.
    """
    if not _NAME.match(name or ""):
        raise InvalidInputError(
            f"invalid provider name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    if preset not in PRESETS:
        raise InvalidInputError(
            f"unknown preset {preset!r}; the presets are {', '.join(PRESETS)}"
        )
    spec = PRESETS[preset]
    url = (base_url or spec.base_url or "").strip()
    if not url:
        raise InvalidInputError(
            f"preset {preset!r} needs a base URL.\nHint: add --base-url http://host:port/v1"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"invalid base URL {url!r}: expected http(s)://host[:port]/path"
        )
    if parts.username or parts.password:
        raise InvalidInputError(
            "the base URL must not contain a user name or password; store the key with "
            f"creator-kit providers set-key {name}"
        )
    env = api_key_env if api_key_env is not None else spec.key_env
    if env is not None and not _ENV_VAR.match(env):
        raise InvalidInputError(f"invalid environment variable name {env!r}")
    model_list = tuple(m.strip() for m in (models if models is not None else spec.models) if m.strip())
    if not model_list:
        raise InvalidInputError(
            f"provider {name!r} needs at least one model.\nHint: add --models model-a,model-b"
        )
    catalog_url = spec.catalog_url
    if catalog_url and base_url:
        # A GitHub Models deployment serves its catalog beside the inference path.
        catalog_url = f"{parts.scheme}://{parts.netloc}/catalog/models"
    return ProviderConfig(
        name=name,
        preset=preset,
        base_url=url.rstrip("/"),
        api_key_env=env or None,
        models=model_list,
        needs_key=spec.needs_key,
        catalog_url=catalog_url,
    )


def list_providers(workspace: Workspace) -> list[ProviderConfig]:
    """Return the configured providers: those in the failover order first, in that order."""
    return providers_from_settings(workspace.read_settings())


def providers_from_settings(settings: Mapping[str, Any]) -> list[ProviderConfig]:
    """Return the providers of a settings mapping, in the order of `list_providers`."""
    entries = settings.get("providers") or {}
    if not isinstance(entries, Mapping):
        raise InvalidInputError("settings key 'providers' must be a JSON object of name: entry")
    order = [name for name in settings.get("failover_order") or [] if name in entries]
    names = order + sorted(name for name in entries if name not in order)
    return [ProviderConfig.from_settings(name, entries[name]) for name in names]


def get_provider(workspace: Workspace, name: str) -> ProviderConfig:
    """Return the provider called `name`.

    Raises
    ------
    InvalidInputError
        If no provider has that name.
    """
    for config in list_providers(workspace):
        if config.name == name:
            return config
    known = ", ".join(c.name for c in list_providers(workspace)) or "none"
    raise InvalidInputError(
        f"no provider named {name!r} (configured: {known}).\n"
        f"Hint: creator-kit providers set {name} --preset openai"
    )


def save_provider(workspace: Workspace, config: ProviderConfig) -> ProviderConfig:
    """Add or replace a provider entry in the workspace settings.

    A new provider joins the end of the failover order, unless its preset is
    no default fallback (GitHub Models).
    """
    settings = workspace.read_settings()
    entries = dict(settings.get("providers") or {})
    is_new = config.name not in entries
    entries[config.name] = config.to_settings()
    order = list(settings.get("failover_order") or [])
    if is_new and config.name not in order and PRESETS.get(config.preset, PRESETS["custom"]).default_fallback:
        order.append(config.name)
    workspace.update_settings(providers=entries, failover_order=order or None)
    logger.info("saved provider %s (preset %s, %s)", config.name, config.preset, config.base_url)
    return config


def remove_provider(workspace: Workspace, name: str) -> None:
    """Remove a provider and drop it from the failover order."""
    settings = workspace.read_settings()
    entries = dict(settings.get("providers") or {})
    if entries.pop(name, None) is None:
        raise InvalidInputError(f"no provider named {name!r}")
    order = [n for n in settings.get("failover_order") or [] if n != name]
    workspace.update_settings(providers=entries, failover_order=order)


def mark_validated(workspace: Workspace, name: str, *, valid: bool, at: str) -> None:
    """Store the outcome of a validation on the provider's entry."""
    config = get_provider(workspace, name)
    save_provider(workspace, replace(config, validated=valid, validated_at=at))


def failover_order(workspace: Workspace) -> list[str]:
    """Return the provider names in the order a run tries them.

    This is the saved ``failover_order`` without names no longer configured.
    Providers join it when they are added, except presets that are no default
    fallback (GitHub Models), which are tried only when named or put in the
    order explicitly.
    """
    settings = workspace.read_settings()
    entries = settings.get("providers") or {}
    return [name for name in settings.get("failover_order") or [] if name in entries]


def set_failover_order(workspace: Workspace, names: Iterable[str]) -> list[str]:
    """Save the failover order.

    Raises
    ------
    InvalidInputError
        If a name is not a configured provider, appears twice, or the list is empty.
    """
    order = [n.strip() for n in names if n.strip()]
    if not order:
        raise InvalidInputError("the failover order needs at least one provider name")
    known = {c.name for c in list_providers(workspace)}
    for name in order:
        if name not in known:
            raise InvalidInputError(
                f"unknown provider {name!r} in the failover order (configured: "
                f"{', '.join(sorted(known)) or 'none'})"
            )
    if len(set(order)) != len(order):
        raise InvalidInputError(f"a provider appears twice in the failover order {order}")
    workspace.update_settings(failover_order=order)
    logger.info("saved failover order %s", order)
    return order
