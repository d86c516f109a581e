"""Subcommands of this area; none yet."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register this area's subcommands (none yet)."""
