"""Section pages built on real workspaces, checked through widget state."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from creator_kit import ui
from creator_kit.analytics import analytics_report, data_extent, overview_stats, parse_range
from creator_kit.importers import seed_workspace
from creator_kit.storage import Workspace, append_rows, resolve_workspace
from creator_kit.ui._frame import format_count, format_ms, format_percent, format_usd
from creator_kit.ui.analytics import CHART_NAMES

PLACEHOLDER_SECTIONS = ["create", "projects", "templates", "generations", "settings"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace filled from the real traces shipped in data/traces."""
    workspace = resolve_workspace(tmp_path_factory.mktemp("seeded") / "workspace")
    report = seed_workspace(workspace)
    assert report is not None and report.imported > 0
    return workspace


def _tiles(page) -> dict[str, str]:  # noqa: ANN001 - a page widget
    return {key: tile.display_value for key, tile in page.tiles.items()}


def test_overview_matches_stats(seeded: Workspace) -> None:
    page = ui.overview_page(seeded, background=False)
    stats = overview_stats(seeded, parse_range("all"))
    tiles = _tiles(page)
    assert tiles["total_generations"] == format_count(stats["total_generations"])
    assert tiles["success_rate"] == format_percent(stats["success_rate"])
    assert tiles["avg_ttft_ms"] == format_ms(stats["avg_ttft_ms"])
    assert tiles["tokens_today"] == format_count(stats["tokens_today"])
    assert tiles["most_used_model"] == stats["most_used_model"]
    assert "ck-ready" in page._dom_classes


def test_overview_recent_projects_and_quota(seeded: Workspace) -> None:
    page = ui.overview_page(seeded, background=False)
    stats = overview_stats(seeded, parse_range("all"))
    rows = re.findall(r"<tr><td>", page.recent.value)
    assert len(rows) == 5
    assert str(stats["recent_projects"][0]["title"]) in page.recent.value
    quota = stats["daily_quota"]
    assert f'data-used="{quota["used"]}"' in page.quota.value
    assert f'data-limit="{quota["limit"]}"' in page.quota.value


def test_overview_quick_actions(seeded: Workspace) -> None:
    page = ui.overview_page(seeded, background=False)
    assert 'href="create.ipynb" target="_self">Create new</a>' in page.actions.value
    assert 'href="analytics.ipynb" target="_self">View analytics</a>' in page.actions.value


def test_overview_escapes_titles(workspace: Workspace) -> None:
    evil = "<img src=x onerror=alert(1)>"
    append_rows(
        workspace,
        "generations",
        [
            {
                "created_at": datetime.now(UTC),
                "provider": "openai",
                "model": "<b>gpt</b>",
                "status": "success",
                "title": evil,
                "prompt_tokens": 5,
                "completion_tokens": 7,
                "ttft_ms": 120.0,
            }
        ],
    )
    page = ui.overview_page(workspace, background=False)
    assert evil not in page.recent.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.recent.value
    assert "&lt;b&gt;gpt&lt;/b&gt;" in page.recent.value
    assert "<b>gpt</b>" not in page.tiles["most_used_model"].value


def test_overview_empty_workspace(workspace: Workspace) -> None:
    page = ui.overview_page(workspace, background=False)
    tiles = _tiles(page)
    assert tiles["total_generations"] == "0"
    assert tiles["tokens_today"] == "0"
    assert tiles["success_rate"] == "\u2014"
    assert tiles["most_used_model"] == "none yet"
    assert "No projects yet" in page.recent.value
    assert "ck-has-error" not in page._dom_classes
    assert "No generations yet" in page.status.value


def test_overview_background_load(seeded: Workspace) -> None:
    page = ui.overview_page(seeded)
    assert page.loader.wait(60)
    assert "ck-ready" in page._dom_classes
    assert page.tiles["total_generations"].display_value != "\u2014"


@pytest.mark.parametrize("label", ["7d", "all"])
def test_analytics_tiles_match_report(seeded: Workspace, label: str) -> None:
    page = ui.analytics_page(seeded, range_=label, background=False)
    report = analytics_report(seeded, parse_range(label))
    summary, cost = report["summary"], report["cost"]
    tiles = _tiles(page)
    assert tiles["total_requests"] == format_count(summary["total_requests"])
    assert tiles["success_rate"] == format_percent(summary["success_rate"])
    assert tiles["avg_ttft_ms"] == format_ms(summary["avg_ttft_ms"])
    assert tiles["abort_rate"] == format_percent(summary["abort_rate"])
    assert tiles["period_usd"] == format_usd(cost["period_usd"])
    assert tiles["per_1k_tokens_usd"] == format_usd(cost["per_1k_tokens_usd"])
    assert tiles["monthly_projection_usd"] == format_usd(cost["monthly_projection_usd"])
    assert tiles["unpriced_requests"] == format_count(cost["unpriced_requests"])


def test_analytics_draws_every_chart(seeded: Workspace) -> None:
    page = ui.analytics_page(seeded, range_="all", background=False)
    for name in CHART_NAMES:
        assert "<svg" in page.charts[name].value, name
    report = analytics_report(seeded, parse_range("all"))
    for row in report["models"]:
        assert f"<td>{row['provider']}</td>" in page.models_table.value


def test_analytics_range_change_updates_all(seeded: Workspace) -> None:
    page = ui.analytics_page(seeded, range_="all", background=False)
    before_tiles = _tiles(page)
    before_charts = {name: view.value for name, view in page.charts.items()}
    page.range_control.choose("24h")
    after_tiles = _tiles(page)
    report = analytics_report(seeded, parse_range("24h"))
    assert after_tiles["total_requests"] == format_count(report["summary"]["total_requests"])
    assert after_tiles["total_requests"] != before_tiles["total_requests"]
    for name, view in page.charts.items():
        assert view.value != before_charts[name], name
    assert page.status.value == "Showing the last 24 hours."


def test_analytics_custom_range(seeded: Workspace) -> None:
    newest = data_extent(seeded)[1].date()
    page = ui.analytics_page(seeded, background=False)
    page.range_control.choose_dates(newest, newest)
    report = analytics_report(seeded, parse_range(since=newest, until=newest))
    assert page.time_range.label == "custom"
    assert _tiles(page)["total_requests"] == format_count(report["summary"]["total_requests"])
    assert report["summary"]["total_requests"] > 0
    assert page.status.value == f"Showing {newest.isoformat()} to {newest.isoformat()}."


def test_analytics_empty_range_hint(seeded: Workspace) -> None:
    oldest, newest = data_extent(seeded)
    page = ui.analytics_page(seeded, background=False)
    page.range_control.choose_dates(date(2001, 1, 1), date(2001, 1, 31))
    assert _tiles(page)["total_requests"] == "0"
    assert page.hint_box.layout.display == "flex"
    assert newest.date().isoformat() in page.hint.value
    week_start = newest.date() - timedelta(days=6)
    assert page.hint_week.description == f"Show {week_start.isoformat()} to {newest.date().isoformat()}"
    for view in page.charts.values():
        assert "No generations in this range" in view.value

    page.hint_week.click()
    assert page.hint_box.layout.display == "none"
    assert page.time_range.since == datetime.combine(week_start, datetime.min.time(), UTC)
    assert _tiles(page)["total_requests"] != "0"

    page.range_control.choose_dates(date(2001, 1, 1), date(2001, 1, 31))
    page.hint_all.click()
    assert page.time_range.label == "all"
    assert _tiles(page)["total_requests"] == format_count(
        analytics_report(seeded, parse_range("all"))["summary"]["total_requests"]
    )


def test_analytics_empty_workspace(workspace: Workspace) -> None:
    page = ui.analytics_page(workspace, background=False)
    tiles = _tiles(page)
    assert tiles["total_requests"] == "0"
    assert tiles["period_usd"] == "$0.00"
    assert tiles["unpriced_requests"] == "0"
    assert page.hint_box.layout.display == "none"
    for view in page.charts.values():
        assert "No generations yet" in view.value
    assert "ck-has-error" not in page._dom_classes


def test_analytics_error_shown_in_page(tmp_path: Path) -> None:
    broken = tmp_path / "ws"
    (broken / "generations" / "_delta_log").mkdir(parents=True)
    (broken / "generations" / "_delta_log" / "00000000000000000000.json").write_text("not json\n")
    page = ui.analytics_page(broken, background=False)
    assert "ck-has-error" in page._dom_classes
    assert "Could not load analytics" in page.status.value
    for view in page.charts.values():
        assert "Not available" in view.value


def test_analytics_escapes_model_names(workspace: Workspace) -> None:
    append_rows(
        workspace,
        "generations",
        [
            {
                "created_at": datetime.now(UTC),
                "provider": "<i>p</i>",
                "model": "<script>x</script>",
                "status": "success",
                "ttft_ms": 80.0,
                "prompt_tokens": 1,
                "completion_tokens": 1,
            }
        ],
    )
    page = ui.analytics_page(workspace, background=False)
    assert "<script>" not in page.models_table.value
    assert "&lt;script&gt;x&lt;/script&gt;" in page.models_table.value
    assert "<script>" not in page.charts["model_performance"].value


@pytest.mark.parametrize("section", PLACEHOLDER_SECTIONS)
def test_every_section_has_frame(section: str, workspace: Workspace) -> None:
    page = getattr(ui, f"{section}_page")(workspace)
    sidebar = page.sidebar.value
    assert f'data-section="{section}" aria-current="page"' in sidebar
    assert "ck-page" in page._dom_classes


def test_voila_first_load_is_ready(seeded: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    page = ui.analytics_page(seeded)
    assert "ck-ready" in page._dom_classes
    assert page.tiles["total_requests"].display_value != "\u2014"
    page.range_control.choose("all")
    assert page.loader.wait(60)
    expected = analytics_report(seeded, parse_range("all"))["summary"]["total_requests"]
    assert page.tiles["total_requests"].display_value == format_count(expected)
