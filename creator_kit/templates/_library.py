"""The template library: curated templates plus the workspace's own, and search."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from creator_kit.errors import InvalidInputError
from creator_kit.storage import Workspace, collect, scan_table, table_version
from creator_kit.templates._render import validate_prompt
from creator_kit.templates._usage import TemplateStats, template_stats

__all__ = [
    "CATEGORIES",
    "CURATED_SOURCE",
    "CUSTOM_SOURCE",
    "DIFFICULTIES",
    "IMPORTED_CATEGORY",
    "KINDS",
    "SORTS",
    "Template",
    "TemplateEntry",
    "curated_templates",
    "get_template",
    "list_templates",
    "search_templates",
]

logger = logging.getLogger(__name__)

CATEGORIES = ("Commercial", "Narrative", "Comedy", "Educational", "Product", "Storytelling")
# Imported collections carry no category of their own.
IMPORTED_CATEGORY = "Imported"
DIFFICULTIES = ("easy", "medium", "hard")
KINDS = ("text", "video")
SORTS = ("relevance", "usage", "rating", "trending", "title")

CURATED_SOURCE = "curated"
CUSTOM_SOURCE = "custom"

_CURATED_FILE = "curated.json"

# Search weights per field a query word is found in. Title hits are counted on
# their own scale above these, so a title match ranks first whatever the rest.
_WEIGHTS = {"title": 8, "tags": 4, "description": 2, "prompt": 1}
_TITLE_WORD = 1_000
_TITLE_PHRASE = 100_000


@dataclass(frozen=True)
class Template:
    """One prompt template, curated or stored in the workspace.

    Attributes
    ----------
    id
        Stable identifier: plain for curated templates, ``my-...`` for the
        user's own and ``acp-...`` for imported ones.
    prompt
        The prompt in the placeholder grammar of `creator_kit.templates.render`.
    source
        ``curated``, ``custom``, or the name of the imported collection.
    version
        1 for curated templates; the version number for stored ones.
    """

    id: str
    title: str
    description: str
    prompt: str
    category: str
    tags: tuple[str, ...] = ()
    difficulty: str = "easy"
    kind: str = "text"
    source: str = CURATED_SOURCE
    version: int = 1
    archived: bool = False
    recorded_at: datetime | None = None

    @property
    def editable(self) -> bool:
        """Whether the template lives in the workspace and can get new versions."""
        return self.source != CURATED_SOURCE

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (tags as a list)."""
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class TemplateEntry:
    """A template with its usage and rating, as listed or found by a search."""

    template: Template
    stats: TemplateStats = field(default_factory=TemplateStats)
    relevance: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the template fields plus ``uses``, ``recent_uses`` and ``rating``."""
        return {**self.template.to_dict(), **self.stats.to_dict()}


def curated_templates() -> list[Template]:
    """Return the curated templates shipped with the package, in file order."""
    return list(_load_curated())


def list_templates(workspace: Workspace, *, include_archived: bool = False) -> list[Template]:
    """Return the curated templates followed by the workspace's own, latest versions.

    Parameters
    ----------
    include_archived
        Also return stored templates whose latest version is archived.
    """
    stored = _latest_stored(workspace)
    if not include_archived:
        stored = [template for template in stored if not template.archived]
    return curated_templates() + stored


def get_template(workspace: Workspace, template_id: str) -> Template:
    """Return the latest version of template `template_id`, archived or not.

    Raises
    ------
    InvalidInputError
        If no curated or stored template has that id.
    """
    for template in _load_curated():
        if template.id == template_id:
            return template
    for template in _latest_stored(workspace):
        if template.id == template_id:
            return template
    msg = (
        f"template {template_id!r} not found.\n"
        "Hint: `creator-kit templates list` shows the template ids."
    )
    raise InvalidInputError(msg)


def search_templates(
    workspace: Workspace,
    query: str = "",
    *,
    category: str | None = None,
    tag: str | None = None,
    difficulty: str | None = None,
    kind: str | None = None,
    sort: str = "relevance",
    include_archived: bool = False,
    now: datetime | None = None,
) -> list[TemplateEntry]:
    """Find templates by words and filters, with their usage and rating.

    Every word of `query` must occur (case-insensitively) in the title,
    description, tags or prompt. Matches rank title first, then tags,
    description and prompt.

    Parameters
    ----------
    query
        Words to look for; empty matches every template.
    category, tag, difficulty, kind
        Keep only templates with this category, tag (case-insensitive),
        difficulty or kind.
    sort
        ``relevance`` (query rank, then title), ``usage`` (most used first),
        ``rating`` (best rated first, unrated last), ``trending`` (most uses in
        the last 7 days first) or ``title``. Ties keep relevance order.
    include_archived
        Also return archived templates.
    now
        The time "the last 7 days" ends at; the current time by default.

    Raises
    ------
    InvalidInputError
        If a filter or `sort` is not one of the allowed values.
    """
    _check_choice("category", category, (*CATEGORIES, IMPORTED_CATEGORY))
    _check_choice("difficulty", difficulty, DIFFICULTIES)
    _check_choice("kind", kind, KINDS)
    _check_choice("sort", sort, SORTS)

    templates = list_templates(workspace, include_archived=include_archived)
    tag_filter = tag.casefold() if tag else None
    templates = [
        template
        for template in templates
        if (category is None or template.category == category)
        and (difficulty is None or template.difficulty == difficulty)
        and (kind is None or template.kind == kind)
        and (tag_filter is None or tag_filter in (t.casefold() for t in template.tags))
    ]

    words = query.casefold().split()
    stats = template_stats(workspace, now=now)
    entries = []
    for template in templates:
        relevance = _relevance(template, words, query.casefold().strip())
        if words and relevance == 0:
            continue
        entries.append(TemplateEntry(template, stats.get(template.id, TemplateStats()), relevance))

    entries.sort(key=lambda entry: entry.template.title.casefold())
    entries.sort(key=lambda entry: entry.relevance, reverse=True)
    if sort == "usage":
        entries.sort(key=lambda entry: entry.stats.uses, reverse=True)
    elif sort == "trending":
        entries.sort(key=lambda entry: entry.stats.recent_uses, reverse=True)
    elif sort == "rating":
        entries.sort(key=lambda entry: entry.stats.rating or 0, reverse=True)
    elif sort == "title":
        entries.sort(key=lambda entry: entry.template.title.casefold())
    logger.debug("template search %r matched %d templates", query, len(entries))
    return entries


def template_from_row(row: dict[str, Any]) -> Template:
    """Build a `Template` from a ``custom_templates`` row."""
    return Template(
        id=row["id"],
        title=row["title"],
        description=row["description"] or "",
        prompt=row["prompt"],
        category=row["category"],
        tags=tuple(row["tags"] or ()),
        difficulty=row["difficulty"] or "easy",
        kind=row["kind"] or "text",
        source=row["source"] or CUSTOM_SOURCE,
        version=int(row["version"]),
        archived=bool(row["archived"]),
        recorded_at=row["recorded_at"],
    )


def _latest_stored(workspace: Workspace) -> list[Template]:
    version = table_version(workspace, "custom_templates")
    if version is None:
        return []
    return list(_read_latest_stored(workspace, version))


# Keyed by the Delta table version, which every append or compaction moves
# on, so a cached result is never stale.
@lru_cache(maxsize=8)
def _read_latest_stored(workspace: Workspace, version: int) -> tuple[Template, ...]:
    frame = collect(
        scan_table(workspace, "custom_templates")
        .sort(["version", "recorded_at"], maintain_order=True)
        .unique(subset=["id"], keep="last", maintain_order=True)
        .sort("recorded_at", maintain_order=True),
        workspace=workspace,
    )
    logger.debug("read %d stored templates at table version %d", frame.height, version)
    return tuple(template_from_row(row) for row in frame.iter_rows(named=True))


def _relevance(template: Template, words: Sequence[str], phrase: str) -> int:
    if not words:
        return 0
    fields = _search_fields(template)
    score = 0
    for word in words:
        found = [name for name, text in fields.items() if word in text]
        if not found:
            return 0
        score += sum(_WEIGHTS[name] for name in found)
        if "title" in found:
            score += _TITLE_WORD
    if phrase in fields["title"]:
        score += _TITLE_PHRASE
    return score


@lru_cache(maxsize=4096)
def _search_fields(template: Template) -> dict[str, str]:
    # Case-folding every prompt on each keystroke would cost more than the search.
    return {
        "title": template.title.casefold(),
        "tags": " ".join(template.tags).casefold(),
        "description": template.description.casefold(),
        "prompt": template.prompt.casefold(),
    }


def _check_choice(name: str, value: str | None, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        msg = f"invalid {name} {value!r}; choose one of: {', '.join(allowed)}"
        raise InvalidInputError(msg)


@lru_cache(maxsize=1)
def _load_curated() -> tuple[Template, ...]:
    text = resources.files("creator_kit.templates").joinpath(_CURATED_FILE).read_text("utf-8")
    rows = json.loads(text)
    templates = []
    for position, row in enumerate(rows, start=1):
        try:
            template = Template(
                id=row["id"],
                title=row["title"],
                description=row["description"],
                prompt=row["prompt"],
                category=row["category"],
                tags=tuple(row["tags"]),
                difficulty=row["difficulty"],
                kind=row["kind"],
            )
            validate_prompt(template.prompt)
        except (KeyError, InvalidInputError) as exc:
            # A broken shipped file is a packaging bug, not a user error.
            raise RuntimeError(f"{_CURATED_FILE} entry {position} is invalid: {exc}") from exc
        templates.append(template)
    return tuple(templates)
