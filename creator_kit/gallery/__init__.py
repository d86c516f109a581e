"""The projects gallery: page through generations, edit titles and tags, archive.

A project is one generation in its latest state (the newest row per id of the
``generations`` table). `query_projects` filters, searches, sorts and pages
them lazily, reading the full rows of the requested page only.
`edit_project` appends a full new row with the changed title, tags or
archived flag, so the latest row wins and `project_history` keeps every
earlier state.

Examples
--------
>>> import tempfile
>>> from datetime import UTC, datetime
>>> from creator_kit import gallery, storage
>>> ws = storage.resolve_workspace(tempfile.mkdtemp())
>>> row = {"id": "g1", "created_at": datetime(2026, 1, 5, tzinfo=UTC),
...        "provider": "openai", "model": "gpt-4o-mini", "status": "success"}
>>> storage.append_rows(ws, "generations", [row])
1
>>> _ = gallery.edit_project(ws, "g1", title="Launch ad", tags=["ad"])
>>> page = gallery.query_projects(ws, tag="ad")
>>> page.total, page.rows["title"].to_list()
(1, ['Launch ad'])
>>> gallery.project_history(ws, "g1").height
2
"""

from __future__ import annotations

from creator_kit.gallery._edit import edit_project, get_project, normalize_tags, project_history
from creator_kit.gallery._query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SORTS,
    STATUS_CHOICES,
    ProjectPage,
    list_tags,
    query_projects,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "SORTS",
    "STATUS_CHOICES",
    "ProjectPage",
    "edit_project",
    "get_project",
    "list_tags",
    "normalize_tags",
    "project_history",
    "query_projects",
]
