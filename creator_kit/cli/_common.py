"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from creator_kit.storage import WORKSPACE_ENV, Workspace, resolve_workspace

__all__ = ["add_json_option", "add_workspace_option", "print_json", "workspace_from_args"]


def add_workspace_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--workspace DIR`` to a subcommand."""
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        help=f"workspace folder (default: ${WORKSPACE_ENV}, else data/workspace of the checkout)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` to a subcommand."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def workspace_from_args(args: argparse.Namespace) -> Workspace:
    """Resolve the workspace chosen by ``--workspace`` or the environment."""
    return resolve_workspace(getattr(args, "workspace", None))


def print_json(value: Any) -> None:
    """Print `value` as indented JSON, with datetimes in ISO 8601."""
    json.dump(value, sys.stdout, indent=2, default=_json_default, ensure_ascii=False)
    sys.stdout.write("\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")
