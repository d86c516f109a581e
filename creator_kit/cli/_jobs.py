"""Video job subcommands: ``jobs submit``, ``list``, ``watch``, ``download`` and ``cancel``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import UTC, datetime
from typing import Any

from creator_kit.cli._common import add_json_option, add_workspace_option, print_json, workspace_from_args
from creator_kit.jobs import (
    DEFAULT_KEY_ENV,
    DISPLAY_STATUSES,
    SUPPORTED_SECONDS,
    SUPPORTED_SIZES,
    cancel_job,
    display_status,
    download_job,
    list_jobs,
    read_video_settings,
    submit_job,
    watch_jobs,
)

__all__ = ["register"]

def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jobs`` and its subcommands."""
    jobs = subparsers.add_parser(
        "jobs",
        help="submit, follow and download video generation jobs",
        description="Video jobs over the /v1/videos protocol (OpenAI's Sora 2 protocol, served by "
        "gateways such as a LiteLLM proxy since OpenAI removed it on 2026-09-24). The endpoint is "
        "--base-url, else --provider (an entry of the providers setting), else the video setting.",
    )
    commands = jobs.add_subparsers(dest="jobs_command", metavar="SUBCOMMAND")
    commands.required = True

    submit = commands.add_parser("submit", help="validate and submit a video prompt")
    submit.add_argument("prompt", help="what the video shows (at most 1000 characters)")
    submit.add_argument("--model", help="model name, or the tier 'fast' (default, sora-2) or 'quality' (sora-2-pro)")
    submit.add_argument("--seconds", default="4", choices=SUPPORTED_SECONDS, help="duration in seconds (default: 4)")
    submit.add_argument("--size", default="720x1280", choices=SUPPORTED_SIZES, help="width x height in pixels (default: 720x1280)")
    _add_endpoint_options(submit, with_provider=True)
    add_workspace_option(submit)
    add_json_option(submit)
    submit.set_defaults(func=run_submit)

    listing = commands.add_parser("list", help="list jobs with their current state, newest first")
    listing.add_argument("--status", choices=DISPLAY_STATUSES, help="show only jobs in this state")
    add_workspace_option(listing)
    add_json_option(listing)
    listing.set_defaults(func=run_list)

    watch = commands.add_parser(
        "watch",
        help="poll unfinished jobs, record each change and download finished videos",
        description="Poll every unfinished job of the workspace until Ctrl+C (or, with --until-done, "
        "until none is left). Safe to restart at any time: it resumes from the video_jobs table. "
        "When another poller (a dashboard kernel) already follows the workspace, this one waits "
        "and takes over if that one stops.",
    )
    watch.add_argument("--until-done", action="store_true", help="exit when no job is left to follow")
    watch.add_argument("--interval", type=float, help="seconds between two status requests per job (default: video.poll_interval, 5)")
    watch.add_argument("--stall-after", type=float, help="seconds without change before a job is flagged stalled (default: video.stall_after, 600)")
    _add_endpoint_options(watch, with_provider=False)
    add_workspace_option(watch)
    add_json_option(watch)
    watch.set_defaults(func=run_watch)

    download = commands.add_parser("download", help="download (or retry the download of) a completed job's video")
    download.add_argument("id", help="job id")
    _add_endpoint_options(download, with_provider=False)
    add_workspace_option(download)
    add_json_option(download)
    download.set_defaults(func=run_download)

    cancel = commands.add_parser("cancel", help="cancel a job at the provider and record it as cancelled")
    cancel.add_argument("id", help="job id")
    _add_endpoint_options(cancel, with_provider=False)
    add_workspace_option(cancel)
    add_json_option(cancel)
    cancel.set_defaults(func=run_cancel)


def run_submit(args: argparse.Namespace) -> int:
    """Submit one job and print its id."""
    row = submit_job(
        args.prompt,
        workspace=workspace_from_args(args),
        model=args.model,
        seconds=args.seconds,
        size=args.size,
        provider=args.provider,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
    )
    if args.json:
        print_json(_public(row))
    else:
        print(f"{row['id']}  {row['status']}  {row['model']}  {row['seconds']}s  {row['size']}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the jobs as a table or JSON."""
    frame = list_jobs(workspace_from_args(args), status=args.status)
    rows = [_public(row) for row in frame.to_dicts()]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no video jobs")
        return 0
    for row in rows:
        progress = "" if row["progress"] is None else f"{row['progress']}%"
        created = row["created_at"].strftime("%Y-%m-%d %H:%M") if row["created_at"] else ""
        print(f"{row['id']}  {row['display_status']:<15} {progress:>4}  {row['model']}  {row['seconds']}s  {row['size']}  {created}")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    """Run the poller in the foreground; print each change as it is recorded."""
    workspace = workspace_from_args(args)
    settings = read_video_settings(workspace)
    changes: dict[str, Any] = {}
    if args.interval is not None:
        changes["poll_interval"] = args.interval
    if args.stall_after is not None:
        changes["stall_after"] = args.stall_after
    settings = dataclasses.replace(settings, **changes)
    def show(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if args.json:
                print_json(_public(row))
            else:
                print(f"{datetime.now(UTC):%H:%M:%S}  {row['id']}  {display_status(row)}  {row.get('progress') or 0}%")
        sys.stdout.flush()

    stats = watch_jobs(
        workspace,
        until_done=args.until_done,
        settings=settings,
        api_key_env=args.api_key_env,
        on_change=show,
    )
    print(
        f"polled {stats.status_requests} times, recorded {stats.rows_appended} changes, downloaded {stats.downloads} videos",
        file=sys.stderr,
    )
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download one job's video and print where it is."""
    row = download_job(args.id, workspace=workspace_from_args(args), api_key_env=args.api_key_env)
    if args.json:
        print_json(_public(row))
    else:
        print(row["video_path"])
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    """Cancel one job."""
    row = cancel_job(args.id, workspace=workspace_from_args(args), api_key_env=args.api_key_env)
    if args.json:
        print_json(_public(row))
    else:
        print(f"{row['id']}  cancelled")
    return 0


def _add_endpoint_options(parser: argparse.ArgumentParser, *, with_provider: bool) -> None:
    # A job records its provider name, or the URL it was submitted to. So only
    # `submit` chooses an endpoint, and the other commands need at most the key.
    if with_provider:
        parser.add_argument("--provider", help="name of a provider entry in the workspace settings")
        parser.add_argument("--base-url", help="video endpoint URL ending in /v1, used without a provider entry")
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        help=f"environment variable holding the key for a URL endpoint (default: video.api_key_env, else {DEFAULT_KEY_ENV})",
    )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out.setdefault("display_status", display_status(row))
    return out
