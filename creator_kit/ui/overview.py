"""The Overview page: the workspace at a glance."""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from creator_kit.analytics import parse_range
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import (
    wait_for_page_request,
    BackgroundLoader,
    MetricTile,
    PageFrame,
    first_load_blocks,
    format_count,
    format_day,
    format_ms,
    format_percent,
    link_button_html,
)

__all__ = ["OverviewPage", "overview_page"]

logger = logging.getLogger(__name__)

RECENT_PROJECTS = 5


def overview_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    theme: str | None = None,
    background: bool = True,
) -> OverviewPage:
    """Build the Overview page of `workspace` and start loading its numbers.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    theme
        ``"light"`` or ``"dark"``; None reads ``$CREATOR_KIT_THEME``.
    background
        Run the queries on a background thread (the default, so the kernel
        stays responsive). False runs them before returning. Under Voila the
        first load always runs before returning (see `first_load_blocks`).
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    page = OverviewPage(workspace, theme=theme, background=background)
    page.refresh(block=first_load_blocks())
    return page


class OverviewPage(PageFrame):
    """Total generations, success rate, mean TTFT, tokens today, most used
    model, the five most recent projects, today's token quota and quick actions.

    The numbers cover the whole workspace; tokens and quota cover the current
    UTC day.
    """

    def __init__(self, workspace: Workspace, *, theme: str | None = None, background: bool = True) -> None:
        self.workspace = workspace
        self.loader = BackgroundLoader(background=background)
        self.tiles = {
            "total_generations": MetricTile("Total generations", key="total_generations"),
            "success_rate": MetricTile("Success rate", key="success_rate"),
            "avg_ttft_ms": MetricTile("Average latency", key="avg_ttft_ms", detail="time to first token"),
            "tokens_today": MetricTile("Tokens today", key="tokens_today", detail="UTC day"),
            "most_used_model": MetricTile("Most used model", key="most_used_model"),
        }
        tiles = widgets.HBox(list(self.tiles.values()))
        tiles.add_class("ck-tiles")
        self.quota = widgets.HTML(_card("Daily token quota", '<div class="ck-empty">Loading\u2026</div>'))
        self.recent = widgets.HTML(_card("Recent projects", '<div class="ck-empty">Loading\u2026</div>'))
        self.actions = widgets.HTML(
            _card(
                "Quick actions",
                '<div class="ck-actions">'
                + link_button_html("Create new", "create.ipynb")
                + link_button_html("View analytics", "analytics.ipynb", secondary=True)
                + "</div>",
            )
        )
        super().__init__(
            "overview",
            title="Overview",
            subtitle="Your generations at a glance",
            children=[tiles, self.actions, self.quota, self.recent],
            theme=theme,
        )

    def refresh(self, *, block: bool = False) -> None:
        """Reload every number from the workspace; `block` waits for the result."""
        self.set_loading()
        self.loader.submit(
            self._query, self._apply, lambda exc: self.show_error(exc, action="load the overview"), block=block
        )

    def _query(self) -> dict[str, Any]:
        from creator_kit.analytics import overview_stats

        return overview_stats(self.workspace, parse_range("all"))

    def _apply(self, stats: Mapping[str, Any]) -> None:
        self.tiles["total_generations"].set(format_count(stats.get("total_generations") or 0))
        self.tiles["success_rate"].set(format_percent(stats.get("success_rate")))
        self.tiles["avg_ttft_ms"].set(format_ms(stats.get("avg_ttft_ms")))
        self.tiles["tokens_today"].set(format_count(stats.get("tokens_today") or 0))
        model = stats.get("most_used_model")
        self.tiles["most_used_model"].set(str(model) if model else "none yet")
        self.quota.value = _card("Daily token quota", _quota_html(stats.get("daily_quota") or {}))
        self.recent.value = _card("Recent projects", _recent_html(stats.get("recent_projects") or []))
        total = stats.get("total_generations") or 0
        self.set_ready("" if total else "No generations yet: create one, or import traces with creator-kit.")


def _card(title: str, body: str) -> str:
    return f'<div class="ck-card"><h2>{html.escape(title)}</h2>{body}</div>'


def _quota_html(quota: Mapping[str, Any]) -> str:
    limit = int(quota.get("limit") or 0)
    used = int(quota.get("used") or 0)
    remaining = quota.get("remaining")
    remaining = max(limit - used, 0) if remaining is None else int(remaining)
    share = min(used / limit, 1.0) if limit > 0 else 0.0
    over = " ck-over" if limit > 0 and used >= limit else ""
    text = f"{format_count(used)} of {format_count(limit)} tokens used today, {format_count(remaining)} left"
    if limit > 0 and used > limit:
        text += f" ({format_count(used - limit)} over the quota)"
    return (
        f'<div class="ck-quota" data-used="{used}" data-limit="{limit}">'
        f'<div class="ck-quota-bar" role="progressbar" aria-valuemin="0" aria-valuemax="{limit}" '
        f'aria-valuenow="{used}"><div class="ck-quota-fill{over}" style="width:{share * 100:.1f}%"></div></div>'
        f"<div>{html.escape(text)}</div></div>"
    )


def _recent_html(projects: list[Mapping[str, Any]]) -> str:
    if not projects:
        return '<div class="ck-empty">No projects yet. Use Create new to start one.</div>'
    rows = []
    for project in projects[:RECENT_PROJECTS]:
        title = project.get("title") or _excerpt(project.get("prompt")) or "Untitled"
        status = str(project.get("status") or "unknown")
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(title))}</td>"
            f'<td><span class="ck-badge ck-{html.escape(status, quote=True)}">{html.escape(status)}</span></td>'
            f"<td class='ck-wrap'>{html.escape(str(project.get('model') or ''))}</td>"
            f"<td class='ck-nowrap'>{html.escape(format_day(project.get('created_at')))}</td>"
            "</tr>"
        )
    return (
        '<table class="ck-table ck-recent"><thead><tr><th>Title</th><th>Status</th><th>Model</th>'
        "<th>Date</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _excerpt(text: Any, limit: int = 60) -> str:
    if not text:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
