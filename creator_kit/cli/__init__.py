"""The ``creator-kit`` command line.

Each area registers its subcommands from its own module (``_data.py``,
``_analytics.py``, ...) through a ``register(subparsers)`` function. A
subcommand sets ``func`` on its parser; ``func(args)`` returns the exit
status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from creator_kit import __version__
from creator_kit.errors import CreatorKitError

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

# Modules under creator_kit.cli, each with register(subparsers).
_COMMAND_MODULES = (
    "_data",
    "_analytics",
    "_serve",
    "_providers",
    "_jobs",
    "_templates",
    "_projects",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="creator-kit",
        description="Record, measure and analyse AI generations; serve the Creator Studio dashboards.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more: -v for INFO, -vv for DEBUG"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"creator_kit.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CreatorKitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
