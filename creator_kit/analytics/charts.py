"""Altair charts of the analytics frames, rendered offline.

Every builder takes a frame that is already aggregated in Polars (one row per
model, bucket or day), so a chart never meets Altair's row limit and never
drops rows. The data is inlined into the spec as plain values.

Rendering needs no network: `chart_to_svg` and `chart_to_png` run Vega in
process through vl-convert, and `chart_to_html` wraps the SVG in a
self-contained ``<figure>`` for exported reports. Altair's own notebook
renderer is not used because it loads Vega from a CDN when the frontend does
not handle the Vega-Lite mimetype (Voila 0.5 does not).

Examples
--------
>>> import polars as pl
>>> from creator_kit.analytics.charts import chart_latency_histogram, chart_to_svg
>>> frame = pl.DataFrame({"bucket": ["0-100 ms", "100-500 ms"], "count": [3, 5]})
>>> chart_to_svg(chart_latency_histogram(frame, theme="dark")).startswith("<svg")
True
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import altair as alt
import polars as pl

from creator_kit.errors import InvalidInputError

__all__ = [
    "THEMES",
    "Theme",
    "chart_cost_by_model",
    "chart_cost_by_provider",
    "chart_daily_trends",
    "chart_latency_histogram",
    "chart_model_performance",
    "chart_to_html",
    "chart_to_png",
    "chart_to_svg",
    "theme_colors",
]

logger = logging.getLogger(__name__)

Theme = Literal["light", "dark"]

THEMES: tuple[Theme, ...] = ("light", "dark")

# Background colours match JupyterLab's --jp-layout-color1 in each theme, so
# a chart sits on its card without a visible box.
_PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "background": "#ffffff",
        "text": "#1f2328",
        "muted": "#57606a",
        "grid": "#d8dee4",
        "accent": "#2f6fdf",
        "accent2": "#d9480f",
        "accent3": "#2b8a3e",
    },
    "dark": {
        "background": "#212121",
        "text": "#e6e6e6",
        "muted": "#b0b0b0",
        "grid": "#3d3d3d",
        "accent": "#6ea8fe",
        "accent2": "#ff922b",
        "accent3": "#69db7c",
    },
}

# vl-convert measures text with Liberation Sans; Arial has the same metrics.
# A font with other metrics in the browser would overflow the label space
# Vega reserved and clip the labels at the SVG's edge.
_FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"

# Longer axis labels (replicate model ids carry a 64-character hash) are cut
# with an ellipsis in the data, so every label fits the space Vega reserves.
MAX_LABEL_CHARS = 48

DEFAULT_WIDTH = 620


def theme_colors(theme: Theme = "light") -> dict[str, str]:
    """Return the colours of `theme`: background, text, muted, grid and three accents.

    Raises
    ------
    InvalidInputError
        If `theme` is not ``"light"`` or ``"dark"``.
    """
    try:
        return dict(_PALETTES[theme])
    except KeyError:
        msg = f"unknown chart theme {theme!r}; use 'light' or 'dark'"
        raise InvalidInputError(msg) from None


def chart_model_performance(
    frame: pl.DataFrame | Iterable[Mapping[str, Any]],
    *,
    theme: Theme = "light",
    width: int = DEFAULT_WIDTH,
    title: str | None = "Model performance",
) -> alt.TopLevelMixin:
    """Chart mean time to first token per model, with the p95 as a tick.

    Parameters
    ----------
    frame
        One row per provider and model with ``provider``, ``model``,
        ``requests``, ``success_rate`` (0-1), ``avg_ttft_ms`` and
        ``p95_ttft_ms``, as `model_performance` returns.
    theme
        ``"light"`` or ``"dark"``.
    width
        Width of the plot area in pixels.
    title
        Title drawn above the chart; None for none (a page card has its own).
    """
    data = _frame(frame, ["provider", "model", "requests", "success_rate", "avg_ttft_ms", "p95_ttft_ms"])
    data = data.with_columns(
        _short_label(pl.concat_str([pl.col("provider"), pl.col("model")], separator=" / ")).alias("label"),
        (pl.col("success_rate") * 100).round(1).alias("success_pct"),
    ).sort("avg_ttft_ms", descending=True, nulls_last=True)
    colors = theme_colors(theme)
    order = data.get_column("label").to_list()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))

    base = alt.Chart(_inline(data))
    bars = base.mark_bar(color=colors["accent"], height={"band": 0.7}).encode(
        x=alt.X("avg_ttft_ms:Q", title="Time to first token (ms): mean bar, p95 tick"),
        y=y,
        tooltip=["provider:N", "model:N", "requests:Q", "success_pct:Q", "avg_ttft_ms:Q", "p95_ttft_ms:Q"],
    )
    ticks = base.mark_tick(color=colors["accent2"], thickness=3, size=14).encode(x="p95_ttft_ms:Q", y=y)
    height = max(60, 26 * max(len(order), 1))
    chart = alt.layer(bars, ticks).properties(width=width, height=height, **_title(title))
    return _themed(chart, theme)


def chart_latency_histogram(
    frame: pl.DataFrame | Iterable[Mapping[str, Any]],
    *,
    theme: Theme = "light",
    width: int = DEFAULT_WIDTH,
    title: str | None = "Latency distribution",
) -> alt.TopLevelMixin:
    """Chart the count of successful runs per time-to-first-token bucket.

    The buckets keep the order of `frame` (``0-100 ms`` first, ``over 5 s``
    last), not alphabetical order.
    """
    data = _frame(frame, ["bucket", "count"])
    colors = theme_colors(theme)
    order = data.get_column("bucket").to_list()
    chart = (
        alt.Chart(_inline(data))
        .mark_bar(color=colors["accent"])
        .encode(
            x=alt.X("bucket:N", sort=order, title="Time to first token", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count:Q", title="Successful runs"),
            tooltip=["bucket:N", "count:Q"],
        )
        .properties(width=width, height=220, **_title(title))
    )
    return _themed(chart, theme)


def chart_daily_trends(
    frame: pl.DataFrame | Iterable[Mapping[str, Any]],
    *,
    theme: Theme = "light",
    width: int = DEFAULT_WIDTH,
    title: str | None = "Daily trends",
) -> alt.TopLevelMixin:
    """Chart requests, tokens and mean time to first token per UTC day.

    Three panels share the date axis. `frame` has ``date``, ``requests``,
    ``tokens`` and ``avg_ttft_ms``, one row per day with data. The chart
    adds each missing day between the first and the last, with 0 requests,
    0 tokens and no TTFT. Requests and tokens are drawn as one bar per day.
    The mean TTFT is a line with points, and the line breaks on days without
    a value, so a gap in the data shows as a gap.
    """
    data = _fill_days(_frame(frame, ["date", "requests", "tokens", "avg_ttft_ms"]))
    colors = theme_colors(theme)
    # Vega puts a date's tick at midnight UTC, where the day's bar starts, so
    # the labels move half a day right to sit under their own bar.
    # The tick at the end of the last day has no bar, so its label is blank.
    half_day = width / max(len(data), 1) / 2
    labels = "datum.label"
    if not data.is_empty():
        end = datetime.combine(data["date"].max() + timedelta(days=1), time(), tzinfo=UTC)
        labels = f"datum.value >= {int(end.timestamp() * 1000)} ? '' : datum.label"
    axis = alt.Axis(
        format="%Y-%m-%d",
        labelAngle=0,
        tickCount=6,
        labelOffset=half_day,
        labelFlush=False,
        labelExpr=labels,
        ticks=False,
    )
    day = alt.X("utcyearmonthdate(date):T", title=None, axis=axis)
    # The bars span their UTC day, and the TTFT points sit at its middle.
    day_middle = alt.X("utcyearmonthdate(date):T", title=None, axis=axis, bandPosition=0.5)
    date_tip = alt.Tooltip("utcyearmonthdate(date):T", title="date", format="%Y-%m-%d")
    base = alt.Chart(_inline(data))

    def bars(field: str, label: str, color: str) -> alt.Chart:
        return base.mark_bar(color=color, width={"band": 0.8}).encode(
            x=day, y=alt.Y(f"{field}:Q", title=label), tooltip=[date_tip, alt.Tooltip(f"{field}:Q", title=label)]
        )

    requests = bars("requests", "Requests", colors["accent"])
    tokens = bars("tokens", "Tokens", colors["accent3"])
    # A null TTFT breaks the line instead of joining its neighbours.
    ttft = base.mark_line(
        color=colors["accent2"], invalid="break-paths-show-domains", point={"color": colors["accent2"], "size": 36}
    ).encode(
        x=day_middle,
        y=alt.Y("avg_ttft_ms:Q", title="Mean TTFT (ms)"),
        tooltip=[date_tip, alt.Tooltip("avg_ttft_ms:Q", title="mean TTFT (ms)", format=".0f")],
    )
    panels = [layer.properties(width=width, height=110) for layer in (requests, tokens, ttft)]
    chart = alt.vconcat(*panels, spacing=12).properties(**_title(title))
    return _themed(chart, theme)


def chart_cost_by_model(
    frame: pl.DataFrame | Iterable[Mapping[str, Any]],
    *,
    theme: Theme = "light",
    width: int = DEFAULT_WIDTH,
    title: str | None = "Cost per model",
) -> alt.TopLevelMixin:
    """Chart the estimated cost in USD per model.

    `frame` has ``model`` and ``cost_usd`` (``provider`` is added to the
    label when present). Models without a known price have a null cost and
    are left out of the bars; the page lists them as "price unknown".
    """
    data = _frame(frame, ["model", "cost_usd"])
    if "provider" in data.columns:
        data = data.with_columns(
            _short_label(pl.concat_str([pl.col("provider"), pl.col("model")], separator=" / ")).alias("label")
        )
    else:
        data = data.with_columns(_short_label(pl.col("model")).alias("label"))
    return _cost_bars(data, title=title, theme=theme, width=width)


def chart_cost_by_provider(
    frame: pl.DataFrame | Iterable[Mapping[str, Any]],
    *,
    theme: Theme = "light",
    width: int = DEFAULT_WIDTH,
    title: str | None = "Cost per provider",
) -> alt.TopLevelMixin:
    """Chart the estimated cost in USD per provider (``provider``, ``cost_usd``)."""
    data = _frame(frame, ["provider", "cost_usd"]).with_columns(_short_label(pl.col("provider")).alias("label"))
    return _cost_bars(data, title=title, theme=theme, width=width)


def chart_to_svg(chart: alt.TopLevelMixin) -> str:
    """Render `chart` to an SVG document string with vl-convert, offline.

    Raises
    ------
    InvalidInputError
        If Vega cannot render the spec.
    """
    import vl_convert

    spec = chart.to_json()
    try:
        return vl_convert.vegalite_to_svg(spec)
    except ValueError as exc:
        raise InvalidInputError(f"cannot render chart to SVG: {exc}") from exc


def chart_to_png(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> bytes:
    """Render `chart` to PNG bytes with vl-convert, offline; `scale` multiplies the pixel size."""
    import vl_convert

    try:
        return vl_convert.vegalite_to_png(chart.to_json(), scale=scale)
    except ValueError as exc:
        raise InvalidInputError(f"cannot render chart to PNG: {exc}") from exc


def chart_to_html(chart: alt.TopLevelMixin, *, caption: str | None = None) -> str:
    """Return `chart` as an HTML ``<figure>`` with the SVG inline.

    The fragment loads nothing (no script, no CDN), so a report or a widget
    that embeds it renders offline. `caption` is escaped.
    """
    svg = chart_to_svg(chart)
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="ck-chart" style="margin:0;overflow-x:auto">{svg}{caption_html}</figure>'


def _cost_bars(data: pl.DataFrame, *, title: str | None, theme: Theme, width: int) -> alt.TopLevelMixin:
    colors = theme_colors(theme)
    data = data.filter(pl.col("cost_usd").is_not_null()).sort("cost_usd", descending=True)
    order = data.get_column("label").to_list()
    chart = (
        alt.Chart(_inline(data.select("label", "cost_usd")))
        .mark_bar(color=colors["accent3"])
        .encode(
            x=alt.X("cost_usd:Q", title="Estimated cost (USD)"),
            y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=0)),
            tooltip=["label:N", alt.Tooltip("cost_usd:Q", format="$.4f")],
        )
        .properties(width=width, height=max(60, 26 * max(len(order), 1)), **_title(title))
    )
    return _themed(chart, theme)


def _title(title: str | None) -> dict[str, str]:
    return {"title": title} if title else {}


def _short_label(label: pl.Expr) -> pl.Expr:
    cut = label.str.slice(0, MAX_LABEL_CHARS - 1) + pl.lit("\u2026")
    return pl.when(label.str.len_chars() > MAX_LABEL_CHARS).then(cut).otherwise(label)


def _frame(frame: pl.DataFrame | Iterable[Mapping[str, Any]], columns: list[str]) -> pl.DataFrame:
    """Accept a frame or a list of dicts and check that it has `columns`."""
    if not isinstance(frame, pl.DataFrame):
        rows = list(frame)
        frame = pl.DataFrame(rows) if rows else pl.DataFrame(schema={name: pl.Null for name in columns})
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        msg = (
            f"chart data lacks column {missing[0]!r}; it has {', '.join(frame.columns) or 'no columns'}.\n"
            f"Hint: pass the aggregated frame with {', '.join(columns)}."
        )
        raise InvalidInputError(msg)
    return frame


def _fill_days(data: pl.DataFrame) -> pl.DataFrame:
    """Add a row for each day between the first and the last without one: 0 requests and tokens, null TTFT."""
    dates = data.get_column("date")
    if dates.dtype == pl.String:
        dates = dates.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    elif dates.dtype != pl.Date:
        dates = dates.cast(pl.Date, strict=False)
    data = data.with_columns(dates.alias("date")).filter(pl.col("date").is_not_null())
    if data.is_empty():
        return data.select("date", "requests", "tokens", "avg_ttft_ms")
    days = pl.DataFrame({"date": pl.date_range(data["date"].min(), data["date"].max(), "1d", eager=True)})
    return (
        days.join(data.select("date", "requests", "tokens", "avg_ttft_ms"), on="date", how="left")
        .with_columns(pl.col("requests").fill_null(0), pl.col("tokens").fill_null(0))
        .sort("date")
    )


def _inline(frame: pl.DataFrame) -> alt.InlineData:
    """Inline `frame` as JSON values; dates become ISO strings Vega parses as UTC."""
    rows = []
    for row in frame.iter_rows(named=True):
        rows.append({key: _json_value(value) for key, value in row.items()})
    return alt.InlineData(values=rows)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        # A bare date would be read as local time by Vega; pin it to UTC midnight.
        return f"{value.isoformat()}T00:00:00Z"
    return value


def _themed(chart: alt.TopLevelMixin, theme: Theme) -> alt.TopLevelMixin:
    colors = theme_colors(theme)
    axis = {
        "labelColor": colors["muted"],
        "titleColor": colors["text"],
        "gridColor": colors["grid"],
        "domainColor": colors["grid"],
        "tickColor": colors["grid"],
        "labelFont": _FONT,
        "titleFont": _FONT,
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": 600,
    }
    return chart.configure(background=colors["background"], font=_FONT).configure_axis(
        **axis
    ).configure_title(
        color=colors["text"], font=_FONT, fontSize=14, anchor="start"
    ).configure_view(stroke=None).configure_legend(labelColor=colors["text"], titleColor=colors["text"])
