"""Import public prompt collections as workspace templates.

Supported format: ``awesome-chatgpt-prompts``, the ``prompts.csv`` of
https://github.com/f/awesome-chatgpt-prompts (CC0), with the columns ``act``
(title), ``prompt``, ``for_devs`` (TRUE/FALSE), ``type`` (TEXT, STRUCTURED,
IMAGE) and ``contributor``.

Each ``${Name}`` or ``${Name:default}`` in a prompt becomes the placeholder
``{name}`` or ``{name:default}`` (name from `placeholder_name`, default
stripped of surrounding spaces). Every other brace is doubled, so rendering
with the defaults gives back the original text with its variables filled
in, and nothing else changes. A ``${...}`` counts as a variable when it
contains no brace, so in ``${${int}}`` only the inner ``${int}`` does.
"""

from __future__ import annotations

import csv
import logging
import re
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from creator_kit.errors import ImportRowError, InvalidInputError
from creator_kit.storage import Workspace
from creator_kit.templates._custom import store_templates
from creator_kit.templates._library import IMPORTED_CATEGORY, Template, list_templates
from creator_kit.templates._render import escape_braces, placeholder_name

__all__ = [
    "AWESOME_CHATGPT_PROMPTS",
    "IMPORT_FORMATS",
    "ImportReport",
    "convert_variables",
    "import_templates",
]

logger = logging.getLogger(__name__)

AWESOME_CHATGPT_PROMPTS = "awesome-chatgpt-prompts"
IMPORT_FORMATS = (AWESOME_CHATGPT_PROMPTS,)

VARIABLE = re.compile(r"\$\{(?P<body>[^{}]*)\}")

_COLUMNS = ("act", "prompt", "for_devs", "type", "contributor")
_ID_PREFIX = "acp-"
_DESCRIPTION_LENGTH = 160
# Difficulty of an imported prompt, from its length in characters: the
# collection has no difficulty, and longer prompts ask more of the user.
_EASY_UP_TO = 1_500
_MEDIUM_UP_TO = 6_000


@dataclass(frozen=True)
class ImportReport:
    """Counts of one import run.

    Attributes
    ----------
    rows
        Data rows read from the file.
    added
        Templates stored for the first time.
    updated
        Templates whose content changed since the last import (a new version).
    unchanged
        Templates already stored with the same content.
    """

    rows: int
    added: int
    updated: int
    unchanged: int

    def to_dict(self) -> dict[str, int]:
        """Return the counts as a dict."""
        return asdict(self)


def import_templates(workspace: Workspace, file: str | Path, *, format: str) -> ImportReport:
    """Import the prompts of `file` as templates of `workspace`.

    Re-importing the same file adds nothing; a prompt changed upstream gets a
    new version under the same id. An archived template whose content did not
    change stays archived. Ids are ``acp-`` plus the title in lower
    case, with ``-2``, ``-3`` ... for titles that repeat, in file order.

    Parameters
    ----------
    file
        Path of the collection file.
    format
        One of `IMPORT_FORMATS`.

    Raises
    ------
    InvalidInputError
        If the format is unknown, the file cannot be read or lacks a column.
    ImportRowError
        If a row has an empty title or prompt; it names the line.
    """
    if format not in IMPORT_FORMATS:
        msg = f"unknown import format {format!r}; the formats are: {', '.join(IMPORT_FORMATS)}"
        raise InvalidInputError(msg)

    path = Path(file)
    templates = _read_awesome_chatgpt_prompts(path)
    stored = {t.id: t for t in list_templates(workspace, include_archived=True) if t.editable}

    new_rows: list[Template] = []
    added = updated = 0
    for template in templates:
        current = stored.get(template.id)
        if current is None:
            new_rows.append(template)
            added += 1
        elif _content(current) != _content(template):
            new_rows.append(replace(template, version=current.version + 1))
            updated += 1
    store_templates(workspace, new_rows)

    report = ImportReport(len(templates), added, updated, len(templates) - added - updated)
    logger.info("imported %s from %s: %s", format, path, report)
    return report


def convert_variables(text: str) -> str:
    """Turn a prompt with ``${Name:default}`` variables into a template prompt.

    Examples
    --------
    >>> convert_variables('Act as a ${Role:teacher}. Reply in JSON: {"a": 1}')
    'Act as a {role:teacher}. Reply in JSON: {{"a": 1}}'
    """
    pieces: list[str] = []
    position = 0
    for match in VARIABLE.finditer(text):
        pieces.append(escape_braces(text[position : match.start()]))
        label, colon, default = match.group("body").partition(":")
        name = placeholder_name(label)
        pieces.append(f"{{{name}:{default.strip()}}}" if colon else f"{{{name}}}")
        position = match.end()
    pieces.append(escape_braces(text[position:]))
    return "".join(pieces)


def _read_awesome_chatgpt_prompts(path: Path) -> list[Template]:
    previous_limit = csv.field_size_limit()
    # Some prompts are longer than the csv module's default 128 KiB field limit.
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in ("act", "prompt") if name not in (reader.fieldnames or ())]
            if missing:
                msg = (
                    f"{path} has no column {missing[0]!r}; an awesome-chatgpt-prompts file has "
                    f"the columns {', '.join(_COLUMNS)}"
                )
                raise InvalidInputError(msg)
            templates = []
            used_ids: set[str] = set()
            for row in reader:
                template = _template(path, reader.line_num, row, used_ids)
                used_ids.add(template.id)
                templates.append(template)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"{path} is not a UTF-8 CSV file: {exc}") from exc
    finally:
        csv.field_size_limit(previous_limit)
    return templates


def _template(path: Path, line: int, row: dict[str, str], used_ids: set[str]) -> Template:
    title = (row.get("act") or "").strip()
    prompt = row.get("prompt") or ""
    if not title:
        raise ImportRowError(str(path), line, "the 'act' (title) column is empty")
    if not prompt.strip():
        raise ImportRowError(str(path), line, f"the prompt of {title!r} is empty")

    slug = re.sub(r"\W+", "-", title.lower()).strip("-")[:60].strip("-") or "prompt"
    template_id = _ID_PREFIX + slug
    suffix = 1
    while template_id in used_ids:
        suffix += 1
        template_id = f"{_ID_PREFIX}{slug}-{suffix}"

    tags = [AWESOME_CHATGPT_PROMPTS]
    kind_tag = (row.get("type") or "").strip().lower()
    if kind_tag:
        tags.append(kind_tag)
    if (row.get("for_devs") or "").strip().upper() == "TRUE":
        tags.append("for-devs")

    if len(prompt) <= _EASY_UP_TO:
        difficulty = "easy"
    elif len(prompt) <= _MEDIUM_UP_TO:
        difficulty = "medium"
    else:
        difficulty = "hard"

    return Template(
        id=template_id,
        title=title,
        description=_describe(prompt),
        prompt=convert_variables(prompt),
        category=IMPORTED_CATEGORY,
        tags=tuple(tags),
        difficulty=difficulty,
        kind="text",
        source=AWESOME_CHATGPT_PROMPTS,
        version=1,
    )


def _describe(prompt: str) -> str:
    """Take the first non-empty line, without markdown marks, as a one-line description."""
    first = next((line for line in prompt.splitlines() if line.strip()), "")
    first = " ".join(first.strip().lstrip("#>*-` ").split())
    if len(first) <= _DESCRIPTION_LENGTH:
        return first
    cut = first[: _DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _content(template: Template) -> tuple[object, ...]:
    return (
        template.title,
        template.description,
        template.prompt,
        template.category,
        tuple(template.tags),
        template.difficulty,
        template.kind,
    )
