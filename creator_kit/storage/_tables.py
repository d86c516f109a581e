"""Delta Lake tables of a workspace: append, scan, latest state, compaction."""

from __future__ import annotations

import logging
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from creator_kit.errors import InvalidInputError, StorageError
from creator_kit.storage._schemas import LATEST_KEYS, REQUIRED_COLUMNS, SCHEMAS
from creator_kit.storage._workspace import Workspace

__all__ = [
    "append_rows",
    "collect",
    "compact_tables",
    "create_tables",
    "find_unreadable_files",
    "frame_from_rows",
    "quarantine_unreadable_files",
    "read_latest",
    "scan_table",
    "table_version",
]

logger = logging.getLogger(__name__)

# Appends never conflict with each other in Delta, but each concurrent writer
# must retry its commit with the next version number.
MAX_COMMIT_RETRIES = 1000

REPAIR_HINT = (
    "Hint: restore the file from a backup, or run `creator-kit repair` to move every "
    "unreadable file into the workspace's quarantine folder and drop it from its table "
    "(the rows in it are then lost)."
)

QUARANTINE_DIR = "quarantine"

_DEFAULTS: dict[str, dict[str, Any]] = {
    "generations": {
        "archived": False,
        "usage_estimated": False,
        "tags": [],
        "source": "app",
        "retries": 0,
    },
    "custom_templates": {"archived": False, "tags": []},
}


def create_tables(workspace: Workspace) -> None:
    """Create every table of `workspace` that does not exist yet.

    Safe to call from several processes at once: a table that another process
    created in the meantime is left as it is.
    """
    workspace.ensure_writable()
    for name, schema in SCHEMAS.items():
        _create_table(workspace, name, schema)


def append_rows(
    workspace: Workspace,
    table: str,
    rows: Iterable[Mapping[str, Any]] | pl.DataFrame,
) -> int:
    """Append `rows` to `table` in one atomic Delta commit.

    Missing ``id`` and ``recorded_at`` values are filled in (a random UUID and
    the current UTC time); other missing columns are null or the table's
    default. Returns the number of rows written.

    Raises
    ------
    InvalidInputError
        If a row has an unknown column, lacks a required one, or contains a
        value of the wrong type.
    StorageError
        If the workspace cannot be written.
    """
    frame = rows if isinstance(rows, pl.DataFrame) else frame_from_rows(table, rows)
    frame = _conform(table, frame)
    if frame.height == 0:
        return 0

    workspace.ensure_writable()
    path = workspace.table_path(table)
    if not (path / "_delta_log").exists():
        _create_table(workspace, table, SCHEMAS[table])

    try:
        write_deltalake(
            str(path),
            frame.to_arrow(),
            mode="append",
            commit_properties=_commit_properties(),
        )
    except (OSError, DeltaError) as exc:
        raise _storage_error(f"cannot append to table {table!r}", path, exc) from exc
    logger.debug("appended %d rows to %s", frame.height, path)
    return frame.height


def frame_from_rows(table: str, rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Build a DataFrame with the schema of `table` from dicts.

    Raises
    ------
    InvalidInputError
        If a row has a column the table does not have, or a value of the
        wrong type.
    """
    schema = _schema(table)
    rows = list(rows)
    for position, row in enumerate(rows, start=1):
        unknown = set(row) - set(schema)
        if unknown:
            msg = (
                f"row {position} has unknown column {sorted(unknown)[0]!r} for table {table!r}.\n"
                f"Hint: the columns are {', '.join(schema)}."
            )
            raise InvalidInputError(msg)
    try:
        return pl.DataFrame(rows, schema=schema, strict=True)
    except (TypeError, pl.exceptions.PolarsError) as exc:
        raise InvalidInputError(f"rows do not match the schema of table {table!r}: {exc}") from exc


def scan_table(workspace: Workspace, table: str) -> pl.LazyFrame:
    """Return a lazy scan of every row ever appended to `table`.

    A table that does not exist yet scans as an empty frame with the table's
    schema, so queries on a new workspace return zeros instead of failing.
    """
    schema = _schema(table)
    path = workspace.table_path(table)
    if not (path / "_delta_log").is_dir():
        return pl.LazyFrame(schema=schema)
    try:
        lazy = pl.scan_delta(str(path))
    except Exception as exc:  # deltalake and polars raise several unrelated types here
        raise _storage_error(f"cannot open table {table!r}", path, exc) from exc
    return _align(lazy, schema)


def read_latest(workspace: Workspace, table: str) -> pl.LazyFrame:
    """Return the newest row per key of `table` (by ``recorded_at``).

    Edits such as a new title, tag or job status are appended as full rows;
    this view is the current state, and `scan_table` the history.
    """
    keys = list(LATEST_KEYS[table])
    return (
        scan_table(workspace, table)
        .sort("recorded_at", maintain_order=True)
        .unique(subset=keys, keep="last", maintain_order=True)
    )


def collect(lazy: pl.LazyFrame, *, workspace: Workspace | None = None) -> pl.DataFrame:
    """Collect `lazy`, turning read errors into a `StorageError`.

    Polars reports a damaged Parquet file without its name (sometimes as a
    panic), so on failure every data file of the workspace's tables is
    checked and the first unreadable one is named in the error.
    """
    try:
        return lazy.collect()
    except (OSError, pl.exceptions.PolarsError, pl.exceptions.PanicException, DeltaError) as exc:
        bad = find_unreadable_files(workspace) if workspace is not None else []
        if bad:
            file, reason = bad[0]
            msg = (
                f"cannot read data file {file!r}: {reason.rstrip('.')}.\n{REPAIR_HINT}"
            )
            raise StorageError(msg) from exc
        raise _storage_error("cannot read the workspace tables", None, exc) from exc


def quarantine_unreadable_files(workspace: Workspace) -> list[dict[str, str]]:
    """Move every unreadable data file out of its table and drop it from the table's log.

    Each damaged file is moved to ``<workspace>/quarantine/<table>/`` (kept so
    that it can still be inspected or recovered by hand), then
    ``DeltaTable.repair()`` removes the missing file from the log. The rows of
    those files are no longer in the table. Files listed in the log but
    already missing are dropped the same way. Returns one dict per file with
    ``table``, ``file``, ``reason`` and ``moved_to`` (empty when the file was
    missing).
    """
    report: list[dict[str, str]] = []
    tables: set[str] = set()
    for file, reason in find_unreadable_files(workspace):
        path = Path(file)
        table = path.parent.name
        moved_to = ""
        if path.exists():
            target_dir = workspace.path / QUARANTINE_DIR / table
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / path.name
            shutil.move(str(path), target)
            moved_to = str(target)
        tables.add(table)
        report.append({"table": table, "file": file, "reason": reason, "moved_to": moved_to})
        logger.warning("quarantined unreadable file %s of table %s: %s", file, table, reason)
    for table in sorted(tables):
        path = workspace.table_path(table)
        try:
            DeltaTable(str(path)).repair()
        except (DeltaError, OSError) as exc:
            raise _storage_error(f"cannot repair table {table!r}", path, exc) from exc
    return report


def find_unreadable_files(workspace: Workspace) -> list[tuple[str, str]]:
    """Return (path, reason) for each data file of the tables that cannot be read.

    Only the Parquet footer is read, so this is cheap even for large tables.
    A file listed in the Delta log but missing on disk is reported too.
    """
    import pyarrow.parquet as pq

    problems: list[tuple[str, str]] = []
    for name in SCHEMAS:
        path = workspace.table_path(name)
        if not (path / "_delta_log").is_dir():
            continue
        try:
            uris = DeltaTable(str(path)).file_uris()
        except (DeltaError, OSError) as exc:
            problems.append((str(path / "_delta_log"), _first_line(str(exc))))
            continue
        for uri in uris:
            file = uri.removeprefix("file://")
            try:
                pq.read_metadata(file)
            except FileNotFoundError:
                problems.append((file, "the file is listed in the table log but missing"))
            except (OSError, ValueError) as exc:
                problems.append((file, _first_line(str(exc))))
    return problems


def table_version(workspace: Workspace, table: str) -> int | None:
    """Return the current Delta version of `table`, or None if it does not exist."""
    path = workspace.table_path(table)
    if not (path / "_delta_log").is_dir():
        return None
    try:
        return DeltaTable(str(path)).version()
    except (TableNotFoundError, DeltaError, OSError) as exc:
        raise _storage_error(f"cannot open table {table!r}", path, exc) from exc


def compact_tables(workspace: Workspace) -> dict[str, dict[str, int]]:
    """Compact small files and write a log checkpoint for every table.

    Returns, per table, the number of files added and removed by compaction
    and the version checkpointed. Readers keep working while it runs because
    compaction is an ordinary Delta commit.
    """
    report: dict[str, dict[str, int]] = {}
    for name in SCHEMAS:
        path = workspace.table_path(name)
        if not (path / "_delta_log").is_dir():
            continue
        try:
            table = DeltaTable(str(path))
            metrics = table.optimize.compact(commit_properties=_commit_properties())
            table = DeltaTable(str(path))
            table.create_checkpoint()
            table.cleanup_metadata()
        except (DeltaError, OSError) as exc:
            raise _storage_error(f"cannot compact table {name!r}", path, exc) from exc
        report[name] = {
            "files_added": int(metrics.get("numFilesAdded", 0)),
            "files_removed": int(metrics.get("numFilesRemoved", 0)),
            "version": table.version(),
        }
        logger.info("compacted %s: %s", path, report[name])
    return report


def _schema(table: str) -> pl.Schema:
    try:
        return SCHEMAS[table]
    except KeyError:
        msg = f"unknown table {table!r}; the tables are {', '.join(SCHEMAS)}"
        raise InvalidInputError(msg) from None


def _conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Fill defaults and ids, check required columns, and order columns as the schema."""
    schema = _schema(table)
    unknown = [name for name in frame.columns if name not in schema]
    if unknown:
        raise InvalidInputError(f"unknown column {unknown[0]!r} for table {table!r}")

    now = datetime.now(UTC)
    fills: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            fills.append(pl.lit(None, dtype=dtype).alias(name))
    frame = frame.with_columns(fills)

    if frame.height == 0:
        return frame.select(schema.names()).cast(dict(schema))

    defaults = {"recorded_at": now, **_DEFAULTS.get(table, {})}
    exprs = []
    for name, value in defaults.items():
        dtype = schema[name]
        exprs.append(pl.col(name).fill_null(pl.lit(value, dtype=dtype)).alias(name))
    if "id" in schema:
        ids = pl.Series("id", [uuid.uuid4().hex for _ in range(frame.height)], dtype=pl.String)
        exprs.append(pl.col("id").fill_null(ids))
    frame = frame.with_columns(exprs)

    try:
        frame = frame.select(schema.names()).cast(dict(schema), strict=True)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInputError(f"rows do not match the schema of table {table!r}: {exc}") from exc

    for name in REQUIRED_COLUMNS.get(table, ()):
        missing = frame.get_column(name).null_count()
        if missing:
            msg = f"{missing} row(s) lack the required column {name!r} of table {table!r}"
            raise InvalidInputError(msg)
    return frame


def _align(lazy: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """Select the declared columns, adding as null those an older table lacks."""
    present = lazy.collect_schema()
    columns = [
        pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return lazy.select(columns)


def _create_table(workspace: Workspace, name: str, schema: pl.Schema) -> None:
    path = workspace.table_path(name)
    if (path / "_delta_log").is_dir() and any((path / "_delta_log").glob("*.json")):
        return
    empty = pl.DataFrame(schema=schema).to_arrow()
    try:
        write_deltalake(str(path), empty, mode="ignore")
    except CommitFailedError:
        # Another process created the table between the check and the commit.
        logger.debug("table %s was created concurrently", path)
    except (DeltaError, OSError) as exc:
        if _table_exists(path):
            return
        raise _storage_error(f"cannot create table {name!r}", path, exc) from exc


def _table_exists(path: Any) -> bool:
    try:
        DeltaTable(str(path))
    except (TableNotFoundError, DeltaError, OSError):
        return False
    return True


def _commit_properties() -> Any:
    from deltalake import CommitProperties

    return CommitProperties(max_commit_retries=MAX_COMMIT_RETRIES)


_PARQUET_FILE = re.compile(r"([\w.-]+\.parquet)")
_NOT_WRITABLE = ("Permission denied", "Operation not permitted", "Read-only file system")


def _storage_error(action: str, path: Any, exc: BaseException) -> StorageError:
    """Build a StorageError that names the table folder and, if known, the bad file."""
    text = str(exc)
    if isinstance(exc, PermissionError) or any(marker in text for marker in _NOT_WRITABLE):
        hint = "Hint: make the workspace writable or choose another with --workspace."
        return StorageError(f"{action}: permission denied at {str(path)!r}.\n{hint}")
    match = _PARQUET_FILE.search(text)
    where = f" at {str(path)!r}" if path is not None else ""
    if match:
        msg = (
            f"{action}{where}: data file {match.group(1)!r} cannot be read ({_first_line(text)}).\n"
            f"{REPAIR_HINT}"
        )
        return StorageError(msg)
    return StorageError(f"{action}{where}: {_first_line(text)}")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line[:500]
