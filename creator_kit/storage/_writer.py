"""Batched appends flushed off the caller's thread."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from creator_kit.errors import StorageError
from creator_kit.storage._tables import append_rows, frame_from_rows
from creator_kit.storage._workspace import Workspace

__all__ = ["BatchWriter"]

logger = logging.getLogger(__name__)

_open_writers: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


class BatchWriter:
    """Collect rows for one table and append them in batches from a daemon thread.

    `add` only queues a row, so a widget callback or a streaming loop never
    waits for disk. A batch is committed when it reaches `batch_size` rows or
    `interval` seconds after its first row, whichever comes first, and on
    `flush` or `close`. Open writers are flushed when the interpreter exits.
    A process killed with SIGKILL loses the rows not yet committed, never a
    committed one.

    Parameters
    ----------
    workspace
        The workspace to write to.
    table
        The table name, e.g. ``"generations"``.
    batch_size
        Rows per commit at most.
    interval
        Seconds a row may wait before its batch is committed.

    Examples
    --------
    >>> import tempfile
    >>> from creator_kit.storage import BatchWriter, resolve_workspace, scan_table
    >>> ws = resolve_workspace(tempfile.mkdtemp())
    >>> with BatchWriter(ws, "events") as writer:
    ...     writer.add({"kind": "validation"})
    >>> scan_table(ws, "events").collect().height
    1
    """

    def __init__(
        self,
        workspace: Workspace,
        table: str,
        *,
        batch_size: int = 500,
        interval: float = 0.5,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.workspace = workspace
        self.table = table
        self.batch_size = batch_size
        self.interval = interval
        self._pending: list[Mapping[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._last_error: BaseException | None = None
        self._flush_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name=f"creator-kit-writer-{table}", daemon=True
        )
        self._thread.start()
        _open_writers.add(self)

    def add(self, row: Mapping[str, Any]) -> None:
        """Queue one row; it is checked against the schema at once."""
        if self._closed:
            raise StorageError(f"the writer of table {self.table!r} is closed")
        frame_from_rows(self.table, [row])
        with self._lock:
            self._pending.append(row)
            full = len(self._pending) >= self.batch_size
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Commit every queued row now and return how many were written.

        Raises
        ------
        StorageError
            If the commit fails; the rows stay queued for the next try.
        """
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                return append_rows(self.workspace, self.table, batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch
                raise

    def close(self) -> None:
        """Flush the queued rows and stop the background thread."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join()
        self.flush()

    @property
    def pending(self) -> int:
        """Number of rows queued and not yet committed."""
        with self._lock:
            return len(self._pending)

    @property
    def last_error(self) -> BaseException | None:
        """The error of the last failed background flush, if any."""
        return self._last_error

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.flush()
                self._last_error = None
            except Exception as exc:  # the thread must survive to retry the batch
                self._last_error = exc
                logger.error("background flush of table %s failed: %s", self.table, exc)


@atexit.register
def _flush_open_writers() -> None:
    for writer in list(_open_writers):
        try:
            writer.close()
        except Exception as exc:  # at exit no caller is left to raise to
            logger.error("flush of table %s at exit failed: %s", writer.table, exc)
