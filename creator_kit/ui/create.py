"""The Create page: the prompt card that streams a generation and shows its numbers."""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import os
import time
from typing import Any
from urllib.parse import parse_qs

import ipywidgets as widgets
import traitlets

from creator_kit.errors import CreatorKitError
from creator_kit.providers import ClientPool, Generation, GenerationResult, list_providers
from creator_kit.providers._stream import PricingFunction
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import PageFrame, format_count, format_ms, format_usd, wait_for_page_request

__all__ = ["AUTOMATIC", "CreatePage", "create_page", "query_parameter"]

logger = logging.getLogger(__name__)

# Provider choice that follows the failover order.
AUTOMATIC = "__failover__"
# Seconds between two redraws of the streamed text, so that a fast stream
# does not flood the browser with one message per token.
REDRAW_INTERVAL_S = 0.05

_CARD_CSS = """
<style>
.ck-create-output { white-space: pre-wrap; word-break: break-word; min-height: 120px; max-height: 460px;
  overflow-y: auto; background: var(--jp-layout-color0); border: 1px solid var(--jp-border-color2);
  border-radius: 6px; padding: 10px 12px; font-family: var(--jp-content-font-family); font-size: 14px;
  color: var(--jp-ui-font-color0); }
.ck-create-stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 8px; margin-top: 10px; }
.ck-create-stat { background: var(--jp-layout-color2); border-radius: 6px; padding: 6px 10px; }
.ck-create-stat b { display: block; font-size: 16px; color: var(--jp-ui-font-color0); }
.ck-create-stat span { font-size: 11px; text-transform: uppercase; color: var(--jp-ui-font-color2); }
.ck-create-note { margin-top: 8px; font-size: 13px; color: var(--jp-ui-font-color1); }
.ck-create-tags { border: 1px solid var(--jp-border-color1); border-radius: 2px; padding: 0 4px; gap: 4px;
  box-sizing: border-box; background: var(--jp-widgets-input-background-color, var(--jp-layout-color1)); }
.ck-create-tags .widget-text { flex: 1 1 120px; min-width: 120px; margin: 0; }
.ck-create-tags input.jupyter-widget-taginput { width: 100%; border: none; outline: none; background: transparent;
  color: var(--jp-ui-font-color0); }
.ck-create-error { color: var(--jp-error-color1); border-left: 4px solid var(--jp-error-color1);
  background: var(--jp-layout-color2); padding: 8px 12px; margin-top: 8px; white-space: pre-wrap; }
</style>
"""


def create_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    template_id: str | None = None,
    prompt: str | None = None,
    theme: str | None = None,
    http_client: Any = None,
    pricing: PricingFunction | None = None,
) -> CreatePage:
    """Build the Create page: prompt, provider and model, title, tags, Generate and Stop.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    template_id
        Start from this template's prompt. None reads ``?template_id=<id>``
        (or ``?template=<id>``) from the page's query string under Voila.
    prompt
        Text to put in the prompt box (wins over the template's).
    theme
        ``"light"`` or ``"dark"``; None reads ``$CREATOR_KIT_THEME``.
    http_client
        An ``httpx.AsyncClient`` passed to the openai SDK (tests use it).
    pricing
        Cost estimator; None uses `creator_kit.analytics.estimate_cost` with
        the workspace's price overrides.
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    if template_id is None:
        # Voila itself reads ?template= as the name of an nbconvert template, so
        # links use ?template_id=; ?template= works when serve disables that override.
        template_id = query_parameter("template_id", "template")
    return CreatePage(
        workspace, template_id=template_id, prompt=prompt, theme=theme, http_client=http_client, pricing=pricing
    )


def query_parameter(*names: str) -> str | None:
    """Return the first of the parameters `names` found in the Voila page's query string.

    A preheated Voila kernel has no ``QUERY_STRING`` variable until a page
    request takes it; ``voila.utils.get_query_string()`` waits for that
    request and sets the variable. Outside Voila the result is None.
    """
    query = _query_string()
    parsed = parse_qs(query.lstrip("?"))
    for name in names:
        values = parsed.get(name)
        if values and values[0]:
            return values[0]
    return None


def _query_string() -> str:
    if "QUERY_STRING" in os.environ:
        return os.environ["QUERY_STRING"]
    try:
        from voila.utils import get_query_string
    except ImportError:
        return ""
    try:
        return get_query_string() or ""
    except Exception as exc:  # noqa: BLE001 (outside Voila there is no request to read)
        logger.debug("no Voila query string: %s", exc)
        return ""


class CreatePage(PageFrame):
    """The prompt card.

    Generate starts a `creator_kit.providers.Generation` in an asyncio task
    of the kernel's event loop; the text is pushed into `output` as it
    arrives, and the numbers fill `stats` when the run ends. Stop aborts it.
    """

    running = traitlets.Bool(False, help="True while a generation streams").tag(sync=False)
    last_status = traitlets.Unicode("", help="status of the last run: success, failed or aborted").tag(sync=False)

    def __init__(
        self,
        workspace: Workspace,
        *,
        template_id: str | None = None,
        prompt: str | None = None,
        theme: str | None = None,
        http_client: Any = None,
        pricing: PricingFunction | None = None,
    ) -> None:
        self.workspace = workspace
        self.http_client = http_client
        self.pricing = pricing
        self.template_id = template_id or None
        self.generation: Generation | None = None
        # Reused across runs: a new SDK client costs about 20 ms before the request leaves.
        self.clients = ClientPool()
        self.task: asyncio.Task[None] | None = None
        self.result: GenerationResult | None = None

        self.prompt = widgets.Textarea(
            placeholder="Write a prompt, or start from a template in Templates",
            layout=widgets.Layout(width="100%", height="140px"),
        )
        self.prompt.add_class("ck-create-prompt")
        self.provider = widgets.Dropdown(description="Provider")
        self.model = widgets.Combobox(description="Model", placeholder="provider's first model", ensure_option=False)
        self.title = widgets.Text(description="Title", placeholder="optional")
        self.tags = widgets.TagsInput(allow_duplicates=False, layout=widgets.Layout(width="320px", min_height="28px"))
        self.tags.add_class("ck-create-tags")
        self.generate_button = widgets.Button(description="Generate", button_style="primary", icon="play")
        self.generate_button.add_class("ck-generate")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.stop_button.add_class("ck-stop")
        self.template_note = widgets.HTML("")
        # Filled with a PlaceholderForm when the page opens on a template with placeholders.
        self.placeholder_form: widgets.Widget | None = None
        self.template_fields = widgets.VBox([])
        self.output = widgets.HTML(self._output_html(""))
        self.stats = widgets.HTML("")
        self.stats.add_class("ck-create-result")

        card = widgets.VBox([
            widgets.HTML(_CARD_CSS, layout=widgets.Layout(display="none")),
            self.template_note,
            self.template_fields,
            self.prompt,
            widgets.HBox([self.provider, self.model]),
            widgets.HBox([self.title, widgets.HTML('<span class="ck-range-label">Tags</span>'), self.tags]),
            widgets.HBox([self.generate_button, self.stop_button]),
            self.output,
            self.stats,
        ])
        card.add_class("ck-card")
        card.add_class("ck-prompt-card")
        super().__init__(
            "create",
            title="Create",
            subtitle="Write a prompt, pick a provider and model, and generate. Every run is recorded.",
            children=[card],
            theme=theme,
        )

        self.provider.observe(self._on_provider, names="value")
        self.generate_button.on_click(self._on_generate)
        self.stop_button.on_click(self._on_stop)
        self._load_providers()
        self._load_template(prompt)
        self.set_ready()

    # -- actions ------------------------------------------------------------

    def start(self) -> asyncio.Task[None] | None:
        """Start a generation with the card's values, as the Generate button does."""
        if self.running:
            return self.task
        self.stats.value = ""
        self.output.value = self._output_html("")
        try:
            if self.placeholder_form is not None and not self.placeholder_form.prompt:
                # render() raises InvalidInputError naming the placeholder that still needs a value.
                self.placeholder_form.render()
            provider = None if self.provider.value in (None, AUTOMATIC) else self.provider.value
            model = (self.model.value or "").strip() or None
            self.generation = Generation(
                self.prompt.value,
                workspace=self.workspace,
                provider=provider,
                model=model if provider else None,
                title=self.title.value.strip() or None,
                tags=list(self.tags.value),
                template_id=self.template_id,
                http_client=self.http_client,
                clients=self.clients,
                pricing=self.pricing if self.pricing is not None else _pricing(self.workspace),
            )
        except CreatorKitError as exc:
            self._show_error(exc, action="start the generation")
            return None
        self.running = True
        self.task = asyncio.get_event_loop().create_task(self._stream(self.generation))
        return self.task

    def stop(self) -> None:
        """Abort the running generation, as the Stop button does."""
        if self.generation is not None:
            self.generation.stop()

    # -- callbacks ---------------------------------------------------------------

    def _on_generate(self, _button: widgets.Button) -> None:
        self.start()

    def _on_stop(self, _button: widgets.Button) -> None:
        self.stop()

    def _on_provider(self, change: dict[str, Any]) -> None:
        self._fill_models(change["new"])

    @traitlets.observe("running")
    def _on_running(self, change: dict[str, Any]) -> None:
        self.generate_button.disabled = change["new"]
        self.stop_button.disabled = not change["new"]
        if change["new"]:
            self.set_loading("Generating\u2026")

    # -- the stream --------------------------------------------------------------

    async def _stream(self, generation: Generation) -> None:
        last_draw = 0.0
        try:
            async for _delta in generation:
                now = time.monotonic()
                if now - last_draw >= REDRAW_INTERVAL_S:
                    self.output.value = self._output_html(generation.output)
                    last_draw = now
            self.output.value = self._output_html(generation.output)
            self.result = generation.result
            self._show_result(generation.result)
        except Exception as exc:  # shown in the card and logged; the kernel must keep running
            self._show_error(exc, action="finish the generation")
        finally:
            self.running = False

    def _show_result(self, result: GenerationResult | None) -> None:
        if result is None:
            return
        self.last_status = result.status
        tokens = f"{format_count(result.prompt_tokens)} + {format_count(result.completion_tokens)}"
        if result.usage_estimated:
            tokens += " (est.)"
        cost = format_usd(result.cost_usd) if result.cost_usd is not None else (result.price_source or "price unknown")
        stats = [
            ("Status", result.status),
            ("Tokens in + out", tokens),
            ("Time to first token", format_ms(result.ttft_ms)),
            ("Total latency", format_ms(result.latency_ms)),
            ("Estimated cost", cost),
            ("Provider", f"{result.provider} / {result.model}"),
        ]
        cells = "".join(
            f'<div class="ck-create-stat" data-stat="{html.escape(label, quote=True)}">'
            f"<span>{html.escape(label)}</span><b>{html.escape(value)}</b></div>"
            for label, value in stats
        )
        notes = ""
        if result.failover_from:
            notes += (
                f'<div class="ck-create-note ck-failover">Failed over from {html.escape(result.failover_from)} '
                f"to {html.escape(result.provider)}.</div>"
            )
        if result.status == "failed":
            logger.error("generation %s failed: %s", result.id, result.error_message)
            notes += f'<div class="ck-create-error" role="alert">{html.escape(result.error_message or "failed")}</div>'
        elif result.status == "aborted":
            notes += '<div class="ck-create-note">Stopped. The text received so far was recorded.</div>'
        self.stats.value = f'<div class="ck-create-stats ck-status-{result.status}">{cells}</div>{notes}'
        self.set_ready(f"Last run: {result.status}.")

    def _show_error(self, exc: BaseException, *, action: str) -> None:
        logger.error("could not %s: %s", action, exc, exc_info=exc)
        self.last_status = "error"
        text = str(exc) if isinstance(exc, CreatorKitError) else f"{type(exc).__name__}: {exc}"
        # A colon, not a full stop: the error text starts in lower case and may start with a name.
        self.stats.value = (
            f'<div class="ck-create-error" role="alert">Could not {html.escape(action)}: {html.escape(text)}</div>'
        )
        self.set_ready("")

    @staticmethod
    def _output_html(text: str) -> str:
        body = html.escape(text) if text else '<span class="ck-empty">The response appears here as it streams.</span>'
        return f'<div class="ck-create-output" aria-live="polite">{body}</div>'

    # -- setup -------------------------------------------------------------------

    def _load_providers(self) -> None:
        try:
            configs = list_providers(self.workspace)
        except CreatorKitError as exc:
            self._show_error(exc, action="read the providers")
            configs = []
        self._configs = {c.name: c for c in configs}
        options: list[tuple[str, str]] = [("Automatic (failover order)", AUTOMATIC)]
        options += [(c.name, c.name) for c in configs]
        self.provider.options = options
        self.provider.value = AUTOMATIC
        self._fill_models(AUTOMATIC)
        if not configs:
            self.stats.value = (
                '<div class="ck-hint">No provider is configured yet. Add one in '
                '<a href="settings.ipynb" target="_self">Settings</a>.</div>'
            )

    def _fill_models(self, provider: str | None) -> None:
        config = self._configs.get(provider or "")
        if config is None:
            self.model.options = []
            self.model.value = ""
            self.model.disabled = True
            self.model.placeholder = "each provider's first model"
            return
        self.model.disabled = False
        self.model.options = list(config.models)
        self.model.value = config.default_model or ""

    def _load_template(self, prompt: str | None) -> None:
        if self.template_id:
            try:
                from creator_kit.templates import get_template

                template = get_template(self.workspace, self.template_id)
            except CreatorKitError as exc:
                self._show_error(exc, action=f"open template {self.template_id!r}")
                self.template_id = None
            else:
                self._show_template(template)
        if prompt:
            self.prompt.value = prompt


    def _show_template(self, template: Any) -> None:
        """Show the template's placeholders as a form that fills the prompt box as the user types."""
        from creator_kit.ui.templates import PlaceholderForm

        self.title.value = template.title
        title = html.escape(template.title)
        form = PlaceholderForm(template)
        if not form.placeholders:
            self.prompt.value = form.render()
            self.template_note.value = f'<div class="ck-create-note">From template <b>{title}</b>.</div>'
            return

        self.placeholder_form = form
        # The prompt box below already shows the rendered prompt, so the form's own preview is hidden.
        form.preview.layout.display = "none"
        self.template_fields.children = (form,)
        self.template_note.value = (
            f'<div class="ck-create-note">From template <b>{title}</b>: fill in the fields below '
            "(an empty field uses its default); the prompt updates as you type.</div>"
        )
        form.observe(self._on_template_prompt, names="prompt")
        self.prompt.value = form.prompt or template.prompt

    def _on_template_prompt(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self.prompt.value = change["new"]


def _pricing(workspace: Workspace) -> PricingFunction | None:
    try:
        from creator_kit.analytics import estimate_cost
    except ImportError:
        return None
    try:
        overrides = workspace.read_settings().get("price_overrides") or None
    except CreatorKitError as exc:
        logger.warning("price overrides not read: %s", exc)
        overrides = None
    return functools.partial(estimate_cost, overrides=overrides)
