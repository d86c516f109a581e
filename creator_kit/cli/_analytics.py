"""The ``analytics`` subcommand: the whole analytics report of a time range."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from creator_kit.analytics import RANGE_CHOICES, analytics_report, data_extent, parse_range
from creator_kit.cli._common import add_json_option, add_workspace_option, print_json, workspace_from_args

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``analytics``."""
    parser = subparsers.add_parser(
        "analytics",
        help="print the analytics report: requests, success rate, latency, daily trends, cost",
        description="Compute the numbers of the Analytics page for a time range. Latency is the "
        "time to first token of successful runs; costs are estimates in USD, and a model no "
        "price source knows is counted as 'price unknown', never as 0.",
    )
    parser.add_argument(
        "--range",
        choices=RANGE_CHOICES,
        default="7d",
        help="time range ending now (default: 7d); --since/--until replace it",
    )
    parser.add_argument("--since", metavar="DATE", help="start of a custom range, e.g. 2026-01-01 (UTC)")
    parser.add_argument("--until", metavar="DATE", help="end of a custom range, inclusive for a plain date (UTC)")
    add_workspace_option(parser)
    add_json_option(parser)
    parser.set_defaults(func=run_analytics)


def run_analytics(args: argparse.Namespace) -> int:
    """Print the report as JSON or as readable text."""
    now = datetime.now(UTC)
    time_range = parse_range(args.range, since=args.since, until=args.until, now=now)
    workspace = workspace_from_args(args)
    report = analytics_report(workspace, time_range, now=now)
    if args.json:
        print_json(report)
        return 0

    print(f"Analytics of {workspace.path} ({_range_text(time_range.label, time_range.since, time_range.until)})")
    if report["summary"]["total_requests"] == 0:
        extent = data_extent(workspace)
        if extent is None:
            print("No generations recorded yet.")
        else:
            print(
                f"No generations in this range; the workspace has them from {extent[0]:%Y-%m-%d} "
                f"to {extent[1]:%Y-%m-%d}. Try --range all."
            )
        return 0
    _print_report(report)
    return 0


def _print_report(report: dict[str, Any]) -> None:
    summary = report["summary"]
    print()
    print(f"  requests        {summary['total_requests']:,}")
    print(f"  success rate    {_percent(summary['success_rate'])}")
    print(f"  mean TTFT       {_ms(summary['avg_ttft_ms'])}")
    print(f"  abort rate      {_percent(summary['abort_rate'])}")

    print("\nModel performance (TTFT of successful runs)")
    rows = [
        (
            row["provider"] or "-",
            row["model"] or "-",
            f"{row['requests']:,}",
            _percent(row["success_rate"]),
            _ms(row["avg_ttft_ms"]),
            _ms(row["p50_ttft_ms"]),
            _ms(row["p95_ttft_ms"]),
        )
        for row in report["models"]
    ]
    _print_table(("provider", "model", "requests", "success", "mean", "p50", "p95"), rows)

    print("\nTTFT distribution (successful runs)")
    total = sum(row["count"] for row in report["latency_histogram"]) or 1
    for row in report["latency_histogram"]:
        bar = "#" * round(40 * row["count"] / total)
        print(f"  {row['bucket']:>11s} {row['count']:>10,}  {bar}")

    print("\nDaily trends (UTC)")
    daily = [
        (row["date"], f"{row['requests']:,}", f"{row['tokens']:,}", _ms(row["avg_ttft_ms"])) for row in report["daily"]
    ]
    _print_table(("date", "requests", "tokens", "mean TTFT"), daily)

    cost = report["cost"]
    print("\nCost (estimated)")
    video = _usd(cost["video_usd"]) if cost["video_jobs"] else "no video jobs"
    print(f"  period          {_usd(cost['period_usd'])} (text {_usd(cost['text_usd'])}, video {video})")
    print(f"  per 1K tokens   {_usd(cost['per_1k_tokens_usd'], digits=5)}")
    print(f"  monthly (30 d)  {_usd(cost['monthly_projection_usd'])}")
    if cost["unpriced_requests"]:
        print(f"  price unknown   {cost['unpriced_requests']:,} requests are not in the total")
    models = [
        (
            row["provider"] or "-",
            row["model"] or "-",
            f"{row['requests']:,}",
            _usd(row["cost_usd"]),
            row["price_source"],
        )
        for row in cost["by_model"]
    ]
    _print_table(("provider", "model", "requests", "cost", "price source"), models)


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _range_text(label: str, since: datetime | None, until: datetime | None) -> str:
    if label != "custom":
        return "all time" if label == "all" else f"last {label}"
    start = f"{since:%Y-%m-%d %H:%M}" if since else "the start"
    end = f"{until:%Y-%m-%d %H:%M}" if until else "now"
    return f"{start} to {end} UTC"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _usd(value: float | None, *, digits: int = 2) -> str:
    return "price unknown" if value is None else f"${value:,.{digits}f}"
