"""Data subcommands: ``import``, ``stats``, ``compact``, ``repair`` and ``seed``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from creator_kit.analytics._overview import overview_stats
from creator_kit.analytics._range import RANGE_CHOICES, parse_range
from creator_kit.cli._common import add_json_option, add_workspace_option, print_json, workspace_from_args
from creator_kit.importers import IMPORT_FORMATS, ImportReport, import_files, seed_workspace
from creator_kit.storage import compact_tables, quarantine_unreadable_files

__all__ = ["register"]

# Errors listed by a readable import summary; --json lists them all.
MAX_LISTED_ERRORS = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``import``, ``stats``, ``compact``, ``repair`` and ``seed``."""
    _register_import(subparsers)
    _register_stats(subparsers)

    compact = subparsers.add_parser(
        "compact",
        help="compact small files and checkpoint the log of every table",
        description="Rewrite the small Parquet files of each table into larger ones and write a "
        "Delta log checkpoint. Readers keep working while it runs.",
    )
    add_workspace_option(compact)
    add_json_option(compact)
    compact.set_defaults(func=run_compact)

    repair = subparsers.add_parser(
        "repair",
        help="move unreadable data files out of the tables so that they open again",
        description="Check the footer of every data file of every table. Each file that cannot be "
        "read is moved to <workspace>/quarantine/<table>/ and dropped from its table's log, so "
        "the table opens again without the rows of that file.",
    )
    add_workspace_option(repair)
    add_json_option(repair)
    repair.set_defaults(func=run_repair)

    seed = subparsers.add_parser(
        "seed",
        help="fill an empty workspace with the shipped public traces",
        description="Import the LLMPerf leaderboard and Azure trace files of data/traces with "
        "their times moved so that the newest row is now. A workspace that already has "
        "generations is left as it is.",
    )
    add_workspace_option(seed)
    add_json_option(seed)
    seed.set_defaults(func=run_seed)


def run_import(args: argparse.Namespace) -> int:
    """Import the files; exit status 1 when any row was rejected."""
    report = import_files(
        workspace_from_args(args),
        args.paths,
        format=args.format,
        provider=args.provider,
        model=args.model,
        timestamp=args.timestamp,
        shift_to_now=args.shift_to_now,
    )
    if args.json:
        print_json(report.to_dict())
    else:
        _print_import_report(report, files=len(args.paths))
    return 1 if report.rejected else 0


def run_stats(args: argparse.Namespace) -> int:
    """Print the overview numbers for the chosen time range."""
    now = datetime.now(UTC)
    time_range = parse_range(args.range, since=args.since, until=args.until, now=now)
    workspace = workspace_from_args(args)
    stats = overview_stats(workspace, time_range, now=now)
    if args.json:
        print_json(stats)
    else:
        _print_stats(stats, label=time_range.label, workspace=str(workspace.path))
    return 0


def run_compact(args: argparse.Namespace) -> int:
    """Compact every table of the workspace."""
    workspace = workspace_from_args(args)
    report = compact_tables(workspace)
    if args.json:
        print_json(report)
        return 0
    if not report:
        print(f"No tables in {workspace.path}; nothing to compact.")
    for table, numbers in report.items():
        print(
            f"{table}: {numbers['files_removed']} files compacted into {numbers['files_added']}, "
            f"checkpoint at version {numbers['version']}"
        )
    return 0


def run_repair(args: argparse.Namespace) -> int:
    """Quarantine the unreadable data files of every table."""
    workspace = workspace_from_args(args)
    report = quarantine_unreadable_files(workspace)
    if args.json:
        print_json({"quarantined": report})
        return 0
    if not report:
        print(f"Every data file in {workspace.path} is readable; nothing to repair.")
    for entry in report:
        where = f"moved to {entry['moved_to']}" if entry["moved_to"] else "was already missing"
        print(f"{entry['table']}: dropped {entry['file']} ({entry['reason']}); {where}")
    return 0


def run_seed(args: argparse.Namespace) -> int:
    """Seed the workspace with the shipped traces if it has no generations."""
    workspace = workspace_from_args(args)
    report = seed_workspace(workspace)
    if args.json:
        print_json({"seeded": report is not None, **(report.to_dict() if report else {})})
        return 0
    if report is None:
        print(f"Workspace {workspace.path} already has generations; nothing was imported.")
        return 0
    print(
        f"Seeded workspace {workspace.path} with {report.imported} generations from the shipped "
        "LLMPerf leaderboard and Azure LLM inference traces (times moved so the newest is now)."
    )
    return 1 if report.rejected else 0


def _register_import(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import generations from trace, CSV or JSON Lines files",
        description="Import real traces or table files into the generations table. Bad rows are "
        "rejected with their file, line and reason while good rows are imported; the exit "
        "status is 1 when any row was rejected. Importing the same file again adds nothing.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
    parser.add_argument(
        "--format",
        required=True,
        choices=IMPORT_FORMATS,
        help="llmperf: LLMPerf leaderboard per-request JSON; azure-trace: Azure LLM inference "
        "trace CSV; csv / jsonl: columns named as in the generations table",
    )
    parser.add_argument(
        "--provider", help="provider name (default: the file-name prefix, or azure-trace)"
    )
    parser.add_argument(
        "--model",
        help="model name (default: from the LLMPerf summary file, or the Azure service name)",
    )
    parser.add_argument(
        "--timestamp",
        metavar="ISO",
        help="end time of an LLMPerf run, e.g. 2023-12-21T05:20:16Z; no offset means UTC "
        "(default: from the run's summary file)",
    )
    parser.add_argument(
        "--shift-to-now",
        action="store_true",
        help="move all times by one offset so that the newest row is now, keeping the gaps",
    )
    add_workspace_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run_import)


def _register_stats(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="print the overview numbers of the workspace",
        description="Print total generations, success rate, average time to first token, "
        "tokens used today, the most used model, the recent projects and the daily quota.",
    )
    parser.add_argument(
        "--range", default="7d", choices=RANGE_CHOICES, help="time range (default: 7d)"
    )
    parser.add_argument("--since", metavar="DATE", help="start date or ISO time (overrides --range)")
    parser.add_argument(
        "--until", metavar="DATE", help="end date, inclusive for a plain date (overrides --range)"
    )
    add_workspace_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run_stats)


def _print_import_report(report: ImportReport, *, files: int) -> None:
    print(
        f"Imported {report.imported} rows from {files} file(s); "
        f"{report.duplicates} duplicates skipped; {report.rejected} rejected."
    )
    for entry in report.errors[:MAX_LISTED_ERRORS]:
        print(f"  {entry['file']}:{entry['line']}: {entry['reason']}")
    hidden = len(report.errors) - MAX_LISTED_ERRORS
    if hidden > 0:
        print(f"  ... and {hidden} more; use --json to list them all.")


def _print_stats(stats: dict[str, Any], *, label: str, workspace: str) -> None:
    quota = stats["daily_quota"]
    rows = [
        ("Total generations", f"{stats['total_generations']:,}"),
        ("Success rate", _percent(stats["success_rate"])),
        ("Avg time to first token", _milliseconds(stats["avg_ttft_ms"])),
        ("Tokens today (UTC)", f"{stats['tokens_today']:,}"),
        ("Most used model", stats["most_used_model"] or "-"),
        ("Daily quota", f"{quota['used']:,} of {quota['limit']:,} used, {quota['remaining']:,} left"),
    ]
    print(f"Overview of {workspace} ({label})")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")

    print("Recent projects:")
    if not stats["recent_projects"]:
        print("  none in this range")
    for project in stats["recent_projects"]:
        created = project["created_at"].strftime("%Y-%m-%d %H:%M UTC") if project["created_at"] else "-"
        title = project["title"] or project["id"]
        print(f"  {created}  {project['status'] or '-':<8} {project['model'] or '-'}  {title}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"
