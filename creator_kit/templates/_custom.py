"""The user's own templates: create, edit, archive, history, compare, restore.

Every change appends a full row with the next version number to the
``custom_templates`` table, so the history of a template is its rows.
"""

from __future__ import annotations

import difflib
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import polars as pl

from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, append_rows, collect, scan_table
from creator_kit.templates._library import (
    CATEGORIES,
    CUSTOM_SOURCE,
    DIFFICULTIES,
    IMPORTED_CATEGORY,
    KINDS,
    Template,
    get_template,
    template_from_row,
)
from creator_kit.templates._render import validate_prompt
from creator_kit.templates._usage import record_template_rating

__all__ = [
    "MAX_TITLE_LENGTH",
    "archive_template",
    "compare_versions",
    "create_template",
    "edit_template",
    "rate_template",
    "restore_template",
    "template_history",
]

logger = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 200
_EDITABLE_FIELDS = ("title", "description", "prompt", "category", "tags", "difficulty", "kind")


def create_template(
    workspace: Workspace,
    *,
    title: str,
    prompt: str,
    category: str,
    description: str = "",
    tags: Iterable[str] = (),
    difficulty: str = "easy",
    kind: str = "text",
) -> Template:
    """Create a template of the user's own and store its version 1.

    Returns
    -------
    Template
        The stored template, with an id of the form ``my-<title words>-<hex>``.

    Raises
    ------
    InvalidInputError
        If the title or prompt is empty, the prompt breaks the placeholder
        grammar, or category, difficulty or kind is not an allowed value.
    """
    template = Template(
        id=f"my-{_slug(title)[:40] or 'template'}-{uuid.uuid4().hex[:6]}",
        title=title,
        description=description,
        prompt=prompt,
        category=category,
        tags=_clean_tags(tags),
        difficulty=difficulty,
        kind=kind,
        source=CUSTOM_SOURCE,
        version=1,
    )
    template = _checked(template)
    _store(workspace, [template])
    logger.info("created template %s", template.id)
    return get_template(workspace, template.id)


def edit_template(workspace: Workspace, template_id: str, **changes: Any) -> Template:
    """Store a new version of template `template_id` with `changes` applied.

    Parameters
    ----------
    changes
        New values for any of title, description, prompt, category, tags,
        difficulty and kind.

    Raises
    ------
    InvalidInputError
        If the template is curated or archived, a field name is unknown, a
        value is invalid, or nothing changes.
    """
    unknown = [name for name in changes if name not in _EDITABLE_FIELDS]
    if unknown:
        msg = f"cannot edit field {unknown[0]!r}; the editable fields are {', '.join(_EDITABLE_FIELDS)}"
        raise InvalidInputError(msg)

    current = _editable(workspace, template_id)
    if current.archived:
        msg = (
            f"template {template_id!r} is archived.\n"
            f"Hint: restore it first with `creator-kit templates restore {template_id}`."
        )
        raise InvalidInputError(msg)
    if "tags" in changes:
        changes["tags"] = _clean_tags(changes["tags"])
    # NOTE: two processes editing the same template at once both write the same
    # next version number. The latest view then picks the later row by recorded_at.
    updated = _checked(replace(current, **changes, version=current.version + 1))
    if _content(updated) == _content(current):
        raise InvalidInputError(f"nothing to change: the edit leaves template {template_id!r} as it is")

    _store(workspace, [updated])
    logger.info("stored version %d of template %s", updated.version, template_id)
    return get_template(workspace, template_id)


def archive_template(workspace: Workspace, template_id: str) -> Template:
    """Archive template `template_id`: a new version that search no longer lists.

    Raises
    ------
    InvalidInputError
        If the template is curated or already archived.
    """
    current = _editable(workspace, template_id)
    if current.archived:
        raise InvalidInputError(f"template {template_id!r} is already archived")
    _store(workspace, [replace(current, archived=True, version=current.version + 1)])
    logger.info("archived template %s", template_id)
    return get_template(workspace, template_id)


def restore_template(workspace: Workspace, template_id: str, version: int | None = None) -> Template:
    """Store a new version equal to version `version`, not archived.

    Parameters
    ----------
    version
        The version to bring back; by default the latest one, which un-archives
        an archived template.

    Raises
    ------
    InvalidInputError
        If the template is curated or has no such version.
    """
    history = template_history(workspace, template_id)
    latest = history[-1]
    target = latest if version is None else _version(history, version)
    restored = replace(target, archived=False, version=latest.version + 1)
    _store(workspace, [restored])
    logger.info("restored template %s to version %d", template_id, target.version)
    return get_template(workspace, template_id)


def template_history(workspace: Workspace, template_id: str) -> list[Template]:
    """Return every version of template `template_id`, oldest first.

    Raises
    ------
    InvalidInputError
        If the template is curated (curated templates have one fixed version)
        or does not exist.
    """
    frame = collect(
        scan_table(workspace, "custom_templates")
        .filter(pl.col("id") == template_id)
        .sort(["version", "recorded_at"]),
        workspace=workspace,
    )
    if frame.height == 0:
        _editable(workspace, template_id)  # raises the precise error
    return [template_from_row(row) for row in frame.iter_rows(named=True)]


def compare_versions(
    workspace: Workspace, template_id: str, old: int, new: int | None = None
) -> str:
    """Return a unified diff between two versions of a template.

    Parameters
    ----------
    old
        The version to compare from.
    new
        The version to compare to; the latest by default.

    Returns
    -------
    str
        Lines prefixed ``-`` and ``+`` for each changed field line; an empty
        string when the versions are equal.
    """
    history = template_history(workspace, template_id)
    before = _version(history, old)
    after = history[-1] if new is None else _version(history, new)
    lines = difflib.unified_diff(
        _describe(before),
        _describe(after),
        fromfile=f"{template_id} v{before.version}",
        tofile=f"{template_id} v{after.version}",
        lineterm="",
    )
    return "\n".join(lines)


def rate_template(workspace: Workspace, template_id: str, rating: int) -> None:
    """Rate template `template_id` from 1 to 5 in this workspace; the latest rating counts.

    Raises
    ------
    InvalidInputError
        If the template does not exist or `rating` is not 1-5.
    """
    get_template(workspace, template_id)
    record_template_rating(workspace, template_id, rating)


def store_templates(workspace: Workspace, templates: Iterable[Template]) -> int:
    """Append `templates` as rows of ``custom_templates`` in one commit."""
    return _store(workspace, list(templates))


def _editable(workspace: Workspace, template_id: str) -> Template:
    template = get_template(workspace, template_id)
    if not template.editable:
        msg = (
            f"template {template_id!r} is curated and cannot be changed.\n"
            "Hint: create your own from its prompt with `creator-kit templates add`."
        )
        raise InvalidInputError(msg)
    return template


def _version(history: list[Template], version: int) -> Template:
    for template in history:
        if template.version == version:
            return template
    known = ", ".join(str(template.version) for template in history)
    msg = f"template {history[0].id!r} has no version {version}; its versions are {known}"
    raise InvalidInputError(msg)


def _checked(template: Template) -> Template:
    title = (template.title or "").strip()
    if not title:
        raise InvalidInputError("a template needs a title")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInputError(
            f"the title has {len(title)} characters; keep it to {MAX_TITLE_LENGTH} at most"
        )
    if not isinstance(template.prompt, str) or not template.prompt.strip():
        raise InvalidInputError("a template needs a prompt")
    validate_prompt(template.prompt)

    categories = CATEGORIES if template.source == CUSTOM_SOURCE else (*CATEGORIES, IMPORTED_CATEGORY)
    for name, value, allowed in (
        ("category", template.category, categories),
        ("difficulty", template.difficulty, DIFFICULTIES),
        ("kind", template.kind, KINDS),
    ):
        if value not in allowed:
            raise InvalidInputError(f"invalid {name} {value!r}; choose one of: {', '.join(allowed)}")
    description = " ".join((template.description or "").split())
    return replace(template, title=title, description=description)


def _clean_tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned = [str(tag).strip() for tag in tags]
    return tuple(dict.fromkeys(tag for tag in cleaned if tag))


def _content(template: Template) -> tuple[Any, ...]:
    return tuple(getattr(template, name) for name in _EDITABLE_FIELDS) + (template.archived,)


def _describe(template: Template) -> list[str]:
    lines = [
        f"title: {template.title}",
        f"description: {template.description}",
        f"category: {template.category}",
        f"tags: {', '.join(template.tags)}",
        f"difficulty: {template.difficulty}",
        f"kind: {template.kind}",
        f"archived: {'yes' if template.archived else 'no'}",
        "prompt:",
    ]
    return lines + template.prompt.splitlines()


def _store(workspace: Workspace, templates: list[Template]) -> int:
    rows = []
    for template in templates:
        row = template.to_dict()
        row.pop("recorded_at")
        rows.append(row)
    return append_rows(workspace, "custom_templates", rows)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
