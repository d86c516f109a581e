"""The result of an import: counts and the rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creator_kit.errors import ImportRowError

__all__ = ["ImportReport"]


@dataclass(frozen=True)
class ImportReport:
    """Counts of one import and the reason for each rejected row.

    Attributes
    ----------
    imported
        Rows appended to the ``generations`` table.
    duplicates
        Valid rows skipped because an earlier import already stored them.
    rejected
        Rows rejected, plus files that could not be read at all (each such
        file counts as one). Equal to ``len(errors)``.
    errors
        One ``{"file", "line", "reason"}`` dict per rejected row or file,
        sorted by file, then line. An error about a whole file (line None)
        comes before that file's row errors.
    """

    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_errors(
        cls, *, imported: int, duplicates: int, errors: list[ImportRowError]
    ) -> ImportReport:
        """Build a report from the row errors collected while parsing."""
        entries = _sorted([{"file": e.file, "line": e.line, "reason": e.reason} for e in errors])
        return cls(imported=imported, duplicates=duplicates, rejected=len(entries), errors=entries)

    def merge(self, other: ImportReport) -> ImportReport:
        """Return a report with the counts and errors of both."""
        return ImportReport(
            imported=self.imported + other.imported,
            duplicates=self.duplicates + other.duplicates,
            rejected=self.rejected + other.rejected,
            errors=_sorted([*self.errors, *other.errors]),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as printed by ``creator-kit import --json``."""
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [dict(entry) for entry in self.errors],
        }


def _sorted(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Stable, so that several errors on one line keep the order they were found in.
    return sorted(entries, key=lambda e: (str(e["file"]), e["line"] is not None, e["line"] or 0))
