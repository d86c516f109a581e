"""Charts: built from aggregated frames, rendered offline in both themes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
import pytest

from creator_kit.analytics import charts
from creator_kit.errors import InvalidInputError

BUCKETS = ["0-100 ms", "100-500 ms", "500-1000 ms", "1-2 s", "2-5 s", "over 5 s"]


@pytest.fixture
def models() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": ["anyscale", "bedrock", "<b>evil</b>"],
            "model": ["llama-2-7b", "llama-2-13b", "<script>alert(1)</script>"],
            "requests": [100, 50, 3],
            "success_rate": [0.99, 0.9, 1.0],
            "avg_ttft_ms": [400.0, 812.5, 120.0],
            "p50_ttft_ms": [380.0, 700.0, 110.0],
            "p95_ttft_ms": [900.0, 1500.0, 130.0],
        }
    )


@pytest.fixture
def histogram() -> pl.DataFrame:
    return pl.DataFrame({"bucket": BUCKETS, "count": [1, 20, 30, 10, 3, 0]})


@pytest.fixture
def daily() -> pl.DataFrame:
    days = [date(2023, 11, 16) + timedelta(days=i) for i in range(5)]
    return pl.DataFrame(
        {"date": days, "requests": [5, 6, 7, 8, 9], "tokens": [500, 600, 700, 800, 900], "avg_ttft_ms": [300.0] * 5}
    )


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize("theme", charts.THEMES)
def test_model_performance_draws_every_model(models: pl.DataFrame, theme: str) -> None:
    svg = charts.chart_to_svg(charts.chart_model_performance(models, theme=theme))
    texts = _texts(svg)
    assert "anyscale / llama-2-7b" in texts
    assert "bedrock / llama-2-13b" in texts
    # Model text is escaped by the SVG writer, never emitted as markup.
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_model_performance_one_bar_per_model(models: pl.DataFrame) -> None:
    spec = charts.chart_model_performance(models).to_dict()
    values = spec["datasets"][next(iter(spec["datasets"]))] if "datasets" in spec else spec["data"]["values"]
    assert len(values) == 3
    assert [row["label"] for row in values][0] == "bedrock / llama-2-13b"  # slowest first


def test_histogram_keeps_bucket_order(histogram: pl.DataFrame) -> None:
    svg = charts.chart_to_svg(charts.chart_latency_histogram(histogram))
    labels = [text for text in _texts(svg) if text in BUCKETS]
    assert labels == BUCKETS


@pytest.mark.parametrize("theme", charts.THEMES)
def test_theme_sets_background_and_text(histogram: pl.DataFrame, theme: str) -> None:
    svg = charts.chart_to_svg(charts.chart_latency_histogram(histogram, theme=theme))
    colors = charts.theme_colors(theme)
    assert f'fill="{colors["background"]}"' in svg
    assert f'fill="{colors["text"]}"' in svg


def test_dark_theme_differs_from_light(histogram: pl.DataFrame) -> None:
    light = charts.chart_to_svg(charts.chart_latency_histogram(histogram, theme="light"))
    dark = charts.chart_to_svg(charts.chart_latency_histogram(histogram, theme="dark"))
    assert 'fill="#ffffff"' in light
    assert 'fill="#ffffff"' not in dark


def test_unknown_theme_rejected(histogram: pl.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match="unknown chart theme 'blue'"):
        charts.chart_latency_histogram(histogram, theme="blue")  # type: ignore[arg-type]


def test_daily_trends_three_panels(daily: pl.DataFrame) -> None:
    spec = charts.chart_daily_trends(daily).to_dict()
    assert len(spec["vconcat"]) == 3
    svg = charts.chart_to_svg(charts.chart_daily_trends(daily))
    texts = _texts(svg)
    assert "Requests" in texts
    assert "Tokens" in texts
    assert "Mean TTFT (ms)" in texts


def test_daily_dates_are_utc_midnight(daily: pl.DataFrame) -> None:
    spec = charts.chart_daily_trends(daily).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert values[0]["date"] == "2023-11-16T00:00:00Z"


def test_many_rows_not_truncated() -> None:
    # 9000 days is past Altair's default limit of 5000 rows.
    days = [date(2000, 1, 1) + timedelta(days=i) for i in range(9000)]
    frame = pl.DataFrame({"date": days, "requests": [1] * 9000, "tokens": [2] * 9000, "avg_ttft_ms": [3.0] * 9000})
    chart = charts.chart_daily_trends(frame)
    values = next(iter(chart.to_dict()["datasets"].values()))
    assert len(values) == 9000
    assert charts.chart_to_svg(chart).startswith("<svg")


def test_cost_by_model_skips_unknown_prices() -> None:
    rows = [
        {"provider": "anyscale", "model": "llama-2-7b", "cost_usd": 0.25},
        {"provider": "local", "model": "mystery", "cost_usd": None},
    ]
    svg = charts.chart_to_svg(charts.chart_cost_by_model(rows))
    texts = _texts(svg)
    assert "anyscale / llama-2-7b" in texts
    assert "local / mystery" not in texts


def test_cost_by_provider_labels() -> None:
    svg = charts.chart_to_svg(charts.chart_cost_by_provider([{"provider": "bedrock", "cost_usd": 1.5}]))
    assert "bedrock" in _texts(svg)


@pytest.mark.parametrize(
    "build",
    [charts.chart_model_performance, charts.chart_latency_histogram, charts.chart_daily_trends],
)
def test_empty_frame_renders(build, models: pl.DataFrame, histogram: pl.DataFrame, daily: pl.DataFrame) -> None:
    frame = {
        charts.chart_model_performance: models,
        charts.chart_latency_histogram: histogram,
        charts.chart_daily_trends: daily,
    }[build].clear()
    assert charts.chart_to_svg(build(frame)).startswith("<svg")


def test_missing_column_named() -> None:
    with pytest.raises(InvalidInputError, match="lacks column 'count'"):
        charts.chart_latency_histogram(pl.DataFrame({"bucket": ["0-100 ms"]}))


def test_html_is_self_contained(histogram: pl.DataFrame) -> None:
    fragment = charts.chart_to_html(charts.chart_latency_histogram(histogram), caption="A <b>caption</b>")
    assert fragment.startswith('<figure class="ck-chart"')
    assert "<svg" in fragment
    assert "<script" not in fragment
    assert "http://" not in fragment.replace("http://www.w3.org", "")
    assert "https://" not in fragment
    assert "A &lt;b&gt;caption&lt;/b&gt;" in fragment


def test_png_bytes(histogram: pl.DataFrame) -> None:
    png = charts.chart_to_png(charts.chart_latency_histogram(histogram, theme="dark"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def _daily_values(chart) -> list[dict]:  # noqa: ANN001 - an Altair chart
    spec = chart.to_dict()
    return next(iter(spec["datasets"].values()))


def test_daily_trends_shows_days_without_rows() -> None:
    frame = pl.DataFrame(
        {
            "date": [date(2026, 11, 29), date(2026, 12, 4)],
            "requests": [40, 12],
            "tokens": [30000, 9000],
            "avg_ttft_ms": [420.0, 610.0],
        }
    )
    values = _daily_values(charts.chart_daily_trends(frame))
    assert [row["date"][:10] for row in values] == [
        "2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"
    ]
    assert [row["requests"] for row in values] == [40, 0, 0, 0, 0, 12]
    assert [row["tokens"] for row in values] == [30000, 0, 0, 0, 0, 9000]
    assert [row["avg_ttft_ms"] for row in values] == [420.0, None, None, None, None, 610.0]


def test_daily_trends_bars_and_broken_ttft_line(daily: pl.DataFrame) -> None:
    panels = charts.chart_daily_trends(daily).to_dict()["vconcat"]
    marks = [panel["mark"] for panel in panels]
    assert [mark["type"] for mark in marks] == ["bar", "bar", "line"]
    assert marks[2]["invalid"] == "break-paths-show-domains"
    assert marks[2]["point"]


def test_daily_trends_accepts_iso_date_strings() -> None:
    rows = [
        {"date": "2026-11-29", "requests": 1, "tokens": 10, "avg_ttft_ms": 100.0},
        {"date": "2026-12-01", "requests": 2, "tokens": 20, "avg_ttft_ms": None},
    ]
    values = _daily_values(charts.chart_daily_trends(rows))
    assert [(row["date"], row["requests"]) for row in values] == [
        ("2026-11-29T00:00:00Z", 1),
        ("2026-11-30T00:00:00Z", 0),
        ("2026-12-01T00:00:00Z", 2),
    ]
