"""Overview and Analytics served by creator-kit serve, driven in headless Chromium.

The servers are real (``voila_server`` and ``voila_server_dark`` from
tests/fixtures/voila.py) over workspaces seeded from the shipped traces.
Every page must stay on 127.0.0.1; screenshots go to test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from creator_kit.analytics import analytics_report, data_extent, overview_stats, parse_range
from creator_kit.storage import resolve_workspace
from creator_kit.ui._frame import SECTIONS, format_count, format_ms, format_percent, format_usd
from creator_kit.ui.analytics import CHART_NAMES
from tests.fixtures.browser import save_screenshot, wait_for_dashboard

pytestmark = pytest.mark.browser

TIMEOUT_MS = 120_000


def _tile(page, key: str) -> str:  # noqa: ANN001 - playwright Page
    return page.inner_text(f'[data-tile="{key}"] .ck-tile-value').strip()


def _chart_markup(page) -> dict[str, str]:  # noqa: ANN001
    return {
        name: page.inner_html(f'.ck-chart-view:has([data-chart="{name}"]), .ck-chart-view:has([data-chart-empty="{name}"])')
        for name in CHART_NAMES
    }


def _wait_status(page, text: str) -> None:  # noqa: ANN001
    page.wait_for_function(
        "(text) => { const el = document.querySelector('.ck-page.ck-ready .ck-status');"
        " return el !== null && el.textContent.trim() === text; }",
        arg=text,
        timeout=TIMEOUT_MS,
    )


def _server_for(request: pytest.FixtureRequest, theme: str):  # noqa: ANN202
    return request.getfixturevalue("voila_server" if theme == "light" else "voila_server_dark")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_overview_shows_seeded_data(request, browser_page, request_log, theme: str) -> None:  # noqa: ANN001
    server = _server_for(request, theme)
    browser_page.goto(server.url("overview.ipynb"))
    wait_for_dashboard(browser_page)

    stats = overview_stats(resolve_workspace(server.workspace), parse_range("all"))
    assert stats["total_generations"] > 0
    assert _tile(browser_page, "total_generations") == format_count(stats["total_generations"])
    assert _tile(browser_page, "success_rate") == format_percent(stats["success_rate"])
    assert _tile(browser_page, "avg_ttft_ms") == format_ms(stats["avg_ttft_ms"])
    assert browser_page.locator(".ck-recent tbody tr").count() == 5
    assert browser_page.locator(".ck-quota-bar").count() == 1
    assert browser_page.locator('a.ck-current[data-section="overview"]').count() == 1
    theme_class = "theme-dark" if theme == "dark" else "theme-light"
    assert theme_class in (browser_page.get_attribute("body", "class") or "")

    save_screenshot(browser_page, f"overview-{theme}")
    request_log.assert_loopback_only()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_analytics_draws_every_chart(request, browser_page, request_log, theme: str) -> None:  # noqa: ANN001
    server = _server_for(request, theme)
    browser_page.goto(server.url("analytics.ipynb"))
    wait_for_dashboard(browser_page)

    report = analytics_report(resolve_workspace(server.workspace), parse_range("7d"))
    assert report["summary"]["total_requests"] > 0
    assert _tile(browser_page, "total_requests") == format_count(report["summary"]["total_requests"])
    for name in CHART_NAMES:
        chart = browser_page.locator(f'[data-chart="{name}"] svg')
        assert chart.count() == 1, name
        box = chart.bounding_box()
        assert box is not None, name
        assert box["width"] > 200, name
        assert box["height"] > 50, name
        # Vega draws marks as paths; an empty SVG would have only axes.
        assert browser_page.locator(f'[data-chart="{name}"] svg .mark-rect path, '
                                    f'[data-chart="{name}"] svg .mark-line path').count() > 0, name
    rows = browser_page.locator(".ck-models tbody tr").count()
    assert rows == len(report["models"])
    assert browser_page.locator(".ck-has-error").count() == 0

    save_screenshot(browser_page, f"analytics-{theme}")
    request_log.assert_loopback_only()


def test_range_change_updates_everything(voila_server, browser_page, request_log) -> None:  # noqa: ANN001
    browser_page.goto(voila_server.url("analytics.ipynb"))
    wait_for_dashboard(browser_page)
    _wait_status(browser_page, "Showing the last 7 days.")
    before = _chart_markup(browser_page)

    browser_page.click(".ck-range button:has-text('All')")
    _wait_status(browser_page, "Showing all time.")

    report = analytics_report(resolve_workspace(voila_server.workspace), parse_range("all"))
    summary, cost = report["summary"], report["cost"]
    expected = {
        "total_requests": format_count(summary["total_requests"]),
        "success_rate": format_percent(summary["success_rate"]),
        "avg_ttft_ms": format_ms(summary["avg_ttft_ms"]),
        "abort_rate": format_percent(summary["abort_rate"]),
        "period_usd": format_usd(cost["period_usd"]),
        "per_1k_tokens_usd": format_usd(cost["per_1k_tokens_usd"]),
        "monthly_projection_usd": format_usd(cost["monthly_projection_usd"]),
        "unpriced_requests": format_count(cost["unpriced_requests"]),
    }
    shown = {key: _tile(browser_page, key) for key in expected}
    assert shown == expected
    after = _chart_markup(browser_page)
    for name in CHART_NAMES:
        assert "<svg" in after[name], name
        assert after[name] != before[name], f"chart {name} did not change with the range"
    request_log.assert_loopback_only()


def test_custom_range(voila_server, browser_page, request_log) -> None:  # noqa: ANN001
    workspace = resolve_workspace(voila_server.workspace)
    newest = data_extent(workspace)[1].date()
    since = newest - timedelta(days=1)
    browser_page.goto(voila_server.url("analytics.ipynb"))
    wait_for_dashboard(browser_page)

    browser_page.click(".ck-range button:has-text('Custom')")
    dates = browser_page.locator(".ck-range-control input[type='date']")
    dates.nth(0).fill(since.isoformat())
    dates.nth(1).fill(newest.isoformat())
    browser_page.click(".ck-range-control button:has-text('Apply')")
    _wait_status(browser_page, f"Showing {since.isoformat()} to {newest.isoformat()}.")

    report = analytics_report(workspace, parse_range(since=since, until=newest))
    assert report["summary"]["total_requests"] > 0
    assert _tile(browser_page, "total_requests") == format_count(report["summary"]["total_requests"])
    assert browser_page.locator('[data-chart="latency_histogram"] svg').count() == 1
    request_log.assert_loopback_only()


def test_empty_range_hint(voila_server, browser_page, request_log) -> None:  # noqa: ANN001
    workspace = resolve_workspace(voila_server.workspace)
    newest = data_extent(workspace)[1].date()
    browser_page.goto(voila_server.url("analytics.ipynb"))
    wait_for_dashboard(browser_page)

    browser_page.click(".ck-range button:has-text('Custom')")
    dates = browser_page.locator(".ck-range-control input[type='date']")
    dates.nth(0).fill("2001-01-01")
    dates.nth(1).fill("2001-01-31")
    browser_page.click(".ck-range-control button:has-text('Apply')")
    _wait_status(browser_page, "Showing 2001-01-01 to 2001-01-31.")

    hint = browser_page.locator(".ck-hint")
    hint.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert newest.isoformat() in hint.inner_text()
    assert _tile(browser_page, "total_requests") == "0"
    save_screenshot(browser_page, "analytics-empty-range-light")

    week_start = newest - timedelta(days=6)
    browser_page.click(f"button:has-text('Show {week_start.isoformat()} to {newest.isoformat()}')")
    _wait_status(browser_page, f"Showing {week_start.isoformat()} to {newest.isoformat()}.")
    assert _tile(browser_page, "total_requests") != "0"
    assert not hint.is_visible()
    request_log.assert_loopback_only()


def test_sidebar_links_navigate_in_same_tab(voila_server, browser_page, request_log) -> None:  # noqa: ANN001
    browser_page.goto(voila_server.url("overview.ipynb"))
    wait_for_dashboard(browser_page)
    browser_page.click(".ck-nav a[data-section='analytics']")
    browser_page.wait_for_url("**/voila/render/analytics.ipynb", timeout=TIMEOUT_MS)
    wait_for_dashboard(browser_page)
    assert len(browser_page.context.pages) == 1
    assert browser_page.locator('a.ck-current[data-section="analytics"]').count() == 1
    request_log.assert_loopback_only()


@pytest.mark.parametrize("notebook", ["create.ipynb", *[s.notebook for s in SECTIONS if s.key not in ("overview", "analytics")]])
def test_every_section_renders_frame(voila_server, browser_page, request_log, notebook: str) -> None:  # noqa: ANN001
    browser_page.goto(voila_server.url(notebook))
    browser_page.wait_for_selector(".ck-nav", state="attached", timeout=TIMEOUT_MS)
    assert browser_page.locator(".ck-nav a").count() == 7
    request_log.assert_loopback_only()


def test_empty_workspace_shows_zeros(start_voila, tmp_path, browser_page, request_log) -> None:  # noqa: ANN001
    server = start_voila(tmp_path / "empty", seed=False, preheat=False)

    browser_page.goto(server.url("overview.ipynb"))
    wait_for_dashboard(browser_page)
    assert _tile(browser_page, "total_generations") == "0"
    assert "No projects yet" in browser_page.inner_text(".ck-page")
    assert browser_page.locator(".ck-has-error").count() == 0

    browser_page.goto(server.url("analytics.ipynb"))
    wait_for_dashboard(browser_page)
    assert _tile(browser_page, "total_requests") == "0"
    assert browser_page.locator("[data-chart-empty]").count() == len(CHART_NAMES)
    assert not browser_page.locator(".ck-hint").is_visible()
    assert browser_page.locator(".ck-has-error").count() == 0
    save_screenshot(browser_page, "analytics-empty-workspace-light")
    request_log.assert_loopback_only()
