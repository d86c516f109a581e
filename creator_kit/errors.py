"""Exceptions raised by creator_kit.

Every error the package raises on purpose derives from `CreatorKitError`::

    CreatorKitError
    ├── InvalidInputError       a value given by the user or a file is wrong
    │   └── ImportRowError      one row of an imported file is wrong
    ├── StorageError            a workspace or table cannot be read or written
    ├── ProviderError           an AI provider failed or refused a request
    │   └── RateLimitError      the provider returned HTTP 429
    └── JobError                a video job cannot be submitted, polled or downloaded

Messages name the value that failed and, where there is one, the fix.
Errors from lower layers (deltalake, polars, httpx, the openai SDK) are
translated where they enter the package, with the original kept as
``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "CreatorKitError",
    "ImportRowError",
    "InvalidInputError",
    "JobError",
    "ProviderError",
    "RateLimitError",
    "StorageError",
]


class CreatorKitError(Exception):
    """Base class of every error raised by creator_kit."""


class InvalidInputError(CreatorKitError, ValueError):
    """A value given by the user, a setting or an input file is invalid."""


class ImportRowError(InvalidInputError):
    """One row of an imported file is invalid.

    Attributes
    ----------
    file
        Path of the file the row came from.
    line
        1-based line number of the row in that file (for JSON arrays, the
        1-based position of the element).
    reason
        What is wrong with the row.
    """

    def __init__(self, file: str, line: int, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class StorageError(CreatorKitError):
    """A workspace folder or one of its Delta tables cannot be read or written."""


class ProviderError(CreatorKitError):
    """An AI provider failed or refused a request."""


class RateLimitError(ProviderError):
    """An AI provider returned HTTP 429 (too many requests)."""


class JobError(CreatorKitError):
    """A video job cannot be submitted, polled, downloaded or cancelled."""
