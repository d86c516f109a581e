"""The Generations (video) page (placeholder until the section is built)."""

from __future__ import annotations

import os

from creator_kit.storage import Workspace
from creator_kit.ui._frame import PageFrame, placeholder_page

__all__ = ["generations_page"]


def generations_page(
    workspace: Workspace | str | os.PathLike[str] | None = None, *, theme: str | None = None
) -> PageFrame:
    """Return the Generations (video) page: the shared frame and a "being built" notice."""
    return placeholder_page("generations", "Generations (video)", theme=theme)
