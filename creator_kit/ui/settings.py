"""The Settings page: providers and their keys, failover order, token quota and price overrides."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import os
from typing import Any

import ipywidgets as widgets
import traitlets

from creator_kit.errors import CreatorKitError, InvalidInputError
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

        self.quota = widgets.BoundedIntText(min=0, max=10**12, description="Tokens/day")
        self.quota_button = widgets.Button(description="Save quota")
        self.quota_message = widgets.HTML()
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

        super().__init__(
            "settings",
            title="Settings",
            subtitle="Keys are stored in the system keyring or an owner-only file, never in the workspace.",
            children=[
                widgets.HTML(_SETTINGS_CSS, layout=widgets.Layout(display="none")),
                self.providers_box, add_card, order_card, quota_card, price_card,
            ],
            theme=theme,
        )
        self.add_button.on_click(lambda _b: self.add_provider())
        self.order_button.on_click(lambda _b: self.save_order())
        self.quota_button.on_click(lambda _b: self.save_quota())
        self.price_button.on_click(lambda _b: self.save_price())
        self.price_remove.on_click(lambda _b: self.remove_price())
        self.reload()

    # -- actions ------------------------------------------------------------------

    def reload(self) -> None:
        """Read the settings again and redraw every card."""
        try:
            configs = list_providers(self.workspace)
            settings = self.workspace.read_settings()
            self.cards = {c.name: ProviderCard(self, c) for c in configs}
            empty = widgets.HTML('<div class="ck-card ck-empty">No provider yet: add one below.</div>')
            self.providers_box.children = list(self.cards.values()) or [empty]
            self.order.value = ", ".join(failover_order(self.workspace))
            self.quota.value = int(settings.get("daily_token_quota", DEFAULT_DAILY_TOKEN_QUOTA))
            self._render_prices(settings.get("price_overrides") or {})
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
        """Save the daily token quota."""
        try:
            self.workspace.update_settings(daily_token_quota=int(self.quota.value))
        except CreatorKitError as exc:
            logger.error("cannot save the quota: %s", exc)
            self.quota_message.value = _message(str(exc), bad=True)
            return
        self.quota_message.value = _message(f"Saved: {int(self.quota.value):,} tokens per day.", bad=False)

    def save_price(self) -> None:
        """Save the price override of the model in the form."""
        try:
            model = self.price_model.value.strip()
            if not model:
                raise InvalidInputError("type the model whose price you override")
            if self.price_input.value < 0 or self.price_output.value < 0:
                raise InvalidInputError("prices cannot be negative")
            cached_text = self.price_cached.value.strip()
            try:
                cached = float(cached_text) if cached_text else None
            except ValueError:
                raise InvalidInputError(f"cached price {cached_text!r} is not a number") from None
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


def _message(text: str, *, bad: bool) -> str:
    css = "ck-validation ck-bad" if bad else "ck-validation ck-good"
    return f'<div class="{css}">{html.escape(text)}</div>'
