"""The command palette (Ctrl/Cmd+K) and the keyboard shortcuts list (Ctrl/Cmd+/).

`command_palette` returns a `CommandPalette`, a small anywidget that draws
nothing on the page until a shortcut opens it. Its JavaScript and CSS ship
in ``creator_kit/ui/static`` and reach the browser through the widget's
state, so the palette works offline. The palette lists the sections, "Create
new" and the shortcuts list. Typing searches the workspace's projects and
the template library in the kernel, and the matches are listed below. Choosing an entry
opens its page in the same tab: a project opens the Projects page on that
project (``projects.ipynb?id=<id>``), a template opens the Create page on it
(``create.ipynb?template_id=<id>``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anywidget
import traitlets

from creator_kit.errors import CreatorKitError
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import CREATE_SECTION, SECTIONS, BackgroundLoader, format_day

__all__ = ["SHORTCUTS", "CommandPalette", "command_palette", "project_url", "search_palette"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"

# Results per kind shown in the palette.
MAX_RESULTS = 6

# (keys, what they do); "Mod" is Ctrl, or Cmd on a Mac.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Mod+K", "Open the command palette: go to a section, create new, search projects and templates"),
    ("Mod+/", "Show this list of shortcuts"),
    ("\u2191 \u2193, Enter", "In the palette: move through the entries, open the chosen one"),
    ("Esc", "Close the palette, this list, or an open project card"),
    ("\u2190 \u2191 \u2192 \u2193", "Projects: move between cards"),
    ("Home, End", "Projects: go to the first or last card of the page"),
    ("Space or Enter", "Projects: open or close the focused card (full prompt and output)"),
    ("Tab", "Move to the next button or field"),
)

# Voila reads ?template= as the name of its own page template, so the id goes in template_id.
CREATE_TEMPLATE_URL = "create.ipynb?template_id={id}"


def command_palette(
    workspace: Workspace | str | os.PathLike[str] | None = None, *, background: bool = True
) -> CommandPalette:
    """Return the command palette widget for a page.

    Display it once on a page (it takes no space there); Ctrl/Cmd+K and
    Ctrl/Cmd+/ then work anywhere on the page.

    Parameters
    ----------
    workspace
        The workspace whose projects the palette searches; None resolves
        ``$CREATOR_KIT_WORKSPACE``, then the default workspace, at the first
        search.
    background
        Run searches on a background thread (the default). False runs them in
        the thread that sets `query`, which tests use.
    """
    return CommandPalette(workspace=workspace, background=background)


def project_url(project_id: str) -> str:
    """Return the relative link that opens the Projects page on one project."""
    return f"projects.ipynb?id={quote(project_id, safe='')}"


def search_palette(workspace: Workspace, query: str, *, limit: int = MAX_RESULTS) -> list[dict[str, str]]:
    """Return the palette entries for `query`: matching projects, then templates.

    Each entry is a dict with ``group``, ``kind``, ``label``, ``detail`` and
    ``href``. Projects are searched in their title, prompt and output
    (archived ones included, newest first); templates in their title,
    description, tags and prompt.
    """
    from creator_kit.gallery import query_projects
    from creator_kit.templates import search_templates

    entries: list[dict[str, str]] = []
    if query.strip():
        entries.append(
            {
                "group": "Projects",
                "kind": "project-search",
                "label": f"Search projects for \u201c{query}\u201d",
                "detail": "open the Projects page with this search",
                "href": f"projects.ipynb?q={quote(query, safe='')}",
            }
        )
    page = query_projects(workspace, search=query, include_archived=True, limit=limit)
    for row in page.rows.iter_rows(named=True):
        title = " ".join((row["title"] or "").split()) or _excerpt(row["prompt"]) or "Untitled"
        detail = f"{row['status']} \u00b7 {row['provider']} \u00b7 {row['model']} \u00b7 {format_day(row['created_at'])}"
        entries.append(
            {"group": "Projects", "kind": "project", "label": title, "detail": detail, "href": project_url(row["id"])}
        )
    for entry in search_templates(workspace, query)[:limit]:
        template = entry.template
        entries.append(
            {
                "group": "Templates",
                "kind": "template",
                "label": template.title,
                "detail": f"{template.category} \u00b7 {template.description}",
                "href": CREATE_TEMPLATE_URL.format(id=quote(template.id, safe="")),
            }
        )
    return entries


class CommandPalette(anywidget.AnyWidget):
    """Ctrl/Cmd+K command palette and Ctrl/Cmd+/ shortcuts list for one page.

    The browser sets `query` as the user types (after a short pause), and
    the kernel sets `results` to the matches. `navigations` counts the entries the
    user opened, for tests and logs.
    """

    _esm = (STATIC / "palette.js").read_text(encoding="utf-8")
    _css = (STATIC / "palette.css").read_text(encoding="utf-8")

    commands = traitlets.List(help="entries listed before any search: sections, create new, shortcuts").tag(
        sync=True
    )
    shortcuts = traitlets.List(help="[keys, description] pairs of the shortcuts list").tag(sync=True)
    query = traitlets.Unicode("", help="the text typed in the palette").tag(sync=True)
    results = traitlets.Dict(help="{query, items, error}: search results for a query").tag(sync=True)
    navigations = traitlets.Int(0, help="entries the user opened from the palette")

    def __init__(
        self, *, workspace: Workspace | str | os.PathLike[str] | None = None, background: bool = True
    ) -> None:
        super().__init__(commands=_commands(), shortcuts=[list(pair) for pair in SHORTCUTS])
        self._workspace_choice = workspace
        self._workspace: Workspace | None = workspace if isinstance(workspace, Workspace) else None
        self.loader = BackgroundLoader(background=background)
        self.on_msg(self._on_browser_message)

    @property
    def workspace(self) -> Workspace:
        """The workspace searched, resolved at first use."""
        if self._workspace is None:
            self._workspace = resolve_workspace(self._workspace_choice)
        return self._workspace

    @traitlets.observe("query")
    def _on_query(self, change: dict[str, Any]) -> None:
        query = change["new"]
        if not query.strip():
            self.results = {"query": query, "items": []}
            return
        self.loader.submit(
            lambda: search_palette(self.workspace, query),
            lambda items: setattr(self, "results", {"query": query, "items": items}),
            lambda exc: self._show_error(query, exc),
        )

    def _show_error(self, query: str, exc: BaseException) -> None:
        logger.error("command palette search for %r failed: %s", query, exc, exc_info=exc)
        kind = "" if isinstance(exc, CreatorKitError) else f"{type(exc).__name__}: "
        self.results = {"query": query, "items": [], "error": f"Search failed. {kind}{exc}"}

    def _on_browser_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "navigate":
            self.navigations += 1
            logger.info("command palette opened %s", content.get("href"))


def _commands() -> list[dict[str, str]]:
    commands = [
        {
            "group": "Create",
            "kind": "create",
            "label": CREATE_SECTION.label,
            "detail": "open the prompt card",
            "href": CREATE_SECTION.notebook,
        }
    ]
    for section in SECTIONS:
        commands.append(
            {
                "group": "Go to",
                "kind": "section",
                "label": section.label,
                "detail": section.notebook,
                "href": section.notebook,
            }
        )
    commands.append(
        {
            "group": "Help",
            "kind": "help",
            "label": "Keyboard shortcuts",
            "detail": "list every shortcut",
            "action": "shortcuts",
            "keys": "Mod+/",
        }
    )
    return commands


def _excerpt(text: str | None, length: int = 80) -> str:
    words = " ".join((text or "").split())
    return words if len(words) <= length else words[: length - 1] + "\u2026"
