"""Import generations from real traces and table files.

`import_files` reads LLMPerf leaderboard results, the Azure LLM inference
trace, or CSV / JSON Lines files with the columns of the ``generations``
table, and appends them to a workspace. `seed_workspace` fills a new
workspace with the traces shipped in ``data/traces``.
"""

from __future__ import annotations

from creator_kit.importers._core import IMPORT_FORMATS, import_files
from creator_kit.importers._report import ImportReport
from creator_kit.importers._seed import SHIPPED_TRACES, seed_workspace

__all__ = ["IMPORT_FORMATS", "SHIPPED_TRACES", "ImportReport", "import_files", "seed_workspace"]
