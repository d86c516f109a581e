"""ipywidgets dashboards, one function per Creator Studio section.

Each ``*_page`` function returns a widget; the notebooks under
``notebooks/`` display it. The page modules are imported on first use, so
``import creator_kit.ui`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "analytics_page",
    "create_page",
    "generations_page",
    "overview_page",
    "projects_page",
    "settings_page",
    "templates_page",
]

_PAGE_MODULES = {name: name.removesuffix("_page") for name in __all__}


def __getattr__(name: str) -> Any:
    module = _PAGE_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'creator_kit.ui' has no attribute {name!r}")
    return getattr(importlib.import_module(f"creator_kit.ui.{module}"), name)
