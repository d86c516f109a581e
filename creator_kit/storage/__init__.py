"""Workspaces and their Delta Lake tables.

A workspace is one folder. Each entity (``generations``, ``video_jobs``,
``events``, ``template_usage``, ``custom_templates``) is a Delta table in it,
whose schema is declared in this package and nowhere else. Rows are only
appended; `read_latest` gives the current state per id and `scan_table` the
whole history.

Examples
--------
>>> import tempfile
>>> from creator_kit import storage
>>> ws = storage.resolve_workspace(tempfile.mkdtemp())
>>> storage.append_rows(ws, "events", [{"kind": "validation", "provider": "openai"}])
1
>>> storage.scan_table(ws, "events").select("kind").collect().item()
'validation'
"""

from __future__ import annotations

from creator_kit.storage._schemas import (
    GENERATION_STATUSES,
    JOB_STATUSES,
    LATEST_KEYS,
    REQUIRED_COLUMNS,
    SCHEMAS,
    TABLE_NAMES,
)
from creator_kit.storage._tables import (
    append_rows,
    collect,
    compact_tables,
    create_tables,
    find_unreadable_files,
    frame_from_rows,
    quarantine_unreadable_files,
    read_latest,
    scan_table,
    table_version,
)
from creator_kit.storage._workspace import (
    DEFAULT_WORKSPACE,
    WORKSPACE_ENV,
    Workspace,
    default_workspace_path,
    resolve_workspace,
)
from creator_kit.storage._writer import BatchWriter

__all__ = [
    "DEFAULT_WORKSPACE",
    "GENERATION_STATUSES",
    "JOB_STATUSES",
    "LATEST_KEYS",
    "REQUIRED_COLUMNS",
    "SCHEMAS",
    "TABLE_NAMES",
    "WORKSPACE_ENV",
    "BatchWriter",
    "Workspace",
    "append_rows",
    "collect",
    "compact_tables",
    "create_tables",
    "default_workspace_path",
    "find_unreadable_files",
    "frame_from_rows",
    "quarantine_unreadable_files",
    "read_latest",
    "resolve_workspace",
    "scan_table",
    "table_version",
]
