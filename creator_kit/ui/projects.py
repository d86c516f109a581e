"""The Projects page: every generation as a card, with filters, search, sort and edits.

The cards are drawn by `GalleryGrid`, an anywidget whose JavaScript ships in
``creator_kit/ui/static/gallery.js``: it builds each card from plain data
with ``textContent``, so titles, tags, prompts and outputs are shown as text
and never run. It also handles the keys: arrows move between cards, Space or
Enter opens a card to its full prompt and output, Escape closes it.

The page reads one page of cards at a time with
`creator_kit.gallery.query_projects`, on a background thread. Edits (title, tags, archive) are appended as
new rows by `creator_kit.gallery.edit_project`, and the history of a project
lists every earlier state.
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass, replace
from typing import Any

import anywidget
import ipywidgets as widgets
import polars as pl
import traitlets

from creator_kit import gallery
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import (
    BackgroundLoader,
    PageFrame,
    first_load_blocks,
    format_count,
    format_ms,
    wait_for_page_request,
)
from creator_kit.ui.palette import STATIC

__all__ = ["GalleryGrid", "ProjectEditor", "ProjectsPage", "projects_page"]

logger = logging.getLogger(__name__)

PAGE_SIZE = 24
EXCERPT_CHARS = 240

STATUS_LABELS = {"success": "Success", "failed": "Failed", "aborted": "Aborted", "pending": "Pending"}
_STATUS_OPTIONS = (("All", "all"), ("Successful", "success"), ("Failed", "failed"), ("Aborted", "aborted"), ("Pending", "pending"))
_SORT_OPTIONS = (("Date", "date"), ("Latency (TTFT)", "latency"), ("Tokens", "tokens"))
_ALL_TAGS = ""

_PAGE_CSS = """
<style>
.ck-projects-toolbar { gap: 8px; align-items: center; flex-wrap: wrap; }
.ck-projects-count { font-size: 13px; color: var(--jp-ui-font-color2); margin: 6px 0; }
.ck-projects-count .ck-filter-note { margin-left: 8px; }
.ck-projects-pager { align-items: center; gap: 8px; margin-top: 12px; }
.ck-project-editor { background: var(--jp-layout-color1); border: 1px solid var(--jp-brand-color1);
  border-radius: 8px; padding: 10px 12px; margin: 8px 0; max-width: 100%; box-sizing: border-box; }
.ck-project-editor h2 { font-size: 15px; margin: 0 0 6px; color: var(--jp-ui-font-color0);
  overflow-wrap: anywhere; }
.ck-project-history { max-width: 100%; overflow-x: auto; }
.ck-project-history td { overflow-wrap: anywhere; word-break: break-word; max-width: 420px; }
</style>
"""


def projects_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    theme: str | None = None,
    background: bool = True,
) -> ProjectsPage:
    """Build the Projects page of `workspace` and start loading its first page of cards.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    theme
        ``"light"`` or ``"dark"``; None reads ``$CREATOR_KIT_THEME``.
    background
        Run queries on a background thread (the default, so the kernel stays
        responsive). False runs them before returning, which tests use.
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    page = ProjectsPage(workspace, theme=theme, background=background)
    page.refresh(block=first_load_blocks())
    return page


class GalleryGrid(anywidget.AnyWidget):
    """The grid of project cards, drawn and driven from the keyboard in the browser.

    `cards` are plain dicts made by `card_data`. The browser sets `expanded`
    to the id of the open card (or ""), and the page sets `detail` to
    the full prompt and output of that card. An "Edit" click arrives as the
    message ``{"event": "edit", "id": ...}``.
    """

    _esm = (STATIC / "gallery.js").read_text(encoding="utf-8")
    _css = (STATIC / "gallery.css").read_text(encoding="utf-8")

    cards = traitlets.List(help="the cards of the page, as made by card_data").tag(sync=True)
    expanded = traitlets.Unicode("", help="id of the open card, or empty").tag(sync=True)
    detail = traitlets.Dict(help="{id, prompt, output, error_message} of the open card").tag(sync=True)
    empty_message = traitlets.Unicode("No projects match.", help="shown when there are no cards").tag(sync=True)
    url_params = traitlets.Dict(help="q, id, status and tag from the page's URL, set by the browser").tag(sync=True)


@dataclass(frozen=True)
class _Query:
    status: str = "all"
    tag: str = _ALL_TAGS
    search: str = ""
    sort: str = "date"
    descending: bool = True
    include_archived: bool = False
    offset: int = 0
    ids: tuple[str, ...] | None = None


class ProjectsPage(PageFrame):
    """Filters, search and sort over the cards, a pager, the editor and the palette."""

    def __init__(self, workspace: Workspace, *, theme: str | None = None, background: bool = True) -> None:
        self.workspace = workspace
        self.loader = BackgroundLoader(background=background)
        self.rows = pl.DataFrame()
        self.total = 0
        self._query = _Query()
        self._updating = False

        self.search = widgets.Text(placeholder="Search titles, prompts and outputs", continuous_update=True)
        self.search.add_class("ck-projects-search")
        self.search.layout.width = "300px"
        self.status_filter = widgets.Dropdown(options=list(_STATUS_OPTIONS), value="all", description="Status")
        self.status_filter.layout.width = "190px"
        self.tag_filter = widgets.Dropdown(options=[("All tags", _ALL_TAGS)], value=_ALL_TAGS, description="Tag")
        self.tag_filter.layout.width = "200px"
        self.sort = widgets.Dropdown(options=list(_SORT_OPTIONS), value="date", description="Sort")
        self.sort.layout.width = "200px"
        self.order = widgets.ToggleButtons(
            options=[("\u2193 Desc", True), ("\u2191 Asc", False)], value=True, style={"button_width": "70px"}
        )
        self.order.add_class("ck-projects-order")
        self.archived = widgets.Checkbox(value=False, description="Show archived", indent=False)
        self.archived.layout.width = "130px"
        toolbar = widgets.HBox(
            [self.search, self.status_filter, self.tag_filter, self.sort, self.order, self.archived]
        )
        toolbar.add_class("ck-projects-toolbar")

        self.count = widgets.HTML("")
        self.count.add_class("ck-projects-count")
        self.show_all = widgets.Button(description="Show all projects")
        self.show_all.layout.display = "none"
        self.grid = GalleryGrid()
        self.editor = ProjectEditor(self)
        self.previous = widgets.Button(description="\u2190 Previous", disabled=True)
        self.previous.add_class("ck-projects-previous")
        self.next = widgets.Button(description="Next \u2192", disabled=True)
        self.next.add_class("ck-projects-next")
        self.page_label = widgets.HTML("")
        self.page_label.add_class("ck-projects-page")
        pager = widgets.HBox([self.previous, self.page_label, self.next])
        pager.add_class("ck-projects-pager")

        super().__init__(
            "projects",
            title="Projects",
            subtitle="Every generation as a card: filter, search, sort, open and edit",
            children=[
                widgets.HTML(_PAGE_CSS, layout=widgets.Layout(display="none")),
                toolbar,
                widgets.HBox([self.count, self.show_all]),
                self.editor,
                self.grid,
                pager,
            ],
            theme=theme,
        )

        for control in (self.search, self.status_filter, self.tag_filter, self.sort, self.order, self.archived):
            control.observe(self._on_filter, names="value")
        self.previous.on_click(lambda _button: self.turn_page(-1))
        self.next.on_click(lambda _button: self.turn_page(1))
        self.show_all.on_click(lambda _button: self._set_query(replace(self._query, ids=None, offset=0)))
        self.grid.observe(self._on_expanded, names="expanded")
        self.grid.observe(self._on_url_params, names="url_params")
        self.grid.on_msg(self._on_grid_message)

    def refresh(self, *, reload_tags: bool = True, block: bool = False) -> None:
        """Query the current page of cards again (and the tag list); `block` waits for the result."""
        query = self._query
        self.set_loading("Loading projects\u2026")
        self.loader.submit(
            lambda: self._run_query(query, reload_tags),
            self._apply,
            lambda exc: self.show_error(exc, action="load the projects"),
            block=block,
        )

    def turn_page(self, step: int) -> None:
        """Show the next (`step` 1) or previous (`step` -1) page."""
        offset = self._query.offset + step * PAGE_SIZE
        if offset < 0 or (step > 0 and offset >= self.total):
            return
        self._set_query(replace(self._query, offset=offset), reload_tags=False)

    def open_editor(self, project_id: str) -> None:
        """Open the editor on project `project_id`."""
        try:
            row = self._row(project_id) or gallery.get_project(self.workspace, project_id)
        except Exception as exc:  # shown in the page and logged by show_error
            self.show_error(exc, action=f"open project {project_id} for editing")
            return
        self.editor.start(row)
        self.grid.send({"event": "show_editor"})

    def _run_query(self, query: _Query, reload_tags: bool) -> tuple[gallery.ProjectPage, list[str] | None]:
        page = gallery.query_projects(
            self.workspace,
            status=query.status,
            tag=query.tag or None,
            search=query.search or None,
            sort=query.sort,
            descending=query.descending,
            include_archived=query.include_archived,
            limit=PAGE_SIZE,
            offset=query.offset,
            ids=query.ids,
        )
        tags = gallery.list_tags(self.workspace, include_archived=True) if reload_tags else None
        return page, tags

    def _apply(self, result: tuple[gallery.ProjectPage, list[str] | None]) -> None:
        page, tags = result
        self.rows = page.rows
        self.total = page.total
        if tags is not None:
            self._set_tag_options(tags)
        cards = [card_data(row) for row in page.rows.iter_rows(named=True)]
        with self.grid.hold_sync():
            if self.grid.expanded and self.grid.expanded not in {card["id"] for card in cards}:
                self.grid.expanded = ""
            self.grid.empty_message = _empty_message(self._query, self.total)
            self.grid.cards = cards
        self._on_expanded({"new": self.grid.expanded})

        first = page.offset + 1 if page.rows.height else 0
        last = page.offset + page.rows.height
        noun = "project matches" if page.total == 1 else "projects match"
        self.count.value = (
            f'<span data-total="{page.total}">{format_count(page.total)} {noun}</span>'
            f'<span class="ck-filter-note">showing {format_count(first)}\u2013{format_count(last)}</span>'
        )
        self.show_all.layout.display = "" if self._query.ids is not None else "none"
        self.previous.disabled = page.offset == 0
        self.next.disabled = last >= page.total
        current = page.offset // PAGE_SIZE + 1
        self.page_label.value = (
            f'<span data-page="{current}">Page {format_count(current)} of {format_count(page.page_count)}</span>'
        )
        self.set_ready("")

    def _set_tag_options(self, tags: list[str]) -> None:
        chosen = self.tag_filter.value
        options = [("All tags", _ALL_TAGS)] + [(tag if len(tag) <= 40 else tag[:39] + "\u2026", tag) for tag in tags]
        if chosen and chosen not in tags:
            options.append((chosen, chosen))
        self._updating = True
        try:
            self.tag_filter.options = options
            self.tag_filter.value = chosen
        finally:
            self._updating = False

    def _set_query(self, query: _Query, *, reload_tags: bool = False) -> None:
        self._query = query
        self.refresh(reload_tags=reload_tags)

    def _on_filter(self, _change: dict[str, Any]) -> None:
        if self._updating:
            return
        self._set_query(
            _Query(
                status=self.status_filter.value,
                tag=self.tag_filter.value or _ALL_TAGS,
                search=self.search.value.strip(),
                sort=self.sort.value,
                descending=self.order.value,
                include_archived=self.archived.value,
                offset=0,
                ids=self._query.ids,
            )
        )

    def _on_expanded(self, change: dict[str, Any]) -> None:
        project_id = change["new"]
        if not project_id:
            return
        row = self._row(project_id)
        if row is None:
            return
        self.grid.detail = {
            "id": project_id,
            "prompt": row["prompt"] or "",
            "output": row["output"] or "",
            "error_message": row["error_message"] or "",
        }

    def _on_url_params(self, change: dict[str, Any]) -> None:
        params = change["new"] or {}
        self._updating = True
        try:
            if params.get("q"):
                self.search.value = str(params["q"])
            if params.get("status") in dict(_STATUS_OPTIONS).values():
                self.status_filter.value = params["status"]
        finally:
            self._updating = False
        project_id = params.get("id")
        query = replace(
            self._query,
            search=self.search.value.strip(),
            status=self.status_filter.value,
            tag=str(params.get("tag") or self._query.tag),
            ids=(str(project_id),) if project_id else None,
            include_archived=True if project_id else self._query.include_archived,
            offset=0,
        )
        if project_id:
            self.grid.expanded = str(project_id)
        self._set_query(query)

    def _on_grid_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "edit" and isinstance(content.get("id"), str):
            self.open_editor(content["id"])
        elif content.get("event") == "copy_failed":
            logger.info("copy of %s of project %s failed in the browser", content.get("part"), content.get("id"))

    def _row(self, project_id: str) -> dict[str, Any] | None:
        if self.rows.is_empty():
            return None
        match = self.rows.filter(pl.col("id") == project_id)
        return match.row(0, named=True) if match.height else None


class ProjectEditor(widgets.VBox):
    """Edit a project's title and tags, archive or restore it, and list its history."""

    def __init__(self, page: ProjectsPage) -> None:
        self.page = page
        self.project: dict[str, Any] | None = None
        self.heading = widgets.HTML("")
        self.title = widgets.Text(description="Title", placeholder="A short name for this project")
        self.title.layout.width = "520px"
        self.tags = widgets.Text(description="Tags", placeholder="comma-separated, e.g. ad, draft")
        self.tags.layout.width = "520px"
        self.save = widgets.Button(description="Save", button_style="primary")
        self.archive = widgets.Button(description="Archive")
        self.history_button = widgets.Button(description="History")
        self.close_button = widgets.Button(description="Close")
        self.message = widgets.HTML("")
        self.history = widgets.HTML("")
        self.history.add_class("ck-project-history")
        buttons = widgets.HBox([self.save, self.archive, self.history_button, self.close_button])
        super().__init__([self.heading, self.title, self.tags, buttons, self.message, self.history])
        self.add_class("ck-project-editor")
        self.layout.display = "none"
        self.save.on_click(lambda _button: self.submit())
        self.archive.on_click(lambda _button: self.toggle_archived())
        self.history_button.on_click(lambda _button: self.show_history())
        self.close_button.on_click(lambda _button: self.hide())

    def start(self, row: dict[str, Any]) -> None:
        """Show the editor filled with `row`, a project's latest row."""
        self.project = row
        self.heading.value = f"<h2>Edit project {html.escape(row['title'] or row['id'])}</h2>"
        self.title.value = row["title"] or ""
        self.tags.value = ", ".join(row["tags"] or [])
        self.archive.description = "Unarchive" if row["archived"] else "Archive"
        self.message.value = ""
        self.history.value = ""
        self.layout.display = "flex"

    def hide(self) -> None:
        """Hide the editor."""
        self.project = None
        self.layout.display = "none"

    def submit(self) -> dict[str, Any] | None:
        """Save the title and tags; return the new latest row, or None on an error."""
        return self._edit("save the project", title=self.title.value, tags=self.tags.value)

    def toggle_archived(self) -> dict[str, Any] | None:
        """Archive the project, or restore it if it is archived."""
        if self.project is None:
            return None
        archived = not bool(self.project["archived"])
        return self._edit("archive the project" if archived else "unarchive the project", archived=archived)

    def show_history(self) -> None:
        """List every recorded state of the project, newest first."""
        if self.project is None:
            return
        try:
            history = gallery.project_history(self.page.workspace, self.project["id"])
        except Exception as exc:  # shown in the editor and logged
            self._show_error(exc, "load the history")
            return
        rows = []
        for row in reversed(history.to_dicts()):
            rows.append(
                "<tr>"
                f"<td class=\"ck-nowrap\">{html.escape(row['recorded_at'].strftime('%Y-%m-%d %H:%M:%S'))}</td>"
                f"<td>{html.escape(row['title'] or '')}</td>"
                f"<td>{html.escape(', '.join(row['tags'] or []))}</td>"
                f"<td>{'archived' if row['archived'] else ''}</td>"
                "</tr>"
            )
        self.history.value = (
            '<table class="ck-table"><thead><tr><th>Recorded (UTC)</th><th>Title</th><th>Tags</th>'
            f"<th>State</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )

    def _edit(self, action: str, **changes: Any) -> dict[str, Any] | None:
        if self.project is None:
            return None
        try:
            row = gallery.edit_project(self.page.workspace, self.project["id"], **changes)
        except Exception as exc:  # shown in the editor and logged
            self._show_error(exc, action)
            return None
        self.start(row)
        self.message.value = '<span class="ck-saved">Saved.</span>'
        self.page.refresh()
        return row

    def _show_error(self, exc: BaseException, action: str) -> None:
        logger.error("could not %s: %s", action, exc, exc_info=exc)
        self.message.value = f'<span class="ck-error" role="alert">{html.escape(f"Could not {action}. {exc}")}</span>'


def card_data(row: dict[str, Any]) -> dict[str, Any]:
    """Return the plain data a card shows for a project's latest row.

    Numbers and dates are formatted here; the browser sets every value as
    text. The prompt and output are cut to a short excerpt; an open card
    receives them in full through `GalleryGrid.detail`.
    """
    title = " ".join((row.get("title") or "").split())
    created = row.get("created_at")
    status = row.get("status") or "unknown"
    return {
        "id": row["id"],
        "title": title or _excerpt(row.get("prompt"), 80) or "Untitled",
        "untitled": not title,
        "status": status,
        "status_label": STATUS_LABELS.get(status, status.title()),
        "provider": row.get("provider") or "",
        "model": row.get("model") or "",
        "tokens": f"{format_count(row.get('prompt_tokens'))} + {format_count(row.get('completion_tokens'))}",
        "ttft": format_ms(row.get("ttft_ms")),
        "date": created.strftime("%Y-%m-%d %H:%M") if created else "",
        "tags": list(row.get("tags") or []),
        "failover_from": row.get("failover_from") or "",
        "archived": bool(row.get("archived")),
        "excerpt": _excerpt(row.get("output") or row.get("prompt") or row.get("error_message"), EXCERPT_CHARS),
    }


def _excerpt(text: str | None, length: int) -> str:
    words = " ".join((text or "").split())
    return words if len(words) <= length else words[: length - 1] + "\u2026"


def _empty_message(query: _Query, total: int) -> str:
    if total:
        return "No projects on this page."
    if query.search or query.tag or query.status != "all" or query.ids is not None:
        return "No projects match these filters. Clear the search or choose All."
    return "No projects yet. Use Create new to start one, or import traces with creator-kit import."
