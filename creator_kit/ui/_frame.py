"""The page frame shared by every dashboard section.

A page is a `PageFrame`: the sidebar of sections on the left (the current one
marked, "Create new" on top), a header with the page title and a status line,
and the section's own widgets. The frame also carries the building blocks the
sections share: `MetricTile`, `RangeControl`, `ChartView` and
`BackgroundLoader`, which runs queries on a daemon thread so that a slow
query does not block the kernel.

Links are plain ``<a href="other.ipynb" target="_self">`` in an HTML widget:
under Voila every notebook is served at ``/voila/render/<name>.ipynb``, so a
relative link opens the sibling section in the same tab.

Voila hides tracebacks and stderr, so a failure is shown in the status line of
the page that the user is looking at and logged with its traceback.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import ipywidgets as widgets
import traitlets

from creator_kit.analytics import TimeRange, parse_range
from creator_kit.errors import CreatorKitError

__all__ = [
    "SECTIONS",
    "THEME_ENV",
    "BackgroundLoader",
    "ChartView",
    "MetricTile",
    "PageFrame",
    "RangeControl",
    "Section",
    "format_count",
    "format_ms",
    "format_percent",
    "first_load_blocks",
    "wait_for_page_request",
    "format_usd",
    "link_button_html",
    "placeholder_page",
    "resolve_theme",
    "sidebar_html",
    "under_voila",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

THEME_ENV = "CREATOR_KIT_THEME"

EMPTY_VALUE = "\u2014"


@dataclass(frozen=True)
class Section:
    """A sidebar entry: its key, the label shown, and the notebook it opens."""

    key: str
    label: str
    notebook: str


SECTIONS: tuple[Section, ...] = (
    Section("overview", "Overview", "overview.ipynb"),
    Section("projects", "Projects", "projects.ipynb"),
    Section("analytics", "Analytics", "analytics.ipynb"),
    Section("templates", "Templates", "templates.ipynb"),
    Section("generations", "Generations (video)", "generations.ipynb"),
    Section("settings", "Settings", "settings.ipynb"),
)

CREATE_SECTION = Section("create", "Create new", "create.ipynb")

_SECTION_KEYS = {section.key for section in (*SECTIONS, CREATE_SECTION)}

# Colours come from JupyterLab's CSS variables, so the frame follows the
# light or dark theme Voila was started with. Only our own constants go here.
FRAME_CSS = """
<style>
.ck-page { width: 100%; min-height: 80vh; align-items: stretch; gap: 0;
  font-family: var(--jp-ui-font-family); color: var(--jp-ui-font-color1); }
.ck-sidebar { flex: 0 0 210px; width: 210px; }
.ck-nav { display: flex; flex-direction: column; gap: 2px; padding: 12px 10px;
  background: var(--jp-layout-color2); border-radius: 8px; min-height: 78vh; box-sizing: border-box; }
.ck-brand { font-weight: 700; font-size: 15px; padding: 4px 10px 12px; color: var(--jp-ui-font-color0); }
.ck-nav a { display: block; padding: 8px 10px; border-radius: 6px; text-decoration: none;
  color: var(--jp-ui-font-color1); font-size: 14px; }
.ck-nav a:hover { background: var(--jp-layout-color3); }
.ck-nav a.ck-current { background: var(--jp-brand-color1); color: #ffffff; font-weight: 600; }
.ck-nav a.ck-create { background: var(--jp-layout-color0); border: 1px solid var(--jp-brand-color1);
  color: var(--jp-ui-font-color0); margin-bottom: 10px; font-weight: 600; text-align: center; }
.ck-nav a.ck-create.ck-current { background: var(--jp-brand-color1); color: #ffffff; }
.ck-main { flex: 1 1 auto; padding: 0 0 0 22px; min-width: 0; }
.ck-header h1 { font-size: 22px; margin: 6px 0 2px; color: var(--jp-ui-font-color0); }
.ck-header p { margin: 0 0 8px; color: var(--jp-ui-font-color2); }
.ck-status { min-height: 22px; font-size: 13px; color: var(--jp-ui-font-color2); }
.ck-status .ck-error { color: var(--jp-error-color1); background: var(--jp-layout-color2);
  border-left: 4px solid var(--jp-error-color1); padding: 8px 12px; display: block; white-space: pre-wrap; }
.ck-spinner { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -2px;
  border: 2px solid var(--jp-border-color1); border-top-color: var(--jp-brand-color1); border-radius: 50%;
  animation: ck-spin 0.8s linear infinite; }
@keyframes ck-spin { to { transform: rotate(360deg); } }
.ck-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.ck-tiles.ck-tiles-4 { grid-template-columns: repeat(4, minmax(0, 1fr)); }
.ck-tile { margin: 0; width: auto; }
.ck-tile-box { background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color2);
  border-radius: 8px; padding: 10px 14px; line-height: 1.3; }
.ck-tile-label { font-size: 12px; line-height: 16px; height: 16px; color: var(--jp-ui-font-color2);
  text-transform: uppercase; letter-spacing: .03em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ck-tile-value { font-size: 24px; line-height: 32px; font-weight: 650; color: var(--jp-ui-font-color0); margin-top: 2px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ck-tile-detail { font-size: 12px; line-height: 16px; height: 16px; color: var(--jp-ui-font-color2);
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.ck-card { background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color2);
  border-radius: 8px; padding: 12px 14px; margin-top: 14px; box-sizing: border-box; }
.ck-card h2 { font-size: 16px; margin: 0 0 8px; color: var(--jp-ui-font-color0); }
.ck-chart svg { max-width: 100%; height: auto; }
.ck-empty { color: var(--jp-ui-font-color2); font-style: italic; padding: 10px 0; }
.ck-hint { background: var(--jp-layout-color2); border-left: 4px solid var(--jp-warn-color1);
  padding: 10px 14px; border-radius: 4px; margin-top: 8px; color: var(--jp-ui-font-color1); }
.ck-table { border-collapse: collapse; width: 100%; font-size: 13px; }
.ck-table th, .ck-table td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--jp-border-color2);
  color: var(--jp-ui-font-color1); line-height: 1.4; vertical-align: top; }
.ck-table td.ck-wrap { word-break: break-all; }
.ck-table td.ck-nowrap { white-space: nowrap; }
.ck-table th { color: var(--jp-ui-font-color2); font-weight: 600; }
.ck-table td.ck-num, .ck-table th.ck-num { text-align: right; font-variant-numeric: tabular-nums; }
.ck-badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  background: var(--jp-layout-color3); color: var(--jp-ui-font-color0); }
.ck-badge.ck-success { background: #2b8a3e; color: #ffffff; }
.ck-badge.ck-failed { background: #c92a2a; color: #ffffff; }
.ck-badge.ck-aborted { background: #e67700; color: #ffffff; }
.ck-quota-bar { height: 12px; background: var(--jp-layout-color3); border-radius: 6px; overflow: hidden; margin: 6px 0; }
.ck-quota-fill { height: 100%; background: var(--jp-brand-color1); }
.ck-quota-fill.ck-over { background: var(--jp-error-color1); }
.ck-actions { display: flex; gap: 10px; flex-wrap: wrap; }
a.ck-action { display: inline-block; padding: 8px 16px; border-radius: 6px; text-decoration: none;
  background: var(--jp-brand-color1); color: #ffffff; font-weight: 600; font-size: 14px; }
a.ck-action.ck-secondary { background: var(--jp-layout-color2); color: var(--jp-ui-font-color0);
  border: 1px solid var(--jp-border-color1); }
.ck-range-control { margin: 4px 0 10px; }
.ck-range-label { font-size: 13px; color: var(--jp-ui-font-color2); margin-right: 8px; line-height: 28px; }
.ck-building { padding: 28px; text-align: center; color: var(--jp-ui-font-color2); }
/* ipywidgets draws primary and danger buttons in the theme's brand and
   error colours with --jp-ui-inverse-font-color1 text, which is near-black
   in the dark theme. Both themes use white text on a darker blue or red
   instead. The WCAG contrast ratio is 5.6:1 or more. */
.ck-page .jupyter-button.mod-primary { background-color: #1565c0; color: #ffffff; }
.ck-page .jupyter-button.mod-primary:hover:enabled { background-color: #0d47a1; }
.ck-page .jupyter-button.mod-primary:active, .ck-page .jupyter-button.mod-primary.mod-active {
  background-color: #0d47a1; color: #ffffff; }
.ck-page .jupyter-button.mod-danger { background-color: #c62828; color: #ffffff; }
.ck-page .jupyter-button.mod-danger:hover:enabled { background-color: #b71c1c; }
.ck-page .jupyter-button.mod-danger:active, .ck-page .jupyter-button.mod-danger.mod-active {
  background-color: #b71c1c; color: #ffffff; }
.ck-page .jupyter-button.mod-primary i, .ck-page .jupyter-button.mod-danger i { color: inherit; }
</style>
"""


def resolve_theme(theme: str | None = None) -> str:
    """Choose the chart theme: `theme`, then ``$CREATOR_KIT_THEME``, then ``"light"``.

    ``creator-kit serve --theme dark`` sets the variable for the kernels, so
    charts match the page Voila draws.
    """
    value = (theme or os.environ.get(THEME_ENV) or "light").strip().lower()
    if value not in ("light", "dark"):
        logger.warning("unknown theme %r; using the light theme", value)
        return "light"
    return value


def sidebar_html(current: str) -> str:
    """Return the sidebar's HTML with `current` (a section key) marked.

    Raises
    ------
    ValueError
        If `current` is not a section key.
    """
    if current not in _SECTION_KEYS:
        msg = f"unknown section {current!r}; use one of {', '.join(sorted(_SECTION_KEYS))}"
        raise ValueError(msg)
    links = [_nav_link(CREATE_SECTION, current, extra="ck-create")]
    links.extend(_nav_link(section, current) for section in SECTIONS)
    return (
        '<nav class="ck-nav" aria-label="Sections">'
        '<div class="ck-brand">Creator Studio</div>' + "".join(links) + "</nav>"
    )


def link_button_html(label: str, notebook: str, *, secondary: bool = False) -> str:
    """Return an ``<a>`` styled as a button that opens `notebook` in the same tab."""
    css = "ck-action ck-secondary" if secondary else "ck-action"
    return (
        f'<a class="{css}" href="{html.escape(notebook, quote=True)}" target="_self">'
        f"{html.escape(label)}</a>"
    )


class PageFrame(widgets.HBox):
    """A section page: sidebar, header with title and status line, and content.

    The ``ck-loading`` CSS class is on the frame while a query runs and
    ``ck-ready`` once its data is shown, so a browser (or a test) can wait
    for a fully drawn page.
    """

    section = traitlets.Unicode(help="key of the section this page shows").tag(sync=False)
    theme = traitlets.Unicode("light", help="chart theme, 'light' or 'dark'").tag(sync=False)

    def __init__(
        self,
        section: str,
        *,
        title: str,
        subtitle: str = "",
        children: Sequence[widgets.Widget] = (),
        theme: str | None = None,
    ) -> None:
        self.style_html = widgets.HTML(FRAME_CSS, layout=widgets.Layout(display="none"))
        self.sidebar = widgets.HTML(sidebar_html(section))
        self.sidebar.add_class("ck-sidebar")
        subtitle_html = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
        self.header = widgets.HTML(f'<div class="ck-header"><h1>{html.escape(title)}</h1>{subtitle_html}</div>')
        self.status = widgets.HTML("")
        self.status.add_class("ck-status")
        self.content = widgets.VBox(list(children))
        # Imported here because the palette module imports this one.
        from creator_kit.ui.palette import command_palette

        # Every page carries the palette so that Ctrl/Cmd+K and Ctrl/Cmd+/ work everywhere.
        self.palette = command_palette(getattr(self, "workspace", None))
        main = widgets.VBox([self.header, self.status, self.content, self.palette])
        main.add_class("ck-main")
        super().__init__([self.style_html, self.sidebar, main])
        self.section = section
        self.theme = resolve_theme(theme)
        self.add_class("ck-page")
        self.add_class(f"ck-page-{section}")

    def set_loading(self, message: str = "Loading\u2026") -> None:
        """Show the loading indicator with `message`."""
        self.remove_class("ck-ready")
        self.add_class("ck-loading")
        self.status.value = f'<span class="ck-spinner"></span>{html.escape(message)}'

    def set_ready(self, message: str = "") -> None:
        """Hide the loading indicator and mark the page as drawn."""
        self.remove_class("ck-loading")
        self.add_class("ck-ready")
        self.status.value = html.escape(message)

    def show_error(self, exc: BaseException, *, action: str) -> None:
        """Show that `action` failed, with the error's message, and log the traceback.

        The page is marked ready so that a waiting browser gets the error
        instead of a spinner that never ends.
        """
        logger.error("could not %s: %s", action, exc, exc_info=exc)
        kind = "" if isinstance(exc, CreatorKitError) else f"{type(exc).__name__}: "
        text = f"Could not {action}. {kind}{exc}"
        self.remove_class("ck-loading")
        self.add_class("ck-ready")
        self.add_class("ck-has-error")
        self.status.value = f'<span class="ck-error" role="alert">{html.escape(text)}</span>'


class MetricTile(widgets.HTML):
    """A labelled number: the label, the value in large type, and a detail line."""

    label = traitlets.Unicode(help="what the number measures").tag(sync=False)
    display_value = traitlets.Unicode(EMPTY_VALUE, help="the formatted value shown").tag(sync=False)
    detail = traitlets.Unicode("", help="a short line under the value").tag(sync=False)

    def __init__(self, label: str, *, key: str = "", detail: str = "") -> None:
        super().__init__()
        self.key = key or label
        self.label = label
        self.detail = detail
        self.add_class("ck-tile")
        self._render()

    def set(self, value: str, detail: str | None = None) -> None:
        """Show `value` (already formatted) and, if given, a new `detail`."""
        with self.hold_trait_notifications():
            self.display_value = value
            if detail is not None:
                self.detail = detail

    @traitlets.observe("label", "display_value", "detail")
    def _on_change(self, change: dict[str, Any]) -> None:
        self._render()

    def _render(self) -> None:
        key = html.escape(self.key, quote=True)
        self.value = (
            f'<div class="ck-tile-box" data-tile="{key}">'
            f'<div class="ck-tile-label">{html.escape(self.label)}</div>'
            f'<div class="ck-tile-value">{html.escape(self.display_value)}</div>'
            f'<div class="ck-tile-detail">{html.escape(self.detail)}</div></div>'
        )


class ChartView(widgets.HTML):
    """A chart drawn as inline SVG, or an empty-state message.

    The SVG comes from vl-convert (see `creator_kit.analytics.charts`), so
    the page loads no script and no CDN, and updating a chart is a change of
    this widget's value.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.add_class("ck-chart-view")
        self.show_empty("Loading\u2026")

    def show_svg(self, svg: str) -> None:
        """Show `svg`, an SVG document produced from our own chart specs."""
        self.value = f'<figure class="ck-chart" data-chart="{html.escape(self.name, quote=True)}" style="margin:0">{svg}</figure>'

    def show_empty(self, message: str) -> None:
        """Show `message` instead of a chart."""
        self.value = (
            f'<div class="ck-empty" data-chart-empty="{html.escape(self.name, quote=True)}">'
            f"{html.escape(message)}</div>"
        )


class RangeControl(widgets.VBox):
    """The time-range control: 24h, 7d, 30d, all, or custom dates.

    `time_range` is the chosen `TimeRange`; observe it to reload a page.
    Picking a preset applies it at once; "custom" shows two date pickers and
    an Apply button. An invalid custom range is shown under the control and
    leaves `time_range` as it was.
    """

    time_range = traitlets.Instance(TimeRange, help="the range the page shows").tag(sync=False)

    OPTIONS = (("24h", "24h"), ("7d", "7d"), ("30d", "30d"), ("All", "all"), ("Custom", "custom"))

    def __init__(self, default: str = "7d") -> None:
        self.buttons = widgets.ToggleButtons(
            options=list(self.OPTIONS), value=default, style={"button_width": "78px"}
        )
        self.buttons.add_class("ck-range")
        label = widgets.HTML('<span class="ck-range-label">Time range</span>')
        self.since = widgets.DatePicker(description="From")
        self.until = widgets.DatePicker(description="To")
        self.apply = widgets.Button(description="Apply", button_style="primary")
        self.message = widgets.HTML("")
        self.custom_box = widgets.HBox([self.since, self.until, self.apply])
        self.custom_box.layout.display = "none"
        super().__init__([widgets.HBox([label, self.buttons]), self.custom_box, self.message])
        self.add_class("ck-range-control")
        self.time_range = parse_range(default)
        self.buttons.observe(self._on_preset, names="value")
        self.apply.on_click(self._on_apply)

    def choose(self, label: str) -> None:
        """Select the preset `label` (``"24h"``, ``"7d"``, ``"30d"`` or ``"all"``) as a click would."""
        if self.buttons.value == label:
            self.time_range = parse_range(label)
        else:
            self.buttons.value = label

    def choose_dates(self, since: date, until: date) -> None:
        """Select the custom range from `since` to `until`, both days included."""
        with self.hold_trait_notifications():
            self.since.value = since
            self.until.value = until
        if self.buttons.value != "custom":
            self.buttons.value = "custom"
        self._on_apply(None)

    def _on_preset(self, change: dict[str, Any]) -> None:
        label = change["new"]
        self.message.value = ""
        if label == "custom":
            self.custom_box.layout.display = "flex"
            return
        self.custom_box.layout.display = "none"
        self.time_range = parse_range(label)

    def _on_apply(self, _button: widgets.Button | None) -> None:
        if self.since.value is None and self.until.value is None:
            self.message.value = '<span class="ck-error">Pick a start date, an end date, or both.</span>'
            return
        try:
            chosen = parse_range(since=self.since.value, until=self.until.value)
        except CreatorKitError as exc:
            logger.info("rejected custom range: %s", exc)
            text = f"Invalid range: {exc}".replace("--since", "From").replace("--until", "To")
            self.message.value = f'<span class="ck-error">{html.escape(text)}</span>'
            return
        self.message.value = ""
        self.time_range = chosen


class BackgroundLoader:
    """Run one query at a time on a daemon thread and apply its result.

    A new `submit` supersedes the one before: a result that arrives after a
    newer request started is dropped, so a slow "all" query cannot overwrite
    the "7d" the user picked since. With ``background=False`` the work runs
    in the caller's thread, which tests use to read widget state directly.
    """

    def __init__(self, *, background: bool = True) -> None:
        self.background = background
        self._lock = threading.Lock()
        self._generation = 0
        self._thread: threading.Thread | None = None

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        on_error: Callable[[BaseException], None],
        *,
        block: bool = False,
    ) -> None:
        """Run `work`, then `apply(result)`; on an exception call `on_error(exc)`.

        With ``block=True`` the work runs in the caller's thread even when the
        loader runs in the background otherwise.
        """
        with self._lock:
            self._generation += 1
            generation = self._generation
        if block or not self.background:
            self._run(generation, work, apply, on_error)
            return
        thread = threading.Thread(
            target=self._run, args=(generation, work, apply, on_error), daemon=True, name="creator-kit-query"
        )
        with self._lock:
            self._thread = thread
        thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the newest submitted work; return False if it is still running after `timeout` s."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(
        self,
        generation: int,
        work: Callable[[], T],
        apply: Callable[[T], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        try:
            result = work()
            if self._is_current(generation):
                apply(result)
        except Exception as exc:  # shown in the page by on_error, which also logs it
            if self._is_current(generation):
                on_error(exc)
            else:
                logger.debug("dropped the error of a superseded query: %s", exc)

    def _is_current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation


def under_voila() -> bool:
    """Return True in a kernel that Voila started (it sets ``VOILA_PREHEAT`` for each)."""
    return "VOILA_PREHEAT" in os.environ or "VOILA_KERNEL_ID" in os.environ


def wait_for_page_request() -> None:
    """Block a preheated Voila kernel until a browser requests its page.

    Voila runs a preheated notebook before any browser requests it, so data loaded
    then would be as old as the kernel. Each page function calls this first,
    and so reads the workspace when the page is requested. The request also
    sets ``QUERY_STRING`` in the environment. Outside a preheated kernel this
    returns at once.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "True" or "QUERY_STRING" in os.environ:
        return
    from voila.utils import wait_for_request

    wait_for_request()


def first_load_blocks() -> bool:
    """Return True when a page should load its first data before it is displayed.

    Under Voila 0.5.13 with ipywidgets 8.1.9, two of about 25 page loads on a
    busy machine kept showing "Loading" although the kernel had the data.
    NOTE: the likely cause, not proven, is an update sent from the query
    thread while the browser was still building the widgets from their first
    state, which the browser drops. Loading before display avoids that race.
    With preheated kernels this happens before any request, and without them
    Voila's own progress spinner shows meanwhile. Later reloads, for example
    a range change, run in the background.
    """
    return under_voila()


def placeholder_page(section: str, title: str, *, theme: str | None = None) -> PageFrame:
    """Return the frame of a section that is not built yet, with a short notice."""
    notice = widgets.HTML(
        '<div class="ck-card ck-building"><h2>This section is being built</h2>'
        "<p>Use the sidebar to open another section.</p></div>"
    )
    frame = PageFrame(section, title=title, children=[notice], theme=theme)
    frame.set_ready()
    return frame


def format_count(value: int | float | None) -> str:
    """Format a count with thousands separators, or a dash when unknown."""
    if value is None:
        return EMPTY_VALUE
    return f"{int(value):,}"


def format_percent(rate: float | None) -> str:
    """Format a rate between 0 and 1 as a percentage with one decimal."""
    if rate is None:
        return EMPTY_VALUE
    return f"{rate * 100:.1f}%"


def format_ms(value: float | None) -> str:
    """Format milliseconds: ``412 ms`` below one second, ``1.24 s`` above."""
    if value is None:
        return EMPTY_VALUE
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s"


def format_usd(value: float | None) -> str:
    """Format US dollars with enough decimals for small sums, or a dash when unknown."""
    if value is None:
        return EMPTY_VALUE
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def format_day(value: date | datetime | str | None) -> str:
    """Format a date or time as ``YYYY-MM-DD`` (UTC)."""
    if value is None:
        return EMPTY_VALUE
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def week_ending(day: date) -> tuple[date, date]:
    """Return the seven days that end on `day`, both ends included."""
    return day - timedelta(days=6), day


def _nav_link(section: Section, current: str, *, extra: str = "") -> str:
    classes = " ".join(filter(None, [extra, "ck-current" if section.key == current else ""]))
    aria = ' aria-current="page"' if section.key == current else ""
    return (
        f'<a class="{classes}" href="{section.notebook}" target="_self" data-section="{section.key}"{aria}>'
        f"{html.escape(section.label)}</a>"
    )
