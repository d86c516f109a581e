"""Reading an input file and collecting its rows and rejected rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from creator_kit.errors import ImportRowError, InvalidInputError

__all__ = ["ImportOptions", "ParsedFile", "read_source"]


@dataclass(frozen=True)
class ImportOptions:
    """Provider, model and run time given on the command line; they override the file's values."""

    provider: str | None = None
    model: str | None = None
    timestamp: datetime | None = None


@dataclass
class ParsedFile:
    """Rows read from one file, each with its line, and the rows rejected."""

    path: Path
    digest: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)

    def add(self, line: int, row: dict[str, Any]) -> None:
        """Keep a valid row read at `line`."""
        self.rows.append((line, row))

    def reject(self, line: int, reason: str) -> None:
        """Record that the row at `line` (or the whole file) was rejected."""
        self.errors.append(ImportRowError(str(self.path), line, reason))


def read_source(path: Path) -> tuple[ParsedFile, str | None]:
    """Read `path` as UTF-8 text and hash its bytes.

    Returns the empty `ParsedFile` and the text, or None as the text when the
    file is empty or not UTF-8 (the reason is recorded as a file error).

    Raises
    ------
    InvalidInputError
        If `path` does not exist, is a folder, or cannot be read.
    """
    if path.is_dir():
        msg = f"{str(path)!r} is a folder; pass the files in it, e.g. {str(path / '*.json')!r}"
        raise InvalidInputError(msg)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"file {str(path)!r} not found; check the path") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read file {str(path)!r}: {exc.strerror}") from exc

    parsed = ParsedFile(path=path, digest=hashlib.sha256(data).hexdigest())
    if not data.strip():
        parsed.reject(1, "the file is empty; nothing was imported from it")
        return parsed, None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        parsed.reject(line, f"the file is not UTF-8 text (invalid byte at offset {exc.start})")
        return parsed, None
    return parsed, text
