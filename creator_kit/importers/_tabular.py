"""CSV and JSON Lines files whose columns are those of the generations table.

A file names its columns as the ``generations`` schema does. ``created_at``,
``provider``, ``model`` and ``status`` are required; the others may be left
out or empty. ``recorded_at``, ``source`` and ``source_key`` are always set by
the import, so values of those columns in the file are ignored. An unknown
column is an error that names it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from creator_kit.importers._files import ImportOptions, ParsedFile
from creator_kit.importers._values import (
    BadValue,
    parse_bool,
    parse_float,
    parse_tags,
    parse_time,
    parse_whole_number,
)
from creator_kit.storage import GENERATION_STATUSES, REQUIRED_COLUMNS, SCHEMAS

__all__ = ["IGNORED_COLUMNS", "parse_csv", "parse_jsonl", "read_csv_records"]

logger = logging.getLogger(__name__)

SCHEMA = SCHEMAS["generations"]

IGNORED_COLUMNS = ("recorded_at", "source", "source_key")

REQUIRED = REQUIRED_COLUMNS["generations"]


def parse_csv(parsed: ParsedFile, text: str, options: ImportOptions) -> None:
    """Read the rows of one CSV file into `parsed`; empty cells are null."""
    records = read_csv_records(parsed, text, columns=tuple(SCHEMA.names()), required=REQUIRED)
    if records is None:
        return
    _add_rows(parsed, records, options, empty_is_null=True)


def parse_jsonl(parsed: ParsedFile, text: str, options: ImportOptions) -> None:
    """Read the rows of one JSON Lines file (one JSON object a line) into `parsed`."""
    records: list[tuple[int, dict[str, Any]]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            parsed.reject(line, f"malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            parsed.reject(line, f"expected a JSON object, got {type(record).__name__} {raw.strip()[:40]!r}")
            continue
        unknown = [key for key in record if key not in SCHEMA]
        if unknown:
            parsed.reject(line, _unknown_column_reason(unknown[0]))
            continue
        records.append((line, record))

    if not records and not parsed.errors:
        parsed.reject(1, "the file holds no rows; there is nothing to import")
        return
    _add_rows(parsed, records, options, empty_is_null=False)


def read_csv_records(
    parsed: ParsedFile,
    text: str,
    *,
    columns: tuple[str, ...],
    required: Iterable[str],
) -> list[tuple[int, dict[str, str]]] | None:
    """Split CSV `text` into (line, {column: cell}) records after checking the header.

    Returns None, with the reason recorded as a file error, when the header
    has an unknown, duplicated or missing column or no row follows it.
    Each record's line is the physical line where it starts.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        parsed.reject(1, f"malformed CSV header: {exc}")
        return None

    for name in header:
        if name not in columns:
            parsed.reject(1, _unknown_column_reason(name, columns))
            return None
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        parsed.reject(1, f"the header names column {duplicated[0]!r} more than once")
        return None
    missing = [name for name in required if name not in header]
    if missing:
        parsed.reject(1, f"missing required column {missing[0]!r}; the header is {','.join(header)}")
        return None

    records: list[tuple[int, dict[str, str]]] = []
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.reject(previous_end + 1, f"malformed CSV: {exc}")
            return None
        line, previous_end = previous_end + 1, reader.line_num
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            parsed.reject(line, f"the row has {len(cells)} fields but the header has {len(header)}")
            continue
        records.append((line, dict(zip(header, cells, strict=True))))

    if not records and not parsed.errors:
        parsed.reject(1, "the file has a header but no rows; there is nothing to import")
        return None
    return records


def _add_rows(
    parsed: ParsedFile,
    records: list[tuple[int, dict[str, Any]]],
    options: ImportOptions,
    *,
    empty_is_null: bool,
) -> None:
    ignored = sorted({name for _, record in records for name in record if name in IGNORED_COLUMNS})
    if ignored:
        logger.info("%s: columns %s are set by the import; the file's values are ignored", parsed.path, ignored)

    for line, record in records:
        try:
            row = _row(record, options, empty_is_null=empty_is_null)
        except BadValue as exc:
            parsed.reject(line, str(exc))
            continue
        parsed.add(line, row)


def _row(record: dict[str, Any], options: ImportOptions, *, empty_is_null: bool) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in record.items():
        if name in IGNORED_COLUMNS:
            continue
        if value is None or (empty_is_null and isinstance(value, str) and value.strip() == ""):
            row[name] = None
            continue
        row[name] = _converter(SCHEMA[name])(value, name)

    if options.provider:
        row["provider"] = options.provider
    if options.model:
        row["model"] = options.model
    for name in REQUIRED:
        if row.get(name) is None:
            raise BadValue(f"missing required field {name!r}")
    if row["status"] not in GENERATION_STATUSES:
        raise BadValue(f"status {row['status']!r} is not one of {', '.join(GENERATION_STATUSES)}")
    return row


def _converter(dtype: pl.DataType) -> Callable[[Any, str], Any]:
    if dtype == pl.String:
        return _parse_text
    if isinstance(dtype, pl.Datetime):
        return parse_time
    if dtype == pl.Int64:
        return parse_whole_number
    if dtype == pl.Float64:
        return parse_float
    if dtype == pl.Boolean:
        return parse_bool
    if isinstance(dtype, pl.List):
        return parse_tags
    raise TypeError(f"no import converter for column type {dtype}")


def _parse_text(value: Any, column: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadValue(f"{column} {value!r} is not text")


def _unknown_column_reason(name: str, columns: Iterable[str] = tuple(SCHEMA.names())) -> str:
    return f"unknown column {name!r}; the columns are {', '.join(columns)}"
