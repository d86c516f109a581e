"""creator_kit: record, measure and analyse AI generations from notebooks.

The package is split by concept: `creator_kit.storage` (workspaces and Delta
tables), `creator_kit.providers` (text generation), `creator_kit.jobs`
(video jobs), `creator_kit.analytics` (queries, prices, charts),
`creator_kit.templates` (the prompt library) and `creator_kit.ui`
(ipywidgets dashboards). Only `creator_kit.ui` imports ipywidgets.
"""

from __future__ import annotations

from creator_kit.errors import (
    CreatorKitError,
    ImportRowError,
    InvalidInputError,
    JobError,
    ProviderError,
    RateLimitError,
    StorageError,
)

__all__ = [
    "CreatorKitError",
    "ImportRowError",
    "InvalidInputError",
    "JobError",
    "ProviderError",
    "RateLimitError",
    "StorageError",
    "__version__",
]

__version__ = "0.1.0"
