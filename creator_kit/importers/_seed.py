"""Fill a new workspace with the public traces shipped in ``data/traces``."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from creator_kit.errors import InvalidInputError
from creator_kit.importers._core import import_files
from creator_kit.importers._report import ImportReport
from creator_kit.storage import Workspace, collect, resolve_workspace, scan_table

__all__ = ["SHIPPED_TRACES", "seed_workspace"]

logger = logging.getLogger(__name__)

# data/traces of the source checkout; the package lives in <checkout>/creator_kit.
SHIPPED_TRACES = Path(__file__).resolve().parents[2] / "data" / "traces"


def seed_workspace(
    workspace: Workspace | str | os.PathLike[str],
    *,
    traces_dir: Path | None = None,
    now: datetime | None = None,
) -> ImportReport | None:
    """Import the shipped traces into `workspace` if it has no generations yet.

    Imports the LLMPerf leaderboard per-request files and the Azure LLM
    inference trace (code service) with ``shift_to_now``, so the dashboards
    of a fresh install show recent, real data. A workspace that already has
    generations is left as it is.

    Parameters
    ----------
    workspace
        The workspace to fill, or its folder.
    traces_dir
        Folder holding ``llmperf_leaderboard/`` and ``azure_llm_trace_2023/``;
        ``data/traces`` of the checkout by default.
    now
        The time the newest imported row is moved to; the clock's by default.

    Returns
    -------
    ImportReport or None
        What was imported, or None when the workspace already had generations.

    Raises
    ------
    InvalidInputError
        If the trace files are not found.
    StorageError
        If the workspace cannot be read or written.
    """
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    if _has_generations(workspace):
        logger.info("workspace %s already has generations; not seeding it", workspace.path)
        return None

    folder = traces_dir or SHIPPED_TRACES
    llmperf = sorted((folder / "llmperf_leaderboard" / "individual").glob("*.json"))
    azure = folder / "azure_llm_trace_2023" / "AzureLLMInferenceTrace_code.csv"
    if not llmperf or not azure.is_file():
        msg = (
            f"the shipped traces are missing from {str(folder)!r} "
            "(expected llmperf_leaderboard/individual/*.json and "
            "azure_llm_trace_2023/AzureLLMInferenceTrace_code.csv).\n"
            "Hint: run from a full checkout of the repository, or import your own files "
            "with creator-kit import."
        )
        raise InvalidInputError(msg)

    now = now or datetime.now(UTC)
    report = import_files(workspace, llmperf, format="llmperf", shift_to_now=True, now=now)
    report = report.merge(import_files(workspace, [azure], format="azure-trace", shift_to_now=True, now=now))
    logger.info("seeded workspace %s with %d generations", workspace.path, report.imported)
    return report


def _has_generations(workspace: Workspace) -> bool:
    lazy = scan_table(workspace, "generations").select("id").head(1)
    return collect(lazy, workspace=workspace).height > 0
