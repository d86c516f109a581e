"""The Templates page: browse, search, copy and use prompt templates; keep your own.

Every template text is escaped before it reaches HTML. "Copy prompt" is a
small anywidget (`CopyButton`) whose JavaScript ships in this module, so it
works offline. Its click handler writes the prompt with the browser's
Clipboard API and shows a confirmation next to the button. Where the page is
not a secure context, it falls back to ``document.execCommand("copy")``.
"Use template" is a link, opened in the same tab, to ``create.ipynb?template_id=<id>``
for a text template and to ``generations.ipynb?template_id=<id>`` for a video one.
"""

from __future__ import annotations

import html
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anywidget
import ipywidgets as widgets
import traitlets

from creator_kit import templates as library
from creator_kit.errors import CreatorKitError
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import (
    BackgroundLoader,
    PageFrame,
    first_load_blocks,
    format_count,
    wait_for_page_request,
)

__all__ = [
    "TEMPLATE_QUERY_PARAMETER",
    "CopyButton",
    "PlaceholderForm",
    "TemplateEditor",
    "TemplatesPage",
    "templates_page",
    "use_template_url",
]

logger = logging.getLogger(__name__)

PAGE_SIZE = 18
STAR = "\u2605"
EMPTY_STAR = "\u2606"
ALL = "All"
CREATE_NOTEBOOK = "create.ipynb"
GENERATIONS_NOTEBOOK = "generations.ipynb"
# The query parameter of the Create and Generations pages that names the template to start from.
# Not "template": Voila reads ?template= as the name of its page template and
# fails with TemplateNotFound (voila 0.5.13, handler.py and notebook_renderer.py).
TEMPLATE_QUERY_PARAMETER = "template_id"

_SORT_OPTIONS = (
    ("Best match", "relevance"),
    ("Most used", "usage"),
    ("Best rated", "rating"),
    ("Trending (7 days)", "trending"),
    ("Title", "title"),
)

_PAGE_CSS = """
<style>
.ck-template-toolbar { gap: 10px; align-items: center; flex-wrap: wrap; }
.ck-chips .widget-toggle-button { width: auto; padding: 0 12px; border-radius: 14px; margin: 2px 4px 2px 0; }
.ck-template-grid { margin-top: 10px; }
.ck-template-card { background: var(--jp-layout-color1); border: 1px solid var(--jp-border-color2);
  border-radius: 8px; padding: 10px 12px; box-sizing: border-box; min-width: 0; }
.ck-template-card h3 { margin: 0 0 4px; font-size: 15px; color: var(--jp-ui-font-color0); }
.ck-template-card p.ck-description { margin: 0 0 6px; color: var(--jp-ui-font-color1); font-size: 13px; }
.ck-template-meta { font-size: 12px; color: var(--jp-ui-font-color2); display: flex; gap: 8px; flex-wrap: wrap; }
.ck-template-tags { margin-top: 6px; display: flex; gap: 4px; flex-wrap: wrap; }
.ck-tag { font-size: 11px; padding: 0 7px; border-radius: 9px; background: var(--jp-layout-color3);
  color: var(--jp-ui-font-color1); }
.ck-difficulty-easy { background: #2b8a3e; color: #ffffff; }
.ck-difficulty-medium { background: #e67700; color: #ffffff; }
.ck-difficulty-hard { background: #c92a2a; color: #ffffff; }
.ck-template-card details { margin-top: 6px; font-size: 12px; }
.ck-template-card pre { white-space: pre-wrap; word-break: break-word; max-height: 220px; overflow: auto;
  background: var(--jp-layout-color2); padding: 6px 8px; border-radius: 4px; margin: 4px 0 0; }
.ck-template-actions { gap: 6px; align-items: center; flex-wrap: wrap; margin-top: 8px; }
.ck-template-actions a.ck-action { padding: 4px 12px; font-size: 13px; }
.ck-copy-box { display: inline-flex; align-items: center; gap: 6px; }
.ck-copy-status { font-size: 12px; color: var(--jp-success-color1, #2b8a3e); }
.ck-copy-status.ck-copy-failed { color: var(--jp-error-color1); }
.ck-pager { align-items: center; gap: 8px; margin-top: 10px; }
.ck-editor textarea { font-family: var(--jp-code-font-family); font-size: 13px; }
.ck-history pre { white-space: pre-wrap; word-break: break-word; background: var(--jp-layout-color2);
  padding: 6px 8px; border-radius: 4px; font-size: 12px; }
</style>
"""

_COPY_ESM = """
function copyWithSelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
  area.remove();
  return copied;
}

function render({ model, el }) {
  const box = document.createElement("span");
  box.className = "ck-copy-box";
  const button = document.createElement("button");
  button.className = "jupyter-button ck-copy";
  button.type = "button";
  button.textContent = model.get("label");
  const status = document.createElement("span");
  status.className = "ck-copy-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  let timer = null;

  button.addEventListener("click", async () => {
    const text = model.get("text");
    let copied = false;
    let reason = "";
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (error) {
        reason = String(error);
      }
    }
    if (!copied) {
      copied = copyWithSelection(text);
    }
    status.classList.toggle("ck-copy-failed", !copied);
    status.textContent = copied ? "Copied to clipboard" : "Copy failed: select the prompt and press Ctrl+C";
    model.send({ event: copied ? "copied" : "failed", reason: reason, length: text.length });
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(() => { status.textContent = ""; }, 6000);
  });
  model.on("change:label", () => { button.textContent = model.get("label"); });
  box.append(button, status);
  el.append(box);
}

export default { render };
"""


def templates_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    theme: str | None = None,
    background: bool = True,
) -> TemplatesPage:
    """Build the Templates page of `workspace` and start loading the library.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    theme
        ``"light"`` or ``"dark"``; None reads ``$CREATOR_KIT_THEME``.
    background
        Run searches on a background thread (the default, so the kernel stays
        responsive). False runs them before returning, which tests use.
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    page = TemplatesPage(workspace, theme=theme, background=background)
    page.refresh(block=first_load_blocks())
    return page


def use_template_url(template_id: str, *, kind: str = "text") -> str:
    """Return the relative link that opens template `template_id` on the page for its `kind`.

    A ``video`` template opens the Generations page; any other kind opens
    the Create page.

    Examples
    --------
    >>> use_template_url("my-teaser", kind="video")
    'generations.ipynb?template_id=my-teaser'
    """
    notebook = GENERATIONS_NOTEBOOK if kind == "video" else CREATE_NOTEBOOK
    return f"{notebook}?{TEMPLATE_QUERY_PARAMETER}={quote(template_id, safe='')}"


class CopyButton(anywidget.AnyWidget):
    """A button that copies `text` to the browser's clipboard and confirms it.

    The copy runs in the browser inside the click handler, so it needs no
    round trip to the kernel. The browser then sends ``{"event": "copied"}``
    or ``{"event": "failed", "reason": ...}``; `copied_count` counts the
    successful copies and `on_copy` callbacks receive each message.
    """

    _esm = _COPY_ESM
    text = traitlets.Unicode("", help="the text put on the clipboard").tag(sync=True)
    label = traitlets.Unicode("Copy prompt", help="the button's label").tag(sync=True)
    copied_count = traitlets.Int(0, help="copies the browser confirmed")

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(text=text, **kwargs)
        self._callbacks: list[Callable[[dict[str, Any]], None]] = []
        self.on_msg(self._on_browser_message)

    def on_copy(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """Call `callback(message)` for each copy the browser reports."""
        self._callbacks.append(callback)

    def _on_browser_message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "copied":
            self.copied_count += 1
        for callback in self._callbacks:
            callback(content)


@dataclass(frozen=True)
class _Filters:
    query: str
    category: str | None
    tag: str | None
    difficulty: str | None
    sort: str


class TemplatesPage(PageFrame):
    """Search box, category chips, tag, difficulty and sort filters, and template cards.

    Cards show the description, difficulty, uses, rating and tags. Each card
    has Copy prompt and Use template. The user's own templates also have Edit,
    History and Archive, and curated ones have Make a copy. "New template"
    opens the editor.
    """

    def __init__(self, workspace: Workspace, *, theme: str | None = None, background: bool = True) -> None:
        self.workspace = workspace
        self.loader = BackgroundLoader(background=background)
        self.entries: list[library.TemplateEntry] = []
        self.page_number = 0
        # A message for the status line once the running search is shown.
        self._notice = ""

        self.search = widgets.Text(placeholder="Search title, description, tags and prompt", continuous_update=True)
        self.search.add_class("ck-template-search")
        self.search.layout.width = "360px"
        self.categories = widgets.ToggleButtons(options=[ALL, *library.CATEGORIES], value=ALL)
        self.categories.add_class("ck-chips")
        self.tag = widgets.Dropdown(options=[("All tags", ALL)], value=ALL, description="Tag")
        self.tag.add_class("ck-tag-filter")
        self.difficulty = widgets.Dropdown(
            options=[("Any", ALL)] + [(d.capitalize(), d) for d in library.DIFFICULTIES],
            value=ALL,
            description="Difficulty",
        )
        self.difficulty.add_class("ck-difficulty-filter")
        self.sort = widgets.Dropdown(options=list(_SORT_OPTIONS), value="relevance", description="Sort")
        self.new_button = widgets.Button(description="New template", button_style="primary", icon="plus")
        self.new_button.add_class("ck-new-template")

        self.summary = widgets.HTML("")
        self.summary.add_class("ck-template-summary")
        self.grid = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns="repeat(auto-fill, minmax(300px, 1fr))", grid_gap="12px")
        )
        self.grid.add_class("ck-template-grid")
        self.previous_button = widgets.Button(description="Previous", disabled=True)
        self.next_button = widgets.Button(description="Next", disabled=True)
        self.page_label = widgets.HTML("")
        pager = widgets.HBox([self.previous_button, self.page_label, self.next_button])
        pager.add_class("ck-pager")

        self.editor = TemplateEditor(workspace, on_saved=self._on_saved)
        self.history = widgets.VBox([])
        self.history.add_class("ck-history")

        toolbar = widgets.HBox([self.search, self.tag, self.difficulty, self.sort, self.new_button])
        toolbar.add_class("ck-template-toolbar")
        children = [
            widgets.HTML(_PAGE_CSS, layout=widgets.Layout(display="none")),
            toolbar,
            self.categories,
            self.editor,
            self.history,
            self.summary,
            self.grid,
            pager,
        ]
        super().__init__(
            "templates",
            title="Templates",
            subtitle="Start from a proven prompt, or keep your own",
            children=children,
            theme=theme,
        )

        self.search.observe(self._on_filter, names="value")
        self.categories.observe(self._on_filter, names="value")
        self.tag.observe(self._on_filter, names="value")
        self.difficulty.observe(self._on_filter, names="value")
        self.sort.observe(self._on_filter, names="value")
        self.previous_button.on_click(lambda _button: self._turn_page(-1))
        self.next_button.on_click(lambda _button: self._turn_page(+1))
        self.new_button.on_click(lambda _button: self._open_editor(None))

    @property
    def cards(self) -> list[TemplateCard]:
        """The cards shown on the current page."""
        return list(self.grid.children)

    def refresh(self, *, block: bool = False) -> None:
        """Search again with the current filters; `block` waits for the result."""
        filters = self._filters()
        self.set_loading("Searching templates\u2026")
        self.loader.submit(
            lambda: self._query(filters),
            self._apply,
            lambda exc: self.show_error(exc, action="load the templates"),
            block=block,
        )

    def _filters(self) -> _Filters:
        def chosen(value: str) -> str | None:
            return None if value == ALL else value

        return _Filters(
            query=self.search.value,
            category=chosen(self.categories.value),
            tag=chosen(self.tag.value),
            difficulty=chosen(self.difficulty.value),
            sort=self.sort.value,
        )

    def _query(self, filters: _Filters) -> tuple[list[library.TemplateEntry], list[library.Template]]:
        entries = library.search_templates(
            self.workspace,
            filters.query,
            category=filters.category,
            tag=filters.tag,
            difficulty=filters.difficulty,
            sort=filters.sort,
        )
        return entries, library.list_templates(self.workspace)

    def _apply(self, result: tuple[list[library.TemplateEntry], list[library.Template]]) -> None:
        entries, everything = result
        with self.hold_trait_notifications():
            self._update_choices(everything)
            self.entries = entries
            self.page_number = 0
            self._show_page()
        self.set_ready(self._notice)
        self._notice = ""

    def _update_choices(self, everything: Sequence[library.Template]) -> None:
        categories = [ALL, *library.CATEGORIES]
        if any(template.category == library.IMPORTED_CATEGORY for template in everything):
            categories.append(library.IMPORTED_CATEGORY)
        if tuple(self.categories.options) != tuple(categories):
            self.categories.options = categories

        counts = Counter(tag for template in everything for tag in template.tags)
        options = [("All tags", ALL)] + [(f"{tag} ({count})", tag) for tag, count in sorted(counts.items())]
        if self.tag.value not in counts and self.tag.value != ALL:
            options.append((self.tag.value, self.tag.value))
        if list(self.tag.options) != options:
            self.tag.unobserve(self._on_filter, names="value")
            try:
                current = self.tag.value
                self.tag.options = options
                self.tag.value = current
            finally:
                self.tag.observe(self._on_filter, names="value")

    def _show_page(self) -> None:
        pages = max(1, math.ceil(len(self.entries) / PAGE_SIZE))
        self.page_number = min(max(self.page_number, 0), pages - 1)
        start = self.page_number * PAGE_SIZE
        shown = self.entries[start : start + PAGE_SIZE]
        old_cards = self.grid.children
        self.grid.children = [TemplateCard(entry, page=self) for entry in shown]
        for card in old_cards:
            _close_tree(card)

        total = len(self.entries)
        if total == 0:
            self.summary.value = '<div class="ck-empty">No template matches these filters.</div>'
        else:
            self.summary.value = (
                f'<div class="ck-template-count" data-count="{total}">{format_count(total)} '
                f"template{'s' if total != 1 else ''}</div>"
            )
        self.page_label.value = f"Page {self.page_number + 1} of {pages}"
        self.previous_button.disabled = self.page_number == 0
        self.next_button.disabled = self.page_number >= pages - 1

    def _turn_page(self, step: int) -> None:
        self.page_number += step
        self._show_page()

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self.refresh()

    def _open_editor(self, template: library.Template | None, *, copy: bool = False) -> None:
        self.history.children = []
        self.editor.start(template, copy=copy)

    def _on_saved(self, template: library.Template, action: str) -> None:
        self._notice = f"{action} \u201c{template.title}\u201d (version {template.version})."
        self.refresh()

    def show_history(self, template: library.Template) -> None:
        """Show the versions of `template` with their differences and Restore buttons."""
        try:
            versions = library.template_history(self.workspace, template.id)
        except CreatorKitError as exc:
            self.show_error(exc, action=f"load the history of {template.title!r}")
            return
        rows: list[widgets.Widget] = [
            widgets.HTML(f"<h2>History of \u201c{html.escape(template.title)}\u201d</h2>")
        ]
        for previous, version in zip([None, *versions], versions):
            state = " (archived)" if version.archived else ""
            when = version.recorded_at.strftime("%Y-%m-%d %H:%M UTC") if version.recorded_at else ""
            if previous is None:
                body = "<p>First version.</p>"
            else:
                diff = library.compare_versions(self.workspace, template.id, previous.version, version.version)
                body = f"<pre>{html.escape(diff) or 'No changes.'}</pre>"
            restore = widgets.Button(description=f"Restore v{version.version}")
            restore.add_class("ck-restore")
            restore.on_click(lambda _button, number=version.version: self._restore(template, number))
            header = widgets.HTML(f"<b>Version {version.version}</b>{html.escape(state)} \u00b7 {html.escape(when)}")
            rows.append(widgets.VBox([widgets.HBox([header, restore]), widgets.HTML(body)]))
        close = widgets.Button(description="Close history")
        close.on_click(lambda _button: setattr(self.history, "children", []))
        rows.append(close)
        self.history.children = [widgets.VBox(rows, layout=widgets.Layout(border="1px solid var(--jp-border-color2)", padding="8px"))]

    def _restore(self, template: library.Template, version: int) -> None:
        try:
            restored = library.restore_template(self.workspace, template.id, version)
        except CreatorKitError as exc:
            self.show_error(exc, action=f"restore version {version} of {template.title!r}")
            return
        self.history.children = []
        self._on_saved(restored, f"Restored version {version} of")

    def archive(self, template: library.Template) -> None:
        """Archive one of the user's templates and search again."""
        try:
            library.archive_template(self.workspace, template.id)
        except CreatorKitError as exc:
            self.show_error(exc, action=f"archive {template.title!r}")
            return
        self._notice = (
            f"Archived \u201c{template.title}\u201d. "
            f"Bring it back with: creator-kit templates restore {template.id}"
        )
        self.refresh()

    def rate(self, template: library.Template, rating: int) -> None:
        """Record the user's rating of `template` and search again."""
        try:
            library.rate_template(self.workspace, template.id, rating)
        except CreatorKitError as exc:
            self.show_error(exc, action=f"rate {template.title!r}")
            return
        self._notice = f"Rated \u201c{template.title}\u201d {rating}/5."
        self.refresh()

    def confirm_copy(self, template: library.Template, message: dict[str, Any]) -> None:
        """Show in the status line what the browser reported about a copy."""
        if message.get("event") == "copied":
            self.set_ready(f"Copied the prompt of \u201c{template.title}\u201d to the clipboard.")
        else:
            logger.warning("copying template %s failed in the browser: %s", template.id, message.get("reason"))
            self.status.value = (
                '<span class="ck-error" role="alert">The browser did not allow copying. '
                "Open the prompt, select it and press Ctrl+C.</span>"
            )


class TemplateCard(widgets.VBox):
    """One template: its text, usage and rating, and its actions."""

    def __init__(self, entry: library.TemplateEntry, *, page: TemplatesPage) -> None:
        self.template = entry.template
        template = entry.template
        self.body = widgets.HTML(_card_html(entry))
        self.copy_button = CopyButton(template.prompt)
        self.copy_button.on_copy(lambda message: page.confirm_copy(template, message))
        self.use_link = widgets.HTML(
            f'<a class="ck-action ck-use-template" href="{html.escape(use_template_url(template.id, kind=template.kind), quote=True)}" '
            f'target="_self">Use template</a>'
        )
        self.rating = widgets.Dropdown(
            options=[("Rate\u2026", 0)] + [(f"{STAR * n} {n}", n) for n in range(1, 6)],
            value=0,
            layout=widgets.Layout(width="110px"),
        )
        self.rating.add_class("ck-rate")
        self.rating.observe(lambda change: change["new"] and page.rate(template, change["new"]), names="value")

        actions: list[widgets.Widget] = [self.copy_button, self.use_link, self.rating]
        if template.editable:
            edit = widgets.Button(description="Edit", layout=widgets.Layout(width="auto"))
            edit.add_class("ck-edit")
            edit.on_click(lambda _button: page._open_editor(template))
            history = widgets.Button(description="History", layout=widgets.Layout(width="auto"))
            history.add_class("ck-show-history")
            history.on_click(lambda _button: page.show_history(template))
            archive = widgets.Button(description="Archive", layout=widgets.Layout(width="auto"))
            archive.add_class("ck-archive")
            archive.on_click(lambda _button: page.archive(template))
            actions += [edit, history, archive]
        else:
            duplicate = widgets.Button(description="Make a copy", layout=widgets.Layout(width="auto"))
            duplicate.add_class("ck-duplicate")
            duplicate.on_click(lambda _button: page._open_editor(template, copy=True))
            actions.append(duplicate)
        row = widgets.HBox(actions)
        row.add_class("ck-template-actions")
        super().__init__([self.body, row])
        self.add_class("ck-template-card")
        self.add_class(f"ck-template-{_css_token(template.id)}")


class TemplateEditor(widgets.VBox):
    """Form to create a template or store a new version of one, with a live check of the prompt.

    The inputs are in `inputs`, keyed by template field name.
    """

    def __init__(self, workspace: Workspace, *, on_saved: Callable[[library.Template, str], None]) -> None:
        self.on_saved = on_saved
        self.workspace = workspace
        self.editing: library.Template | None = None
        self.heading = widgets.HTML("")
        self.inputs: dict[str, widgets.ValueWidget] = {
            "title": widgets.Text(description="Title"),
            "description": widgets.Text(description="Description", layout=widgets.Layout(width="600px")),
            "category": widgets.Dropdown(options=list(library.CATEGORIES), description="Category"),
            "difficulty": widgets.Dropdown(options=list(library.DIFFICULTIES), description="Difficulty"),
            "kind": widgets.Dropdown(options=list(library.KINDS), description="Kind"),
            "tags": widgets.Text(description="Tags", placeholder="comma-separated"),
            "prompt": widgets.Textarea(
                description="Prompt",
                placeholder="Use {name} or {name:default} for placeholders and {{ }} for literal braces",
                layout=widgets.Layout(width="600px", height="180px"),
            ),
        }
        for name, widget in self.inputs.items():
            widget.add_class(f"ck-editor-{name}")
        self.check = widgets.HTML("")
        self.check.add_class("ck-editor-check")
        self.save_button = widgets.Button(description="Save", button_style="primary")
        self.save_button.add_class("ck-editor-save")
        self.cancel_button = widgets.Button(description="Cancel")
        inputs = self.inputs
        super().__init__(
            [
                self.heading,
                inputs["title"],
                inputs["description"],
                widgets.HBox([inputs["category"], inputs["difficulty"], inputs["kind"]]),
                inputs["tags"],
                inputs["prompt"],
                self.check,
                widgets.HBox([self.save_button, self.cancel_button]),
            ]
        )
        self.add_class("ck-editor")
        self.add_class("ck-card")
        self.layout.display = "none"
        inputs["prompt"].observe(lambda _change: self._check_prompt(), names="value")
        self.save_button.on_click(lambda _button: self.submit())
        self.cancel_button.on_click(lambda _button: self.hide())

    def start(self, template: library.Template | None, *, copy: bool = False) -> None:
        """Show the form empty, on `template` for a new version, or on a copy of it."""
        self.editing = None if copy or template is None else template
        if template is None:
            self.heading.value = "<h2>New template</h2>"
            values = {
                "title": "",
                "description": "",
                "category": library.CATEGORIES[0],
                "difficulty": "easy",
                "kind": "text",
                "tags": "",
                "prompt": "",
            }
        else:
            verb = "Copy of" if copy else "Edit"
            self.heading.value = f"<h2>{verb} \u201c{html.escape(template.title)}\u201d</h2>"
            category = template.category if template.category in library.CATEGORIES else library.CATEGORIES[0]
            values = {
                "title": template.title,
                "description": template.description,
                "category": category,
                "difficulty": template.difficulty,
                "kind": template.kind,
                "tags": ", ".join(template.tags),
                "prompt": template.prompt,
            }
        for name, value in values.items():
            self.inputs[name].value = value
        self._check_prompt()
        self.layout.display = "flex"

    def hide(self) -> None:
        """Hide the form."""
        self.layout.display = "none"
        self.editing = None

    def submit(self) -> library.Template | None:
        """Save the form as a new template or a new version; show any error in the form."""
        fields = {name: widget.value for name, widget in self.inputs.items()}
        try:
            if self.editing is None:
                saved = library.create_template(self.workspace, **fields)
                action = "Created"
            else:
                saved = library.edit_template(self.workspace, self.editing.id, **fields)
                action = "Saved"
        except CreatorKitError as exc:
            logger.info("template not saved: %s", exc)
            self.check.value = f'<span class="ck-error" role="alert">{html.escape(str(exc))}</span>'
            return None
        self.hide()
        self.on_saved(saved, action)
        return saved

    def _check_prompt(self) -> None:
        try:
            found = library.placeholders(self.inputs["prompt"].value)
        except CreatorKitError as exc:
            self.check.value = f'<span class="ck-error">{html.escape(str(exc))}</span>'
            return
        if not found:
            self.check.value = "<span>No placeholders yet.</span>"
            return
        names = ", ".join("{" + p.name + "}" + ("" if p.default is None else f" = {p.default}") for p in found)
        self.check.value = f"<span>Placeholders: {html.escape(names)}</span>"


class PlaceholderForm(widgets.VBox):
    """One input per placeholder of a template, and a live preview of the prompt.

    An empty input means "use the default"; a placeholder without a default
    needs a value. The Create page embeds this form for ``?template_id=``.

    Examples
    --------
    >>> form = PlaceholderForm("Write a {tone:warm} note to {name}.")
    >>> form.inputs["name"].value = "Ada"
    >>> form.render()
    'Write a warm note to Ada.'
    """

    prompt = traitlets.Unicode("", help="the rendered prompt, empty while a value is missing").tag(sync=False)

    def __init__(self, template: str | library.Template) -> None:
        self.template = template
        self.placeholders = library.placeholders(template)
        self.inputs: dict[str, widgets.Text] = {}
        for placeholder in self.placeholders:
            field = widgets.Text(
                description=placeholder.label,
                placeholder=placeholder.default or "required",
                style={"description_width": "initial"},
                layout=widgets.Layout(width="480px"),
            )
            field.add_class("ck-placeholder-input")
            field.observe(lambda _change: self._update(), names="value")
            self.inputs[placeholder.name] = field
        self.message = widgets.HTML("")
        self.message.add_class("ck-placeholder-message")
        self.preview = widgets.HTML("")
        self.preview.add_class("ck-placeholder-preview")
        super().__init__([*self.inputs.values(), self.message, self.preview])
        self.add_class("ck-placeholder-form")
        self._update()

    @property
    def values(self) -> dict[str, str]:
        """The values typed so far; empty inputs are left out so that defaults apply."""
        return {name: field.value for name, field in self.inputs.items() if field.value != ""}

    def render(self) -> str:
        """Return the prompt to send.

        Raises
        ------
        InvalidInputError
            If a placeholder without a default has no value; it names the placeholder.
        """
        return library.render(self.template, self.values)

    def _update(self) -> None:
        try:
            text = self.render()
        except CreatorKitError as exc:
            self.prompt = ""
            self.message.value = f'<span class="ck-error">{html.escape(str(exc).splitlines()[0])}</span>'
            self.preview.value = ""
            return
        self.prompt = text
        self.message.value = ""
        self.preview.value = f"<details open><summary>Prompt to send</summary><pre>{html.escape(text)}</pre></details>"


def _card_html(entry: library.TemplateEntry) -> str:
    template, stats = entry.template, entry.stats
    if stats.rating:
        rating = f"{STAR * stats.rating}{EMPTY_STAR * (5 - stats.rating)} {stats.rating}/5"
    else:
        rating = "Not rated"
    tags = "".join(f'<span class="ck-tag">{html.escape(tag)}</span>' for tag in template.tags)
    source = "" if template.source == library.CURATED_SOURCE else f"<span>{html.escape(template.source)}</span>"
    version = f"<span>v{template.version}</span>" if template.editable else ""
    uses = f"{format_count(stats.uses)} use{'s' if stats.uses != 1 else ''}"
    return (
        f'<div class="ck-template" data-template-id="{html.escape(template.id, quote=True)}">'
        f"<h3>{html.escape(template.title)}</h3>"
        f'<p class="ck-description">{html.escape(template.description)}</p>'
        '<div class="ck-template-meta">'
        f"<span>{html.escape(template.category)}</span>"
        f'<span class="ck-tag ck-difficulty-{html.escape(template.difficulty, quote=True)}">'
        f"{html.escape(template.difficulty)}</span>"
        f"<span>{html.escape(template.kind)}</span>"
        f'<span class="ck-uses" data-uses="{stats.uses}">{uses}</span>'
        f'<span class="ck-rating" data-rating="{stats.rating or 0}">{rating}</span>'
        f"{source}{version}</div>"
        f'<div class="ck-template-tags">{tags}</div>'
        f"<details><summary>Prompt</summary><pre>{html.escape(template.prompt)}</pre></details>"
        "</div>"
    )


def _close_tree(widget: widgets.Widget) -> None:
    """Close `widget` and its descendants, so that replaced cards free their models."""
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()


def _css_token(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in text)
