"""Prompt templates: the curated library, search, rendering, usage and versions.

The library is the curated templates shipped with the package plus the
templates stored in a workspace (the user's own and imported collections).
Prompts use a small placeholder grammar, ``{name}`` and ``{name:default}``
with ``{{`` and ``}}`` for literal braces (see `render`).

Examples
--------
>>> from creator_kit import templates
>>> templates.render("Write a {tone:warm} note to {name}.", {"name": "Ada"})
'Write a warm note to Ada.'
"""

from __future__ import annotations

from creator_kit.templates._custom import (
    archive_template,
    compare_versions,
    create_template,
    edit_template,
    rate_template,
    restore_template,
    template_history,
)
from creator_kit.templates._import import (
    AWESOME_CHATGPT_PROMPTS,
    IMPORT_FORMATS,
    ImportReport,
    convert_variables,
    import_templates,
)
from creator_kit.templates._library import (
    CATEGORIES,
    CURATED_SOURCE,
    CUSTOM_SOURCE,
    DIFFICULTIES,
    IMPORTED_CATEGORY,
    KINDS,
    SORTS,
    Template,
    TemplateEntry,
    curated_templates,
    get_template,
    list_templates,
    search_templates,
)
from creator_kit.templates._render import (
    Placeholder,
    escape_braces,
    parse_prompt,
    placeholder_name,
    placeholders,
    render,
    validate_prompt,
)
from creator_kit.templates._usage import (
    TRENDING_WINDOW,
    TemplateStats,
    record_template_rating,
    record_template_use,
    template_stats,
)

__all__ = [
    "AWESOME_CHATGPT_PROMPTS",
    "CATEGORIES",
    "CURATED_SOURCE",
    "CUSTOM_SOURCE",
    "DIFFICULTIES",
    "IMPORTED_CATEGORY",
    "IMPORT_FORMATS",
    "KINDS",
    "SORTS",
    "TRENDING_WINDOW",
    "ImportReport",
    "Placeholder",
    "Template",
    "TemplateEntry",
    "TemplateStats",
    "archive_template",
    "compare_versions",
    "convert_variables",
    "create_template",
    "curated_templates",
    "edit_template",
    "escape_braces",
    "get_template",
    "import_templates",
    "list_templates",
    "parse_prompt",
    "placeholder_name",
    "placeholders",
    "rate_template",
    "record_template_rating",
    "record_template_use",
    "render",
    "restore_template",
    "search_templates",
    "template_history",
    "template_stats",
    "validate_prompt",
]
