"""The Analytics page: key metrics, model performance, latency, trends and cost."""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ipywidgets as widgets
import polars as pl

from creator_kit.analytics import TimeRange
from creator_kit.storage import Workspace, resolve_workspace
from creator_kit.ui._frame import (
    wait_for_page_request,
    BackgroundLoader,
    ChartView,
    MetricTile,
    PageFrame,
    first_load_blocks,
    RangeControl,
    format_count,
    format_day,
    format_ms,
    format_percent,
    format_usd,
    week_ending,
)

__all__ = ["AnalyticsPage", "analytics_page"]

logger = logging.getLogger(__name__)

_ONE_MICROSECOND = timedelta(microseconds=1)

_PRESET_NAMES = {"24h": "the last 24 hours", "7d": "the last 7 days", "30d": "the last 30 days"}

CHART_NAMES = ("model_performance", "latency_histogram", "daily_trends", "cost_by_provider", "cost_by_model")


def analytics_page(
    workspace: Workspace | str | os.PathLike[str] | None = None,
    *,
    range_: str = "7d",
    theme: str | None = None,
    background: bool = True,
) -> AnalyticsPage:
    """Build the Analytics page of `workspace` and start loading it.

    Parameters
    ----------
    workspace
        The workspace or its folder; None resolves ``$CREATOR_KIT_WORKSPACE``,
        then the default workspace.
    range_
        The initial time range: ``"24h"``, ``"7d"``, ``"30d"`` or ``"all"``.
    theme
        ``"light"`` or ``"dark"`` for the charts; None reads ``$CREATOR_KIT_THEME``.
    background
        Run the queries on a background thread (the default). False runs them
        before returning and on every range change. Under Voila the first
        load always runs before returning (see `first_load_blocks`).
    """
    wait_for_page_request()
    if not isinstance(workspace, Workspace):
        workspace = resolve_workspace(workspace)
    page = AnalyticsPage(workspace, range_=range_, theme=theme, background=background)
    page.refresh(block=first_load_blocks())
    return page


@dataclass
class _Result:
    """The result of one page query: the report, the data extent and the chart SVGs."""

    time_range: TimeRange
    report: dict[str, Any]
    extent: tuple[datetime, datetime] | None
    svgs: dict[str, str] = field(default_factory=dict)


class AnalyticsPage(PageFrame):
    """Analytics of one time range; changing the range reloads every tile and chart."""

    def __init__(
        self, workspace: Workspace, *, range_: str = "7d", theme: str | None = None, background: bool = True
    ) -> None:
        self.workspace = workspace
        self.loader = BackgroundLoader(background=background)
        self.range_control = RangeControl(range_)
        self.hint = widgets.HTML("")
        self.hint_week = widgets.Button(
            description="Show that week", button_style="warning", layout=widgets.Layout(width="auto")
        )
        self.hint_all = widgets.Button(description="Show all time", layout=widgets.Layout(width="auto"))
        self.hint_box = widgets.VBox([self.hint, widgets.HBox([self.hint_week, self.hint_all])])
        self.hint_box.layout.display = "none"
        self.hint_box.add_class("ck-empty-range")
        self._hint_dates: tuple[date, date] | None = None

        self.tiles = {
            "total_requests": MetricTile("Total requests", key="total_requests"),
            "success_rate": MetricTile("Success rate", key="success_rate"),
            "avg_ttft_ms": MetricTile("Avg TTFT", key="avg_ttft_ms", detail="time to first token"),
            "abort_rate": MetricTile("Abort rate", key="abort_rate", detail="stopped by the user"),
            "period_usd": MetricTile("Estimated cost", key="period_usd", detail="this period"),
            "per_1k_tokens_usd": MetricTile("Cost per 1K tokens", key="per_1k_tokens_usd"),
            "monthly_projection_usd": MetricTile("Monthly projection", key="monthly_projection_usd"),
            "unpriced_requests": MetricTile("Price unknown", key="unpriced_requests", detail="requests"),
        }
        tiles = widgets.HBox(list(self.tiles.values()))
        tiles.add_class("ck-tiles")
        tiles.add_class("ck-tiles-4")

        self.charts = {name: ChartView(name) for name in CHART_NAMES}
        self.models_table = widgets.HTML("")
        self.cost_table = widgets.HTML("")
        sections = [
            _card("Model performance", [self.models_table, self.charts["model_performance"]]),
            _card("Latency distribution (time to first token)", [self.charts["latency_histogram"]]),
            _card("Daily trends", [self.charts["daily_trends"]]),
            _card(
                "Cost analysis",
                [self.charts["cost_by_provider"], self.charts["cost_by_model"], self.cost_table],
            ),
        ]
        super().__init__(
            "analytics",
            title="Analytics",
            subtitle="Requests, latency and cost of your generations",
            children=[self.range_control, self.hint_box, tiles, *sections],
            theme=theme,
        )
        self.range_control.observe(self._on_range, names="time_range")
        self.hint_week.on_click(self._on_hint_week)
        self.hint_all.on_click(lambda _button: self.range_control.choose("all"))

    @property
    def time_range(self) -> TimeRange:
        """The range the page shows."""
        return self.range_control.time_range

    def refresh(self, *, block: bool = False) -> None:
        """Reload every tile, table and chart for the current range; `block` waits for the result."""
        time_range = self.time_range
        self.set_loading(f"Loading {_describe(time_range)}\u2026")
        self.loader.submit(lambda: self._query(time_range), self._apply, self._on_error, block=block)

    def _on_error(self, exc: BaseException) -> None:
        for view in self.charts.values():
            view.show_empty("Not available: the query failed (see the message above).")
        self.show_error(exc, action="load analytics")

    def _on_range(self, change: dict[str, Any]) -> None:
        self.refresh()

    def _on_hint_week(self, _button: widgets.Button) -> None:
        if self._hint_dates is not None:
            self.range_control.choose_dates(*self._hint_dates)

    def _query(self, time_range: TimeRange) -> _Result:
        from creator_kit.analytics import analytics_report, data_extent

        report = dict(analytics_report(self.workspace, time_range))
        total = int((report.get("summary") or {}).get("total_requests") or 0)
        extent = data_extent(self.workspace) if total == 0 else None
        result = _Result(time_range, report, extent)
        if total:
            result.svgs = _render_charts(report, theme=self.theme)
        return result

    def _apply(self, result: _Result) -> None:
        report = result.report
        summary = report.get("summary") or {}
        cost = report.get("cost") or {}
        total = int(summary.get("total_requests") or 0)

        self.tiles["total_requests"].set(format_count(total))
        self.tiles["success_rate"].set(format_percent(summary.get("success_rate") if total else None))
        self.tiles["avg_ttft_ms"].set(format_ms(summary.get("avg_ttft_ms")))
        self.tiles["abort_rate"].set(format_percent(summary.get("abort_rate") if total else None))
        self.tiles["period_usd"].set(format_usd(cost.get("period_usd") if total else 0.0))
        self.tiles["per_1k_tokens_usd"].set(format_usd(cost.get("per_1k_tokens_usd")))
        self.tiles["monthly_projection_usd"].set(format_usd(cost.get("monthly_projection_usd")))
        self.tiles["unpriced_requests"].set(format_count(cost.get("unpriced_requests") or 0))

        self.models_table.value = _models_table(_rows(report.get("models")))
        self.cost_table.value = _cost_table(_rows(cost.get("by_model")))
        empty = _empty_message(result)
        for name, view in self.charts.items():
            svg = result.svgs.get(name)
            if svg:
                view.show_svg(svg)
            else:
                view.show_empty(empty if total == 0 else "No data for this chart in this range.")

        self._show_hint(result)
        self.set_ready(f"Showing {_describe(result.time_range)}.")

    def _show_hint(self, result: _Result) -> None:
        total = int((result.report.get("summary") or {}).get("total_requests") or 0)
        if total or result.extent is None:
            self.hint_box.layout.display = "none"
            self._hint_dates = None
            return
        newest = _as_date(result.extent[1])
        oldest = _as_date(result.extent[0])
        self._hint_dates = week_ending(newest)
        since, until = self._hint_dates
        self.hint_week.description = f"Show {since.isoformat()} to {until.isoformat()}"
        self.hint.value = (
            '<div class="ck-hint">No generations in this range, but the workspace has data from '
            f"<b>{html.escape(oldest.isoformat())}</b> to <b>{html.escape(newest.isoformat())}</b> "
            f"(newest: {html.escape(newest.isoformat())}).</div>"
        )
        self.hint_box.layout.display = "flex"


def _render_charts(report: Mapping[str, Any], *, theme: str) -> dict[str, str]:
    """Render the charts of `report` to SVG; a chart without rows is left out."""
    from creator_kit.analytics import charts

    svgs: dict[str, str] = {}
    cost = report.get("cost") or {}
    # Cards name the first three charts; the two cost charts share a card and keep their titles.
    sources = {
        "model_performance": (charts.chart_model_performance, report.get("models"), None),
        "latency_histogram": (charts.chart_latency_histogram, report.get("latency_histogram"), None),
        "daily_trends": (charts.chart_daily_trends, report.get("daily"), None),
        "cost_by_provider": (charts.chart_cost_by_provider, _cost_rows(cost.get("by_provider")), "Cost per provider"),
        "cost_by_model": (charts.chart_cost_by_model, _cost_rows(cost.get("by_model")), "Cost per model"),
    }
    for name, (build, data, title) in sources.items():
        rows = _rows(data)
        if name.startswith("cost_"):
            rows = [row for row in rows if row.get("cost_usd") is not None]
        if not rows:
            continue
        svgs[name] = charts.chart_to_svg(build(pl.DataFrame(rows), theme=theme, title=title))
    return svgs


def _rows(data: Any) -> list[dict[str, Any]]:
    """Return `data` (a frame, a list of dicts or None) as a list of dicts."""
    if data is None:
        return []
    if isinstance(data, pl.DataFrame):
        return data.to_dicts()
    return [dict(row) for row in data]


def _cost_rows(data: Any) -> list[dict[str, Any]]:
    """Name the cost column ``cost_usd`` whatever the report calls it."""
    rows = []
    for row in _rows(data):
        if "cost_usd" not in row:
            for key in ("usd", "cost", "period_usd"):
                if key in row:
                    row["cost_usd"] = row[key]
                    break
        rows.append(row)
    return rows


def _models_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    header = (
        "<tr><th>Provider</th><th>Model</th><th class='ck-num'>Requests</th><th class='ck-num'>Success</th>"
        "<th class='ck-num'>Mean TTFT</th><th class='ck-num'>p50 TTFT</th><th class='ck-num'>p95 TTFT</th></tr>"
    )
    body = []
    for row in rows:
        body.append(
            "<tr>"
            f"<td>{html.escape(str(row.get('provider') or ''))}</td>"
            f"<td class='ck-wrap'>{html.escape(str(row.get('model') or ''))}</td>"
            f"<td class='ck-num'>{format_count(row.get('requests'))}</td>"
            f"<td class='ck-num'>{format_percent(row.get('success_rate'))}</td>"
            f"<td class='ck-num'>{format_ms(row.get('avg_ttft_ms'))}</td>"
            f"<td class='ck-num'>{format_ms(row.get('p50_ttft_ms'))}</td>"
            f"<td class='ck-num'>{format_ms(row.get('p95_ttft_ms'))}</td>"
            "</tr>"
        )
    return f'<table class="ck-table ck-models"><thead>{header}</thead><tbody>{"".join(body)}</tbody></table>'


def _cost_table(rows: Sequence[Mapping[str, Any]]) -> str:
    rows = _cost_rows(rows)
    if not rows:
        return ""
    body = []
    for row in rows:
        cost = row.get("cost_usd")
        shown = format_usd(cost) if cost is not None else "price unknown"
        body.append(
            "<tr>"
            f"<td>{html.escape(str(row.get('provider') or ''))}</td>"
            f"<td class='ck-wrap'>{html.escape(str(row.get('model') or ''))}</td>"
            f"<td class='ck-num'>{format_count(row.get('requests'))}</td>"
            f"<td class='ck-num'>{html.escape(shown)}</td>"
            "</tr>"
        )
    return (
        '<table class="ck-table ck-costs"><thead><tr><th>Provider</th><th>Model</th>'
        "<th class='ck-num'>Requests</th><th class='ck-num'>Estimated cost</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _card(title: str, children: list[widgets.Widget]) -> widgets.VBox:
    heading = widgets.HTML(f"<h2>{html.escape(title)}</h2>")
    box = widgets.VBox([heading, *children])
    box.add_class("ck-card")
    return box


def _empty_message(result: _Result) -> str:
    if result.extent is None:
        return "No generations yet. Create one or import traces to see charts here."
    return "No generations in this range."


def _describe(time_range: TimeRange) -> str:
    if time_range.label == "all":
        return "all time"
    if time_range.label in _PRESET_NAMES:
        return _PRESET_NAMES[time_range.label]
    if time_range.label == "custom":
        since = format_day(time_range.since) if time_range.since else "the start"
        # `until` is exclusive; show the last day it includes.
        until = format_day(time_range.until - _ONE_MICROSECOND) if time_range.until else "now"
        return f"{since} to {until}"
    return f"the last {time_range.label}"


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
