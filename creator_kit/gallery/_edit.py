"""Edit a project's title, tags and archived flag as appended facts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, append_rows, collect, resolve_workspace, scan_table

__all__ = ["edit_project", "get_project", "normalize_tags", "project_history"]

logger = logging.getLogger(__name__)

_ONE_MICROSECOND = timedelta(microseconds=1)


def edit_project(
    workspace: Workspace | str | os.PathLike[str] | None,
    project_id: str,
    *,
    title: str | None = None,
    tags: Iterable[str] | str | None = None,
    archived: bool | None = None,
) -> dict[str, Any]:
    """Change a project's title, tags or archived flag; return its new latest row.

    The change is a full copy of the project's latest row with the new
    values and a new ``recorded_at``, appended to the ``generations`` table,
    so the latest row wins and `project_history` keeps the earlier ones. An
    edit that changes nothing appends nothing.

    Parameters
    ----------
    project_id
        The generation's id.
    title
        The new title; an empty or blank title removes it.
    tags
        The new tags, replacing the old ones: a list, or one string of
        comma-separated tags. Blank tags are dropped, and repeats that differ
        only in case are kept once.
    archived
        True archives the project, False restores it.

    Raises
    ------
    InvalidInputError
        If no project has `project_id`, or no change is given.
    StorageError
        If the table cannot be read or written.
    """
    if title is None and tags is None and archived is None:
        raise InvalidInputError("nothing to change: give a title, tags or archived")
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    current = get_project(workspace, project_id)

    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title.strip() or None
    if tags is not None:
        changes["tags"] = normalize_tags(tags)
    if archived is not None:
        changes["archived"] = bool(archived)
    if all(current.get(name) == value for name, value in changes.items()):
        logger.debug("project %s already has %s; nothing appended", project_id, sorted(changes))
        return current

    # The new row must sort after the current one even if the clock is behind it.
    recorded_at = max(datetime.now(UTC), current["recorded_at"] + _ONE_MICROSECOND)
    row = {**current, **changes, "recorded_at": recorded_at}
    append_rows(workspace, "generations", [row])
    logger.info("edited project %s: %s", project_id, ", ".join(sorted(changes)))
    return row


def get_project(workspace: Workspace | str | os.PathLike[str] | None, project_id: str) -> dict[str, Any]:
    """Return the latest row of project `project_id` as a dict.

    Raises
    ------
    InvalidInputError
        If no project has `project_id`.
    """
    history = project_history(workspace, project_id)
    return history.row(history.height - 1, named=True)


def project_history(workspace: Workspace | str | os.PathLike[str] | None, project_id: str) -> pl.DataFrame:
    """Return every row ever recorded for project `project_id`, oldest first.

    The last row is the current state; earlier rows are the titles, tags and
    archived flags it had before.

    Raises
    ------
    InvalidInputError
        If no project has `project_id`.
    """
    if not isinstance(project_id, str) or not project_id:
        raise InvalidInputError(f"project id {project_id!r} is invalid; give the id of a generation")
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    history = collect(
        scan_table(workspace, "generations")
        .filter(pl.col("id") == project_id)
        .sort("recorded_at", maintain_order=True),
        workspace=workspace,
    )
    if history.height == 0:
        msg = (
            f"no project has id {project_id!r} in the workspace at {str(workspace.path)!r}.\n"
            "Hint: `creator-kit projects --json` lists the ids."
        )
        raise InvalidInputError(msg)
    return history


def normalize_tags(tags: Iterable[str] | str) -> list[str]:
    """Return `tags` stripped, without blanks and without repeats that differ only in case.

    A string is split at commas. The first spelling of a repeated tag is kept.

    Raises
    ------
    InvalidInputError
        If a tag is not a string.
    """
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    seen: set[str] = set()
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidInputError(f"tag {item!r} is not text; give tags as strings")
        tag = item.strip()
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            result.append(tag)
    return result
