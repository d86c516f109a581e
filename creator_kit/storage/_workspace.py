"""Workspaces: the folder that holds a user's tables, settings and videos."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creator_kit.errors import InvalidInputError, StorageError

__all__ = [
    "DEFAULT_WORKSPACE",
    "WORKSPACE_ENV",
    "Workspace",
    "default_workspace_path",
    "resolve_workspace",
]

logger = logging.getLogger(__name__)

WORKSPACE_ENV = "CREATOR_KIT_WORKSPACE"

# data/workspace in the source checkout; the package lives in <checkout>/creator_kit.
DEFAULT_WORKSPACE = Path(__file__).resolve().parents[2] / "data" / "workspace"

SETTINGS_FILE = "settings.json"


def default_workspace_path() -> Path:
    """Return the default workspace folder, ``data/workspace`` of the checkout."""
    return DEFAULT_WORKSPACE


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Workspace:
    """Choose the workspace: `path`, then ``$CREATOR_KIT_WORKSPACE``, then the default.

    Parameters
    ----------
    path
        The folder given with ``--workspace`` or by the caller, if any.

    Raises
    ------
    StorageError
        If the chosen path exists and is not a folder.
    """
    if path is None or str(path) == "":
        path = os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
    return Workspace(Path(path))


@dataclass(frozen=True)
class Workspace:
    """A folder with one Delta table per entity, ``settings.json`` and ``videos/``.

    The folder is created on the first write, not when the object is made, so
    that reading an empty or missing workspace has no side effects.
    """

    path: Path

    def __post_init__(self) -> None:
        path = Path(self.path).expanduser().absolute()
        object.__setattr__(self, "path", path)
        if path.exists() and not path.is_dir():
            msg = (
                f"workspace path {str(path)!r} is a file, not a folder.\n"
                f"Hint: pass --workspace with a folder path or set {WORKSPACE_ENV}."
            )
            raise StorageError(msg)

    def table_path(self, name: str) -> Path:
        """Return the folder of table `name`."""
        return self.path / name

    @property
    def videos_dir(self) -> Path:
        """Folder where completed videos are downloaded."""
        return self.path / "videos"

    def ensure_writable(self) -> None:
        """Create the workspace folder if needed and check that it can be written.

        Raises
        ------
        StorageError
            If the folder cannot be created or written.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = (
                f"cannot create workspace folder {str(self.path)!r}: {exc.strerror}.\n"
                "Hint: choose a folder you can write with --workspace."
            )
            raise StorageError(msg) from exc
        if not os.access(self.path, os.W_OK | os.X_OK):
            msg = (
                f"workspace folder {str(self.path)!r} is read-only.\n"
                "Hint: make it writable or choose another folder with --workspace."
            )
            raise StorageError(msg)

    def read_settings(self) -> dict[str, Any]:
        """Return the workspace settings, an empty dict when none were saved.

        Raises
        ------
        StorageError
            If ``settings.json`` exists but is not a JSON object.
        """
        file = self.path / SETTINGS_FILE
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"cannot read {str(file)!r}: {exc.strerror}") from exc
        try:
            settings = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = (
                f"settings file {str(file)!r} is not valid JSON ({exc.msg} at line {exc.lineno}).\n"
                "Hint: fix or delete the file; deleting it restores the defaults."
            )
            raise StorageError(msg) from exc
        if not isinstance(settings, dict):
            raise StorageError(f"settings file {str(file)!r} must contain a JSON object")
        return settings

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Merge `changes` into the settings and save them atomically.

        A value of None removes the key. Returns the new settings.
        """
        for key, value in changes.items():
            try:
                json.dumps(value)
            except TypeError as exc:
                raise InvalidInputError(f"setting {key!r} is not JSON serialisable: {exc}") from exc

        self.ensure_writable()
        settings = self.read_settings()
        for key, value in changes.items():
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = value

        file = self.path / SETTINGS_FILE
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".settings-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(settings, handle, indent=2, sort_keys=True)
            os.replace(tmp, file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        logger.info("saved settings %s of workspace %s", sorted(changes), self.path)
        return settings
