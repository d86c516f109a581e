"""The Settings page (placeholder until the section is built)."""

from __future__ import annotations

import os

from creator_kit.storage import Workspace
from creator_kit.ui._frame import PageFrame, placeholder_page

__all__ = ["settings_page"]


def settings_page(
    workspace: Workspace | str | os.PathLike[str] | None = None, *, theme: str | None = None
) -> PageFrame:
    """Return the Settings page: the shared frame and a "being built" notice."""
    return placeholder_page("settings", "Settings", theme=theme)
