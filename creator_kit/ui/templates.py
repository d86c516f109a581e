"""The Templates page (placeholder until the section is built)."""

from __future__ import annotations

import os

from creator_kit.storage import Workspace
from creator_kit.ui._frame import PageFrame, placeholder_page

__all__ = ["templates_page"]


def templates_page(
    workspace: Workspace | str | os.PathLike[str] | None = None, *, theme: str | None = None
) -> PageFrame:
    """Return the Templates page: the shared frame and a "being built" notice."""
    return placeholder_page("templates", "Templates", theme=theme)
