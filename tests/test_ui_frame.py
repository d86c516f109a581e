"""The page frame: sidebar, tiles, range control, loader, errors."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, date, datetime

import pytest

from creator_kit.errors import StorageError
from creator_kit.ui import _frame as frame
from creator_kit.ui._frame import (
    SECTIONS,
    BackgroundLoader,
    ChartView,
    MetricTile,
    PageFrame,
    RangeControl,
    format_count,
    format_ms,
    format_percent,
    format_usd,
    resolve_theme,
    sidebar_html,
)

SIDEBAR_LABELS = ["Create new", "Overview", "Projects", "Analytics", "Templates", "Generations (video)", "Settings"]


def test_sidebar_lists_every_section() -> None:
    html = sidebar_html("overview")
    labels = re.findall(r"<a [^>]*>([^<]*)</a>", html)
    assert labels == SIDEBAR_LABELS


def test_sidebar_marks_current_only() -> None:
    html = sidebar_html("analytics")
    current = re.findall(r'<a class="[^"]*ck-current[^"]*"[^>]*data-section="(\w+)"', html)
    assert current == ["analytics"]
    assert html.count('aria-current="page"') == 1


def test_sidebar_links_open_in_same_tab() -> None:
    html = sidebar_html("overview")
    hrefs = re.findall(r'href="([^"]+)" target="_self"', html)
    assert hrefs == ["create.ipynb"] + [section.notebook for section in SECTIONS]


def test_sidebar_unknown_section() -> None:
    with pytest.raises(ValueError, match="unknown section 'nope'"):
        sidebar_html("nope")


def test_page_frame_loading_then_ready() -> None:
    page = PageFrame("projects", title="Projects <b>")
    assert "Projects &lt;b&gt;" in page.header.value
    page.set_loading("Loading projects")
    assert "ck-loading" in page._dom_classes
    assert "ck-spinner" in page.status.value
    page.set_ready()
    assert "ck-ready" in page._dom_classes
    assert "ck-loading" not in page._dom_classes


def test_page_frame_error_shown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    page = PageFrame("analytics", title="Analytics")
    page.set_loading()
    with caplog.at_level(logging.ERROR, logger="creator_kit.ui._frame"):
        page.show_error(StorageError("cannot read <table>"), action="load analytics")
    assert "Could not load analytics. cannot read &lt;table&gt;" in page.status.value
    assert 'role="alert"' in page.status.value
    assert "ck-ready" in page._dom_classes
    assert "ck-has-error" in page._dom_classes
    assert any("could not load analytics" in record.getMessage() for record in caplog.records)
    assert caplog.records[-1].exc_info is not None


def test_unexpected_error_names_type() -> None:
    page = PageFrame("overview", title="Overview")
    page.show_error(ZeroDivisionError("division by zero"), action="load the overview")
    assert "ZeroDivisionError: division by zero" in page.status.value


def test_metric_tile_escapes_value() -> None:
    tile = MetricTile("Most used model", key="most_used_model")
    assert "\u2014" in tile.value
    tile.set("<img src=x onerror=alert(1)>", detail="by <requests>")
    assert "<img" not in tile.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in tile.value
    assert "by &lt;requests&gt;" in tile.value
    assert 'data-tile="most_used_model"' in tile.value


def test_chart_view_svg_and_empty() -> None:
    view = ChartView("latency_histogram")
    view.show_svg("<svg></svg>")
    assert 'data-chart="latency_histogram"' in view.value
    view.show_empty("No <data>")
    assert "No &lt;data&gt;" in view.value
    assert 'data-chart-empty="latency_histogram"' in view.value


def test_range_control_default_7d() -> None:
    control = RangeControl()
    assert control.time_range.label == "7d"
    assert control.custom_box.layout.display == "none"


def test_range_control_presets() -> None:
    control = RangeControl()
    seen = []
    control.observe(lambda change: seen.append(change["new"].label), names="time_range")
    for label in ("24h", "30d", "all"):
        control.buttons.value = label
    assert seen == ["24h", "30d", "all"]
    assert control.time_range.since is None


def test_range_control_custom_dates() -> None:
    control = RangeControl()
    control.buttons.value = "custom"
    assert control.custom_box.layout.display == "flex"
    assert control.time_range.label == "7d"  # nothing applied yet
    control.since.value = date(2023, 11, 1)
    control.until.value = date(2023, 11, 16)
    control.apply.click()
    assert control.time_range.label == "custom"
    assert control.time_range.since == datetime(2023, 11, 1, tzinfo=UTC)
    assert control.time_range.until == datetime(2023, 11, 17, tzinfo=UTC)


def test_range_control_rejects_reversed_dates() -> None:
    control = RangeControl()
    control.buttons.value = "custom"
    control.since.value = date(2023, 12, 1)
    control.until.value = date(2023, 11, 1)
    control.apply.click()
    assert control.time_range.label == "7d"
    assert "Invalid range" in control.message.value
    assert "--since" not in control.message.value


def test_range_control_requires_a_date() -> None:
    control = RangeControl()
    control.buttons.value = "custom"
    control.apply.click()
    assert "Pick a start date" in control.message.value
    assert control.time_range.label == "7d"


def test_loader_drops_superseded_result() -> None:
    loader = BackgroundLoader()
    release = threading.Event()
    applied: list[str] = []

    def slow() -> str:
        release.wait(5)
        return "old"

    loader.submit(slow, applied.append, lambda exc: applied.append(f"error {exc}"))
    loader.submit(lambda: "new", applied.append, lambda exc: applied.append(f"error {exc}"))
    assert loader.wait(5)
    release.set()
    # Give the slow thread time to finish; its result must not be applied.
    for thread in threading.enumerate():
        if thread.name == "creator-kit-query":
            thread.join(5)
    assert applied == ["new"]


def test_loader_reports_errors() -> None:
    loader = BackgroundLoader(background=False)
    errors: list[BaseException] = []

    def fail() -> None:
        raise StorageError("disk gone")

    loader.submit(fail, lambda result: None, errors.append)
    assert [str(error) for error in errors] == ["disk gone"]


def test_loader_runs_off_kernel_thread() -> None:
    loader = BackgroundLoader()
    names: list[str] = []
    loader.submit(lambda: threading.current_thread().name, names.append, lambda exc: None)
    assert loader.wait(5)
    assert names == ["creator-kit-query"]


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "\u2014"), (0, "0"), (1234567, "1,234,567")],
)
def test_format_count(value: int | None, text: str) -> None:
    assert format_count(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "\u2014"), (412.4, "412 ms"), (1240.0, "1.24 s")],
)
def test_format_ms(value: float | None, text: str) -> None:
    assert format_ms(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "\u2014"), (0.0, "$0.00"), (0.0012, "$0.0012"), (1234.5, "$1,234.50")],
)
def test_format_usd(value: float | None, text: str) -> None:
    assert format_usd(value) == text


def test_format_percent() -> None:
    assert format_percent(0.9656) == "96.6%"
    assert format_percent(None) == "\u2014"


def test_theme_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_theme() == "light"
    monkeypatch.setenv(frame.THEME_ENV, "dark")
    assert resolve_theme() == "dark"
    assert resolve_theme("light") == "light"
    monkeypatch.setenv(frame.THEME_ENV, "purple")
    assert resolve_theme() == "light"


def test_loader_block_runs_inline() -> None:
    loader = BackgroundLoader()
    names: list[str] = []
    loader.submit(lambda: threading.current_thread().name, names.append, lambda exc: None, block=True)
    assert names == [threading.main_thread().name]


def test_first_load_blocks_under_voila(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    monkeypatch.delenv("VOILA_KERNEL_ID", raising=False)
    assert not frame.first_load_blocks()
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    assert frame.first_load_blocks()
