"""Inline SVG charts drawn on the server: no script, no style, readable at 360 px and on paper.

The site's Content-Security-Policy forbids inline styles, so every look comes from SVG
presentation attributes; classes (chart-bar, chart-value…) let the stylesheet restyle them.
Colour is never the only signal: each bar and column carries its value as text, and the
<desc> read by screen readers lists every value. Charts are drawn left to right in every
language (direction="ltr" keeps their text anchored where it is drawn on right-to-left pages).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from . import i18n
from .i18n import lazy_text as _l

BAR_COLOUR = "#0b5cad"  # 6.6:1 on white
TRACK_COLOUR = "#e6e9ee"  # decoration only: the value text says what the bar says
TEXT_COLOUR = "#1d2330"  # 15:1 on white
FONT_FAMILY = "system-ui, sans-serif"
FONT_SIZE = 14
SMALL_FONT_SIZE = 12
CHAR_WIDTH_EM = 0.6  # a generous average glyph width, to decide how many characters fit
NO_DATA = _l("No data yet")

VIEW_WIDTH = 360  # viewBox units: one unit is about one CSS pixel on a phone
MARGIN = 8
VALUE_GAP = 6  # between a bar's end (or a column's top) and its value text

ROW_HEIGHT = 48  # a bar chart row: label line, bar, gap
LABEL_BASELINE = 14
BAR_TOP = 20
BAR_HEIGHT = 16
BAR_TEXT_BASELINE = 13  # value text baseline, from the bar's top
VALUE_SPACE = 64  # kept free right of a full bar for its value text
BAR_MAX_WIDTH = VIEW_WIDTH - 2 * MARGIN - VALUE_SPACE
LABEL_CHARS = 40

MIN_SLOT_WIDTH = 40  # a column chart widens (and scales down) rather than squeeze columns
COLUMN_FILL = 0.6  # share of its slot a column covers
PLOT_TOP = MARGIN + 18  # room for the tallest column's value text
PLOT_HEIGHT = 160
BASELINE_Y = PLOT_TOP + PLOT_HEIGHT
X_LABEL_BASELINE = BASELINE_Y + 18
COLUMN_CHART_HEIGHT = X_LABEL_BASELINE + MARGIN

EMPTY_HEIGHT = 40
EMPTY_BASELINE = 25
LARGE_NUMBER = 1e9  # from here on values are written like 1.23e+09

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")

Items = Sequence[tuple[str, float]]


def bar_chart(
    title: str,
    rows: Items,
    unit: str = "%",
    maximum: float = 100.0,
    description: str = "",
    *,
    chart_id: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value), with the label above and the value at the end."""
    if not (math.isfinite(maximum) and maximum > 0):
        raise ValueError(f"maximum must be a positive finite number, not {maximum!r}")
    key = _chart_key("bar", title, rows, chart_id)
    if not rows:
        return _empty_chart(key, title, description)
    body = Markup("").join(
        _bar_row(index, label, value, unit, maximum) for index, (label, value) in enumerate(rows)
    )
    height = 2 * MARGIN + len(rows) * ROW_HEIGHT
    return _svg(key, title, _describe(description, _values(rows, unit)), VIEW_WIDTH, height, body)


def column_chart(
    title: str,
    columns: Items,
    unit: str = "",
    description: str = "",
    *,
    chart_id: str = "",
) -> Markup:
    """Vertical columns on a baseline, each with its label below and its value on top."""
    key = _chart_key("column", title, columns, chart_id)
    if not columns:
        return _empty_chart(key, title, description)
    width = max(VIEW_WIDTH, 2 * MARGIN + len(columns) * MIN_SLOT_WIDTH)
    slot = (width - 2 * MARGIN) / len(columns)
    top = _column_scale(columns)
    drawn = (_column(i, slot, label, value, unit, top) for i, (label, value) in enumerate(columns))
    body = _baseline(width) + Markup("").join(drawn)
    description = _describe(description, _values(columns, unit))
    return _svg(key, title, description, width, COLUMN_CHART_HEIGHT, body)


def _bar_row(index: int, label: str, value: float, unit: str, maximum: float) -> Markup:
    """One bar chart row: its label, its track, its bar and its value text."""
    top = MARGIN + index * ROW_HEIGHT
    bar_y = top + BAR_TOP
    width = _clamp(value, maximum) / maximum * BAR_MAX_WIDTH
    name, shown = _clean(label), _format_value(value, unit)
    return Markup(
        '<g class="chart-row"><title>{name}: {shown}</title>'
        '<text class="chart-label" x="{x}" y="{label_y}" fill="{ink}">{short}</text>'
        '<rect class="chart-track" x="{x}" y="{bar_y}" width="{track}" height="{h}" fill="{bg}"/>'
        '<rect class="chart-bar" x="{x}" y="{bar_y}" width="{width}" height="{h}" fill="{bar}"/>'
        '<text class="chart-value" x="{value_x}" y="{value_y}" fill="{ink}">{shown}</text></g>'
    ).format(
        name=name,
        shown=shown,
        short=_truncate(name, LABEL_CHARS),
        x=MARGIN,
        label_y=top + LABEL_BASELINE,
        bar_y=bar_y,
        track=BAR_MAX_WIDTH,
        width=_coord(width),
        h=BAR_HEIGHT,
        value_x=_coord(MARGIN + width + VALUE_GAP),
        value_y=bar_y + BAR_TEXT_BASELINE,
        ink=TEXT_COLOUR,
        bg=TRACK_COLOUR,
        bar=BAR_COLOUR,
    )


def _column(index: int, slot: float, label: str, value: float, unit: str, top: float) -> Markup:
    """One column with its value text above it and its label below the baseline."""
    height = _clamp(value, top) / top * PLOT_HEIGHT
    centre = MARGIN + (index + 0.5) * slot
    name, shown = _clean(label), _format_value(value, unit)
    return Markup(
        '<g class="chart-column"><title>{name}: {shown}</title>'
        '<rect class="chart-bar" x="{x}" y="{y}" width="{width}" height="{height}" fill="{bar}"/>'
        '<text class="chart-value" x="{centre}" y="{value_y}" text-anchor="middle" '
        'font-size="{size}" fill="{ink}">{shown}</text>'
        '<text class="chart-label" x="{centre}" y="{label_y}" text-anchor="middle" '
        'font-size="{size}" fill="{ink}">{short}</text></g>'
    ).format(
        name=name,
        shown=shown,
        short=_truncate(name, max(1, int(slot // (SMALL_FONT_SIZE * CHAR_WIDTH_EM)))),
        x=_coord(centre - slot * COLUMN_FILL / 2),
        y=_coord(BASELINE_Y - height),
        width=_coord(slot * COLUMN_FILL),
        height=_coord(height),
        centre=_coord(centre),
        value_y=_coord(BASELINE_Y - height - VALUE_GAP),
        label_y=X_LABEL_BASELINE,
        size=SMALL_FONT_SIZE,
        ink=TEXT_COLOUR,
        bar=BAR_COLOUR,
    )


def _baseline(width: float) -> Markup:
    """The axis line every column stands on, drawn even when all columns are zero."""
    return Markup(
        '<line class="chart-baseline" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" '
        'stroke="{ink}" stroke-width="1"/>'
    ).format(x1=MARGIN, x2=_coord(width - MARGIN), y=BASELINE_Y, ink=TEXT_COLOUR)


def _empty_chart(key: str, title: str, description: str) -> Markup:
    """A chart with nothing to draw, saying so in words."""
    body = Markup('<text class="chart-empty" x="{x}" y="{y}" fill="{ink}">{text}</text>').format(
        x=MARGIN, y=EMPTY_BASELINE, ink=TEXT_COLOUR, text=NO_DATA
    )
    return _svg(key, title, _describe(description, NO_DATA), VIEW_WIDTH, EMPTY_HEIGHT, body)


def _svg(key: str, title: str, desc: str, width: float, height: float, body: Markup) -> Markup:
    """The <svg> element around a chart body, labelled by its own <title> and <desc>."""
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" direction="ltr" '
        'aria-labelledby="{key}-title {key}-desc" viewBox="0 0 {width} {height}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" font-family="{font}" font-size="{size}">'
        '<title id="{key}-title">{title}</title><desc id="{key}-desc">{desc}</desc>'
        "{body}</svg>"
    ).format(
        key=key,
        width=_coord(width),
        height=_coord(height),
        font=FONT_FAMILY,
        size=FONT_SIZE,
        title=_clean(title),
        desc=_clean(desc),
        body=body,
    )


def _describe(description: str, facts: str) -> str:
    """What a screen reader hears: the caller's description, then the facts drawn."""
    lead = _clean(description).rstrip(".")
    return f"{lead}. {facts}." if lead else f"{facts}."


def _values(items: Items, unit: str) -> str:
    """Every label with its value, as one sentence: "Alice: 72%; Bob: 40%"."""
    return "; ".join(f"{_clean(label)}: {_format_value(value, unit)}" for label, value in items)


def _chart_key(kind: str, title: str, items: Items, chart_id: str) -> str:
    """The id prefix: the caller's chart_id, else a slug of the title and a hash of the data."""
    if chart_id:
        return "chart-" + _NOT_ID.sub("-", chart_id)
    slug = _NOT_ID.sub("-", title.lower()).strip("-_")[:LABEL_CHARS] or kind
    data = repr((kind, title, list(items))).encode("utf-8", "backslashreplace")
    return f"chart-{slug}-{hashlib.sha256(data).hexdigest()[:8]}"


def _column_scale(columns: Items) -> float:
    """The value a full-height column stands for: the largest finite value, or 1."""
    top = max((value for _, value in columns if math.isfinite(value)), default=0.0)
    return top if top > 0 else 1.0


def _format_value(value: float, unit: str) -> str:
    """A value as people read it: whole percent, else one decimal at most; "72%", "2.5 h"."""
    if not math.isfinite(value):
        return "–"
    if abs(value) >= LARGE_NUMBER:
        number = f"{value:.3g}"
    else:
        step = Decimal(1) if unit == "%" else Decimal("0.1")
        rounded = Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP)
        rounded = abs(rounded) if rounded == 0 else rounded  # never "-0"
        if unit == "%":
            return i18n.percent(float(rounded) / 100)
        number = i18n.number(rounded)
    unit = _clean(unit)
    return f"{number} {unit}" if unit else number


def _clamp(value: float, maximum: float) -> float:
    """The value as drawn: within [0, maximum], and 0 when it is not a number."""
    if math.isnan(value):
        return 0.0
    return min(max(value, 0.0), maximum)


def _clean(text: str) -> str:
    """Text that XML 1.0 can hold, its runs of whitespace made single spaces."""
    return " ".join(_NOT_XML.sub("", str(text)).split())


def _truncate(text: str, limit: int) -> str:
    """The text cut to at most limit characters, ending with "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _coord(number: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    return f"{number:.2f}".rstrip("0").rstrip(".") or "0"
