"""``creator-kit projects``: the rows the Projects page shows, as text or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from creator_kit.cli._common import add_json_option, add_workspace_option, print_json, workspace_from_args
from creator_kit.gallery import DEFAULT_LIMIT, MAX_LIMIT, SORTS, STATUS_CHOICES, ProjectPage, query_projects

__all__ = ["register"]

_TITLE_WIDTH = 40


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``creator-kit projects``."""
    parser = subparsers.add_parser(
        "projects",
        help="list projects (generations) as the Projects page does",
        description=(
            "List the workspace's projects, one per generation in its latest state, with the "
            "filters, search, sort and paging of the Projects page. Archived projects are left "
            "out unless --archived is given."
        ),
    )
    parser.add_argument(
        "--status",
        type=_status_choice,
        choices=STATUS_CHOICES,
        default="all",
        help="keep projects with this status (default: all); 'success' is accepted for 'successful'",
    )
    parser.add_argument("--tag", metavar="T", help="keep projects with this tag (case-insensitive)")
    parser.add_argument(
        "--search", metavar="Q", help="words that must each occur in the title, prompt or output (case-insensitive)"
    )
    parser.add_argument(
        "--sort",
        choices=SORTS,
        default="date",
        help="order by creation date, time to first token, or prompt + completion tokens (default: date)",
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        "--desc", dest="descending", action="store_true", default=True, help="largest first (the default)"
    )
    order.add_argument("--asc", dest="descending", action="store_false", help="smallest (oldest, fastest) first")
    parser.add_argument("--archived", action="store_true", help="include archived projects")
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, metavar="N", help=f"rows per page, 1 to {MAX_LIMIT} (default: {DEFAULT_LIMIT})"
    )
    parser.add_argument("--offset", type=int, default=0, metavar="N", help="matches to skip (default: 0)")
    add_workspace_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=_run)


def _status_choice(value: str) -> str:
    """Map the stored status name 'success' to the filter name 'successful' before argparse checks choices."""
    value = value.strip().lower()
    return "successful" if value == "success" else value


def _run(args: argparse.Namespace) -> int:
    page = query_projects(
        workspace_from_args(args),
        status=args.status,
        tag=args.tag,
        search=args.search,
        sort=args.sort,
        descending=args.descending,
        include_archived=args.archived,
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        print_json(
            {"total": page.total, "offset": page.offset, "limit": page.limit, "rows": page.rows.to_dicts()}
        )
    else:
        print(_format_table(page))
    return 0


def _format_table(page: ProjectPage) -> str:
    header = ("ID", "CREATED", "STATUS", "PROVIDER/MODEL", "TOKENS IN+OUT", "TTFT", "TITLE", "TAGS")
    lines = [header]
    for row in page.rows.iter_rows(named=True):
        lines.append(_table_row(row))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header) - 1)]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in lines
    ]
    first = page.offset + 1 if page.rows.height else page.offset
    text.append(f"Showing {first:,}-{page.offset + page.rows.height:,} of {page.total:,} projects")
    return "\n".join(line.rstrip() for line in text)


def _table_row(row: dict[str, Any]) -> tuple[str, ...]:
    created = row["created_at"].strftime("%Y-%m-%d %H:%M") if row["created_at"] else "-"
    status = row["status"] + (" (archived)" if row["archived"] else "")
    model = f"{row['provider']}/{row['model']}"
    if row["failover_from"]:
        model += f" (failover from {row['failover_from']})"
    tokens = f"{_count(row['prompt_tokens'])}+{_count(row['completion_tokens'])}"
    ttft = "-" if row["ttft_ms"] is None else f"{row['ttft_ms']:.0f} ms"
    title = " ".join((row["title"] or "").split()) or "(untitled)"
    if len(title) > _TITLE_WIDTH:
        title = title[: _TITLE_WIDTH - 1] + "\u2026"
    tags = ", ".join(row["tags"] or [])
    return (row["id"], created, status, model, tokens, ttft, title, tags)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
