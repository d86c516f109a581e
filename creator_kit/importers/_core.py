"""Import files into the ``generations`` table of a workspace."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from creator_kit.errors import InvalidInputError, StorageError
from creator_kit.importers._azure import parse_azure_trace
from creator_kit.importers._files import ImportOptions, ParsedFile, read_source
from creator_kit.importers._llmperf import parse_llmperf
from creator_kit.importers._report import ImportReport
from creator_kit.importers._tabular import parse_csv, parse_jsonl
from creator_kit.importers._values import BadValue, parse_time
from creator_kit.storage import Workspace, append_rows, collect, resolve_workspace, scan_table

__all__ = ["IMPORT_FORMATS", "import_files"]

logger = logging.getLogger(__name__)

_PARSERS: dict[str, Callable[[ParsedFile, str, ImportOptions], None]] = {
    "llmperf": parse_llmperf,
    "azure-trace": parse_azure_trace,
    "csv": parse_csv,
    "jsonl": parse_jsonl,
}

IMPORT_FORMATS = tuple(_PARSERS)

# Fixed namespace so that a row's id follows from its source key.
_ID_NAMESPACE = uuid.UUID("6f1c1d0e-5b7a-4c55-9d8e-3a2f0c4b9e71")


def import_files(
    workspace: Workspace | str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    format: str,  # noqa: A002 -- the name of the --format option
    provider: str | None = None,
    model: str | None = None,
    timestamp: str | datetime | None = None,
    shift_to_now: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import trace or table files into the ``generations`` table.

    Every file is read and checked before anything is written; the valid
    rows of all files are then appended in one atomic commit. A bad row is
    rejected with its file, line and reason while the good rows are still
    imported. A file that cannot be read as a whole (malformed JSON, a
    missing or unknown column, no rows) is rejected as one entry.

    Each row gets a source key made of the format, the SHA-256 of the file's
    bytes and the row's line, so importing the same file again adds nothing.

    Parameters
    ----------
    workspace
        The workspace, or its folder.
    paths
        The files to import.
    format
        ``llmperf``, ``azure-trace``, ``csv`` or ``jsonl``.
    provider, model
        Override the provider and model that a file or its name gives.
    timestamp
        For ``llmperf``, the time the run ended when no summary file gives it
        (ISO 8601; a time without an offset is UTC).
    shift_to_now
        Move all imported times by one offset so that the newest row is at
        `now`, keeping the gaps between rows.
    now
        The current time for `shift_to_now`; the clock's UTC time by default.

    Returns
    -------
    ImportReport
        Counts of imported, duplicate and rejected rows, with the errors.

    Raises
    ------
    InvalidInputError
        If the format is unknown, a path is missing or a folder, `timestamp`
        is not a time, or a file needs ``--model`` / ``--timestamp`` to be
        imported. Nothing is written then.
    StorageError
        If the workspace cannot be read or written. Rows committed before
        stay as they were.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "runs.jsonl").write_text(
    ...     '{"created_at": "2026-01-05T10:00:00Z", "provider": "openai", '
    ...     '"model": "gpt-4o-mini", "status": "success", "prompt_tokens": 12}\\n'
    ... )
    >>> import_files(folder / "workspace", [folder / "runs.jsonl"], format="jsonl").to_dict()
    {'imported': 1, 'duplicates': 0, 'rejected': 0, 'errors': []}
    """
    ws = workspace if isinstance(workspace, Workspace) else resolve_workspace(workspace)
    parser = _parser(format)
    options = ImportOptions(provider=provider or None, model=model or None, timestamp=_flag_time(timestamp))

    files = [_parse_file(Path(path), format, parser, options) for path in paths]
    if not files:
        raise InvalidInputError("no files to import; pass one or more paths")
    errors = [error for parsed in files for error in parsed.errors]
    rows = [_keyed_row(parsed, line, row, format) for parsed in files for line, row in parsed.rows]

    if shift_to_now and rows:
        _shift(rows, now or datetime.now(UTC))
    new_rows = _without_duplicates(ws, rows)
    duplicates = len(rows) - len(new_rows)
    imported = 0
    if new_rows:
        _check_table_writable(ws)
        imported = append_rows(ws, "generations", new_rows)

    logger.info(
        "imported %d rows (%d duplicates, %d rejected) from %d %s files into %s",
        imported, duplicates, len(errors), len(files), format, ws.path,
    )
    return ImportReport.from_errors(imported=imported, duplicates=duplicates, errors=errors)


def _parser(format: str) -> Callable[[ParsedFile, str, ImportOptions], None]:  # noqa: A002
    try:
        return _PARSERS[format]
    except KeyError:
        msg = f"unknown import format {format!r}; use one of {', '.join(IMPORT_FORMATS)}"
        raise InvalidInputError(msg) from None


def _flag_time(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    try:
        return parse_time(value, "--timestamp")
    except BadValue as exc:
        msg = f"{exc}.\nHint: pass --timestamp as an ISO time such as 2023-12-21T05:20:16Z."
        raise InvalidInputError(msg) from None


def _parse_file(
    path: Path,
    format: str,  # noqa: A002
    parser: Callable[[ParsedFile, str, ImportOptions], None],
    options: ImportOptions,
) -> ParsedFile:
    parsed, text = read_source(path)
    if text is not None:
        parser(parsed, text, options)
    logger.debug("%s: %d rows, %d rejected as %s", path, len(parsed.rows), len(parsed.errors), format)
    return parsed


def _keyed_row(parsed: ParsedFile, line: int, row: dict[str, Any], format: str) -> dict[str, Any]:  # noqa: A002
    source_key = f"{format}:{parsed.digest}:{line}"
    keyed = dict(row)
    keyed.setdefault("id", None)
    if keyed["id"] is None:
        keyed["id"] = uuid.uuid5(_ID_NAMESPACE, source_key).hex
    keyed["source"] = f"import:{format}"
    keyed["source_key"] = source_key
    return keyed


def _shift(rows: list[dict[str, Any]], now: datetime) -> None:
    offset = now - max(row["created_at"] for row in rows)
    for row in rows:
        row["created_at"] = row["created_at"] + offset


def _check_table_writable(ws: Workspace) -> None:
    """Fail early, with a clear message, when the table's folders cannot be written."""
    ws.ensure_writable()
    table = ws.table_path("generations")
    # NOTE: append_rows reports a table folder that root cannot write (EPERM,
    # "Operation not permitted") as a damaged data file, so it is checked here.
    for folder in (table, table / "_delta_log"):
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            msg = (
                f"table folder {str(folder)!r} of workspace {str(ws.path)!r} is read-only.\n"
                "Hint: make it writable or choose another folder with --workspace."
            )
            raise StorageError(msg)


def _without_duplicates(ws: Workspace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop rows whose source key is already stored or repeats within `rows`."""
    if not rows:
        return []
    keys = [row["source_key"] for row in rows]
    stored = collect(
        scan_table(ws, "generations")
        .select("source_key")
        .filter(pl.col("source_key").is_in(keys)),
        workspace=ws,
    )
    seen = set(stored.get_column("source_key").to_list())
    fresh = []
    for row in rows:
        if row["source_key"] in seen:
            continue
        seen.add(row["source_key"])
        fresh.append(row)
    return fresh
