"""The Settings page: providers and their keys, failover order, token quota, price overrides and video endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import math
import os
from typing import Any

import ipywidgets as widgets
import traitlets

from creator_kit.errors import CreatorKitError, InvalidInputError
from creator_kit.jobs import DEFAULT_KEY_ENV, VideoSettings, parse_video_settings, update_video_settings
from creator_kit.providers import (
    PRESETS,
    ProviderConfig,
    ValidationResult,
    describe_key,
    failover_order,
    list_providers,
    make_provider,
    register_secret,
    save_provider,
    set_failover_order,
    store_key,
    validate_provider_async,
)
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import PageFrame, wait_for_page_request

__all__ = ["ProviderCard", "SettingsPage", "settings_page"]

logger = logging.getLogger(__name__)

DEFAULT_DAILY_TOKEN_QUOTA = 100_000
MAX_DAILY_TOKEN_QUOTA = 10**12

_SETTINGS_CSS = """
<style>
.ck-provider-card .widget-label { min-width: 90px; }
.ck-provider-head { display: flex; gap: 10px; align-items: center; }
.ck-provider-head b { font-size: 15px; color: var(--jp-ui-font-color0); }
.ck-badge.ck-configured { background: #2b8a3e; color: #ffffff; }
.ck-badge.ck-invalid { background: #c92a2a; color: #ffffff; }
.ck-validation { font-size: 13px; margin-top: 4px; white-space: pre-wrap; }
.ck-validation.ck-bad { color: var(--jp-error-color1); }
.ck-key-source { font-size: 12px; color: var(--jp-ui-font-color2); }
.ck-card.ck-empty { padding: 12px 16px; }
.ck-video-current { font-size: 13px; color: var(--jp-ui-font-color1); margin-bottom: 6px; }
</style>
"""


def settings_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    theme: str | None = None,
    http_client: Any = None,
) -> SettingsPage:
    """Build the Settings page of `workspace`.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    theme
        ``"light"`` or ``"dark"``; None reads ``$CREATOR_KIT_THEME``.
    http_client
        An ``httpx.AsyncClient`` used for validation (tests use it).
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    return SettingsPage(workspace, theme=theme, http_client=http_client)


class ProviderCard(widgets.VBox):
    """One provider: base URL, models, a masked key field and "Validate & save".

    A key typed in the field is validated first and stored (keyring, else the
    owner-only file) only when the provider accepts it; the field is cleared
    either way, so the key does not stay in the widget state.
    """

    configured = traitlets.Bool(False, help="True once the provider accepted its key").tag(sync=False)

    def __init__(self, page: SettingsPage, config: ProviderConfig) -> None:
        self.page = page
        self.config = config
        self.head = widgets.HTML()
        self.base_url = widgets.Text(value=config.base_url, description="Base URL", layout=widgets.Layout(width="520px"))
        self.models = widgets.Text(value=", ".join(config.models), description="Models", layout=widgets.Layout(width="520px"))
        self.key = widgets.Password(description="API key", layout=widgets.Layout(width="520px"))
        self.key.add_class("ck-key-input")
        self.key_source = widgets.HTML()
        self.validate_button = widgets.Button(description="Validate & save", button_style="primary")
        self.validate_button.add_class("ck-validate")
        self.message = widgets.HTML()
        self.message.add_class("ck-validation-message")
        self.task: asyncio.Task[None] | None = None
        super().__init__([
            self.head, self.base_url, self.models,
            widgets.HBox([self.key, self.validate_button]), self.key_source, self.message,
        ])
        self.add_class("ck-card")
        self.add_class("ck-provider-card")
        self.add_class(f"ck-provider-{config.name}")
        self.validate_button.on_click(lambda _button: self.start_validation())
        self.configured = config.validated is True
        self._render_head()
        self._render_key_source()

    def start_validation(self) -> asyncio.Task[None] | None:
        """Validate (and on success save) the values in the card, as the button does."""
        typed = self.key.value.strip()
        self.key.value = ""
        try:
            models = [m.strip() for m in self.models.value.split(",") if m.strip()]
            config = make_provider(
                self.config.name, preset=self.config.preset, base_url=self.base_url.value.strip(),
                api_key_env=self.config.api_key_env, models=models,
            )
        except CreatorKitError as exc:
            self._show_message(str(exc), bad=True)
            logger.error("invalid settings for provider %s: %s", self.config.name, exc)
            return None
        if typed:
            register_secret(typed)
        self.validate_button.disabled = True
        self.message.value = '<span class="ck-spinner"></span>Validating\u2026'
        self.task = asyncio.get_event_loop().create_task(self._validate(config, typed or None))
        return self.task

    async def _validate(self, config: ProviderConfig, typed: str | None) -> None:
        try:
            save_provider(self.page.workspace, config)
            result = await validate_provider_async(
                self.page.workspace, config.name, api_key=typed, http_client=self.page.http_client
            )
            if result.valid and typed:
                where = await asyncio.to_thread(store_key, config.name, typed)
                logger.info("stored the validated key of %s in the %s", config.name, where)
            self.show_result(result)
            self.config = config
        except Exception as exc:  # shown in the card and logged; the kernel keeps running
            logger.error("validation of %s failed: %s", config.name, exc, exc_info=exc)
            self._show_message(f"Could not validate {config.name}: {exc}", bad=True)
        finally:
            self.validate_button.disabled = False
            self._render_key_source()

    def show_result(self, result: ValidationResult) -> None:
        """Show a validation result and set the badge."""
        self.configured = result.valid
        self.config = dataclasses.replace(self.config, validated=result.valid)
        text = result.message
        if result.valid and result.models:
            shown = ", ".join(result.models[:12]) + (" \u2026" if len(result.models) > 12 else "")
            text += f"\nModels: {shown}"
        self._show_message(text, bad=not result.valid)
        self._render_head()

    def _show_message(self, text: str, *, bad: bool) -> None:
        css = "ck-validation ck-bad" if bad else "ck-validation ck-good"
        role = ' role="alert"' if bad else ""
        self.message.value = f'<div class="{css}"{role}>{html.escape(text)}</div>'

    def _render_head(self) -> None:
        if self.config.validated is True:
            badge = '<span class="ck-badge ck-configured">Configured</span>'
        elif self.config.validated is False:
            badge = '<span class="ck-badge ck-invalid">Key rejected</span>'
        else:
            badge = '<span class="ck-badge">Not validated</span>'
        preset = PRESETS.get(self.config.preset)
        description = preset.description if preset else self.config.preset
        self.head.value = (
            f'<div class="ck-provider-head"><b>{html.escape(self.config.name)}</b>{badge}'
            f'<span class="ck-key-source">{html.escape(description)}</span></div>'
        )

    def _render_key_source(self) -> None:
        try:
            info = describe_key(self.config)
        except CreatorKitError as exc:
            logger.error("cannot read the key of %s: %s", self.config.name, exc)
            self.key_source.value = f'<span class="ck-key-source ck-bad">{html.escape(str(exc))}</span>'
            return
        if info.present:
            self.key.placeholder = f"{info.masked} (type a new key to replace it)"
            text = f"Key {info.masked} from {info.source}"
        elif not self.config.needs_key:
            self.key.placeholder = "no key needed"
            text = "This provider needs no key."
        else:
            self.key.placeholder = "paste the key"
            env = f" or set {self.config.api_key_env}" if self.config.api_key_env else ""
            text = f"No key yet: paste one here{env}."
        self.key_source.value = f'<span class="ck-key-source">{html.escape(text)}</span>'


class SettingsPage(PageFrame):
    """Providers with their keys, the failover order, the daily token quota and price overrides."""

    def __init__(self, workspace: Workspace, *, theme: str | None = None, http_client: Any = None) -> None:
        self.workspace = workspace
        self.http_client = http_client
        self.cards: dict[str, ProviderCard] = {}
        self.providers_box = widgets.VBox()

        self.new_name = widgets.Text(description="Name", placeholder="e.g. openai or local")
        self.new_preset = widgets.Dropdown(options=sorted(PRESETS), value="openai", description="Preset")
        self.new_base_url = widgets.Text(description="Base URL", placeholder="preset default")
        self.new_models = widgets.Text(description="Models", placeholder="preset default, comma-separated")
        self.add_button = widgets.Button(description="Add provider")
        self.add_button.add_class("ck-add-provider")
        self.add_message = widgets.HTML()
        add_card = widgets.VBox([
            widgets.HTML("<h2>Add a provider</h2>"), self.new_name, self.new_preset,
            self.new_base_url, self.new_models, self.add_button, self.add_message,
        ])
        add_card.add_class("ck-card")

        self.order = widgets.Text(description="Order", placeholder="name1, name2", layout=widgets.Layout(width="520px"))
        self.order_button = widgets.Button(description="Save order")
        self.order_message = widgets.HTML()
        order_card = widgets.VBox([
            widgets.HTML("<h2>Failover order</h2><p>Providers are tried in this order; a failure that "
                         "another provider may not share (timeout, 408, 409, 429, 5xx, 410) moves on to the next.</p>"),
            widgets.HBox([self.order, self.order_button]), self.order_message,
        ])
        order_card.add_class("ck-card")

        # A Text field, not an IntText, so that an invalid entry stays visible and is reported
        # instead of being clamped or reset by the widget.
        self.quota = widgets.Text(description="Tokens/day", placeholder=f"{DEFAULT_DAILY_TOKEN_QUOTA}")
        self.quota.add_class("ck-quota-input")
        self.quota_button = widgets.Button(description="Save quota")
        self.quota_button.add_class("ck-save-quota")
        self.quota_message = widgets.HTML()
        self.quota_message.add_class("ck-quota-message")
        quota_card = widgets.VBox([
            widgets.HTML("<h2>Daily token quota</h2>"),
            widgets.HBox([self.quota, self.quota_button]), self.quota_message,
        ])
        quota_card.add_class("ck-card")

        self.price_model = widgets.Text(description="Model", placeholder="e.g. gpt-4.1-mini")
        self.price_input = widgets.FloatText(description="Input $/M", value=0.0)
        self.price_output = widgets.FloatText(description="Output $/M", value=0.0)
        self.price_cached = widgets.Text(description="Cached $/M", placeholder="optional")
        self.price_button = widgets.Button(description="Save price")
        self.price_remove = widgets.Button(description="Remove price")
        self.price_message = widgets.HTML()
        self.price_table = widgets.HTML()
        price_card = widgets.VBox([
            widgets.HTML("<h2>Price overrides</h2><p>Prices per million tokens in USD; they win over the "
                         "shipped price table for that model.</p>"),
            self.price_model, widgets.HBox([self.price_input, self.price_output, self.price_cached]),
            widgets.HBox([self.price_button, self.price_remove]), self.price_message, self.price_table,
        ])
        price_card.add_class("ck-card")

        video_card = self._build_video_card()

        super().__init__(
            "settings",
            title="Settings",
            subtitle="Keys are stored in the system keyring or an owner-only file, never in the workspace.",
            children=[
                widgets.HTML(_SETTINGS_CSS, layout=widgets.Layout(display="none")),
                self.providers_box, add_card, order_card, quota_card, price_card, video_card,
            ],
            theme=theme,
        )
        self.add_button.on_click(lambda _b: self.add_provider())
        self.order_button.on_click(lambda _b: self.save_order())
        self.quota_button.on_click(lambda _b: self.save_quota())
        self.price_button.on_click(lambda _b: self.save_price())
        self.price_remove.on_click(lambda _b: self.remove_price())
        self.video_button.on_click(lambda _b: self.save_video())
        self.reload()

    def _build_video_card(self) -> widgets.VBox:
        wide = widgets.Layout(width="520px")
        self.video_endpoint = widgets.Text(
            description="Endpoint", placeholder="http://localhost:4000/v1 or a provider name", layout=wide
        )
        self.video_endpoint.add_class("ck-video-endpoint")
        self.video_key_env = widgets.Text(description="Key variable", placeholder=DEFAULT_KEY_ENV, layout=wide)
        self.video_fast = widgets.Text(description="Fast model", placeholder="sora-2")
        self.video_quality = widgets.Text(description="Quality model", placeholder="sora-2-pro")
        self.video_poll = widgets.Text(description="Poll every", placeholder="5")
        self.video_button = widgets.Button(description="Save video endpoint")
        self.video_button.add_class("ck-save-video")
        self.video_current = widgets.HTML()
        self.video_message = widgets.HTML()
        self.video_message.add_class("ck-video-message")
        card = widgets.VBox([
            widgets.HTML(
                "<h2>Video endpoint</h2><p>Where video jobs go: a base URL ending in /v1 (for example a "
                "LiteLLM proxy) or the name of a provider entry above. For a base URL the key is read from "
                "the environment variable named here; a provider entry uses its own key. The poll interval "
                "is in seconds.</p>"
            ),
            self.video_current, self.video_endpoint, self.video_key_env,
            widgets.HBox([self.video_fast, self.video_quality]), self.video_poll,
            self.video_button, self.video_message,
        ])
        card.add_class("ck-card")
        card.add_class("ck-video-card")
        return card

    # -- actions ------------------------------------------------------------------

    def reload(self) -> None:
        """Read the settings again and redraw every card."""
        try:
            configs = list_providers(self.workspace)
            settings = self.workspace.read_settings()
            self.cards = {c.name: ProviderCard(self, c) for c in configs}
            empty = widgets.HTML('<div class="ck-card ck-empty ck-no-provider">No provider yet: add one below.</div>')
            self.providers_box.children = list(self.cards.values()) or [empty]
            self.order.value = ", ".join(failover_order(self.workspace))
            self.quota.value = str(int(settings.get("daily_token_quota", DEFAULT_DAILY_TOKEN_QUOTA)))
            self._render_prices(settings.get("price_overrides") or {})
            self._load_video(settings.get("video") or {})
        except (CreatorKitError, TypeError, ValueError) as exc:
            self.show_error(exc, action="read the settings")
            return
        self.set_ready()

    def add_provider(self) -> None:
        """Add the provider described by the "Add a provider" form."""
        try:
            name = self.new_name.value.strip()
            if name in self.cards:
                raise InvalidInputError(f"a provider named {name!r} exists; edit its card above")
            models = [m for m in self.new_models.value.split(",") if m.strip()] or None
            config = make_provider(
                name, preset=self.new_preset.value, base_url=self.new_base_url.value.strip() or None, models=models
            )
            save_provider(self.workspace, config)
        except CreatorKitError as exc:
            logger.error("cannot add provider: %s", exc)
            self.add_message.value = _message(str(exc), bad=True)
            return
        self.add_message.value = _message(f"Added {config.name}. Paste its key and press Validate & save.", bad=False)
        self.new_name.value = ""
        self.reload()

    def save_order(self) -> None:
        """Save the failover order typed in the order field."""
        try:
            order = set_failover_order(self.workspace, self.order.value.split(","))
        except CreatorKitError as exc:
            logger.error("cannot save the failover order: %s", exc)
            self.order_message.value = _message(str(exc), bad=True)
            return
        self.order_message.value = _message("Saved: " + " \u2192 ".join(order), bad=False)

    def save_quota(self) -> None:
        """Save the daily token quota; an invalid value is reported and the stored quota kept."""
        try:
            quota = parse_quota(self.quota.value)
            self.workspace.update_settings(daily_token_quota=quota)
        except CreatorKitError as exc:
            logger.error("cannot save the quota: %s", exc)
            self.quota_message.value = _message(str(exc), bad=True)
            return
        self.quota.value = str(quota)
        self.quota_message.value = _message(f"Saved: {quota:,} tokens per day.", bad=False)

    def save_price(self) -> None:
        """Save the price override of the model in the form."""
        try:
            model = self.price_model.value.strip()
            if not model:
                raise InvalidInputError("type the model whose price you override")
            _check_price("input price", self.price_input.value)
            _check_price("output price", self.price_output.value)
            cached_text = self.price_cached.value.strip()
            try:
                cached = float(cached_text) if cached_text else None
            except ValueError:
                raise InvalidInputError(
                    f"cached price {cached_text!r} is not a number; type USD per million tokens, "
                    "e.g. 0.5, or leave it empty"
                ) from None
            if cached is not None:
                _check_price("cached price", cached)
            overrides = dict(self.workspace.read_settings().get("price_overrides") or {})
            overrides[model] = {
                "input_per_mtok": float(self.price_input.value),
                "output_per_mtok": float(self.price_output.value),
                "cached_input_per_mtok": cached,
                "per_second": (overrides.get(model) or {}).get("per_second"),
            }
            self.workspace.update_settings(price_overrides=overrides)
        except CreatorKitError as exc:
            logger.error("cannot save the price override: %s", exc)
            self.price_message.value = _message(str(exc), bad=True)
            return
        self.price_message.value = _message(f"Saved the price of {model}.", bad=False)
        self._render_prices(overrides)

    def remove_price(self) -> None:
        """Remove the price override of the model in the form."""
        model = self.price_model.value.strip()
        overrides = dict(self.workspace.read_settings().get("price_overrides") or {})
        if overrides.pop(model, None) is None:
            self.price_message.value = _message(f"No override for {model!r}.", bad=True)
            return
        self.workspace.update_settings(price_overrides=overrides or None)
        self.price_message.value = _message(f"Removed the price of {model}.", bad=False)
        self._render_prices(overrides)

    def save_video(self) -> None:
        """Check the video endpoint form with the jobs module's rules and save it."""
        try:
            changes = self._video_changes()
            settings = update_video_settings(self.workspace, **changes)
        except CreatorKitError as exc:
            logger.error("cannot save the video endpoint: %s", exc)
            self.video_message.value = _message(str(exc), bad=True)
            return
        self._render_video(settings)
        self.video_message.value = _message("Saved the video endpoint.", bad=False)

    def _video_changes(self) -> dict[str, Any]:
        """Return the ``video`` setting changes typed in the form; None resets a key to its default."""
        endpoint = self.video_endpoint.value.strip()
        base_url: str | None = None
        provider: str | None = None
        if endpoint.startswith(("http://", "https://")) or "/" in endpoint or ":" in endpoint:
            base_url = endpoint
        elif endpoint:
            names = [config.name for config in list_providers(self.workspace)]
            if endpoint not in names:
                known = ", ".join(names) if names else "none yet"
                raise InvalidInputError(
                    f"video endpoint {endpoint!r} is neither a base URL nor a provider entry (entries: {known}); "
                    "type a URL such as http://localhost:4000/v1 or add the provider above"
                )
            provider = endpoint

        # Tiers other than fast and quality, set in the settings file, are kept.
        stored = self.workspace.read_settings().get("video") or {}
        stored_models = stored.get("models") if isinstance(stored, dict) else None
        models: dict[str, str] = {}
        if isinstance(stored_models, dict):
            models = {tier: name for tier, name in stored_models.items() if tier not in ("fast", "quality")}
        for tier, field in (("fast", self.video_fast), ("quality", self.video_quality)):
            if field.value.strip():
                models[tier] = field.value.strip()

        poll_text = self.video_poll.value.strip()
        poll_interval: float | None = None
        if poll_text:
            try:
                poll_interval = float(poll_text)
            except ValueError:
                raise InvalidInputError(
                    f"poll interval {poll_text!r} is not a number; type a positive number of seconds, e.g. 5"
                ) from None

        return {
            "base_url": base_url,
            "provider": provider,
            "api_key_env": self.video_key_env.value.strip() or None,
            "models": models or None,
            "poll_interval": poll_interval,
        }

    def _load_video(self, raw: Any) -> None:
        """Fill the video form with the stored setting; an invalid setting is shown, not raised."""
        raw = raw if isinstance(raw, dict) else {}
        self.video_endpoint.value = str(raw.get("base_url") or raw.get("provider") or "")
        self.video_key_env.value = str(raw.get("api_key_env") or "")
        models = raw.get("models") if isinstance(raw.get("models"), dict) else {}
        self.video_fast.value = str(models.get("fast") or "")
        self.video_quality.value = str(models.get("quality") or "")
        poll = raw.get("poll_interval")
        if isinstance(poll, int | float):
            self.video_poll.value = f"{poll:g}"
        else:
            self.video_poll.value = "" if poll is None else str(poll)
        try:
            settings = parse_video_settings(raw)
        except CreatorKitError as exc:
            logger.error("the stored video setting is invalid: %s", exc)
            self.video_current.value = _message(f"The stored video setting is invalid: {exc}", bad=True)
            return
        self._render_video(settings)

    def _render_video(self, settings: VideoSettings) -> None:
        if settings.base_url:
            target = f"base URL {settings.base_url}, key from ${settings.api_key_env}"
        elif settings.provider:
            target = f"provider entry {settings.provider} (its own key)"
        else:
            target = "not set: video jobs need a base URL or a provider entry"
        lines = [
            f"Endpoint: {target}",
            f"Models: fast {settings.model_for('fast')}, quality {settings.model_for('quality')}",
            f"Poll interval: {settings.poll_interval:g} s",
        ]
        self.video_current.value = (
            '<div class="ck-video-current">' + "<br>".join(html.escape(line) for line in lines) + "</div>"
        )

    def _render_prices(self, overrides: dict[str, Any]) -> None:
        if not overrides:
            self.price_table.value = '<div class="ck-empty">No overrides: the shipped price table applies.</div>'
            return
        rows = []
        for model, price in sorted(overrides.items()):
            price = price if isinstance(price, dict) else {}
            cells = [model] + [
                "" if price.get(k) is None else f"{price[k]:g}"
                for k in ("input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "per_second")
            ]
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        self.price_table.value = (
            '<table class="ck-table"><tr><th>Model</th><th>Input $/M</th><th>Output $/M</th>'
            "<th>Cached $/M</th><th>$/second</th></tr>" + "".join(rows) + "</table>"
        )


def parse_quota(text: str) -> int:
    """Parse a daily token quota typed by a person.

    Thousands separators (``,`` or ``_``) are accepted.

    Raises
    ------
    InvalidInputError
        If `text` is not a whole number from 1 to `MAX_DAILY_TOKEN_QUOTA`.

    Examples
    --------
    >>> parse_quota("250,000")
    250000
    """
    valid_range = f"type a whole number of tokens from 1 to {MAX_DAILY_TOKEN_QUOTA:,}"
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        quota = int(cleaned)
    except ValueError:
        raise InvalidInputError(f"daily token quota {text.strip()!r} is not a whole number; {valid_range}") from None
    if not 1 <= quota <= MAX_DAILY_TOKEN_QUOTA:
        raise InvalidInputError(f"daily token quota {quota:,} is out of range; {valid_range}")
    return quota


def _check_price(field: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"{field} {value:g} is invalid; type USD per million tokens, 0 or more")


def _message(text: str, *, bad: bool) -> str:
    css = "ck-validation ck-bad" if bad else "ck-validation ck-good"
    return f'<div class="{css}">{html.escape(text)}</div>'
