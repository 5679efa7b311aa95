"""Server-drawn SVG charts: well-formed, labelled for screen readers, escaped, free of style."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from trainer import charts
from trainer.charts import bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"
XSS = "<script>alert(1)</script> & co"


def parse(markup: Markup) -> ET.Element:
    """The chart's root element; fails the test if the markup is not well-formed XML."""
    assert isinstance(markup, Markup)
    return ET.fromstring(str(markup))


def find_all(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    """Every descendant <tag class="cls">."""
    return [el for el in root.iter(SVG + tag) if el.get("class") == cls]


def texts(root: ET.Element, cls: str) -> list[str]:
    """The contents of every <text class="cls">."""
    return [el.text or "" for el in find_all(root, "text", cls)]


def rows_of(root: ET.Element) -> list[ET.Element]:
    """The bar chart's row groups."""
    return find_all(root, "g", "chart-row")


def bar_width(row: ET.Element) -> float:
    """How wide a row's bar is drawn, as a share of its track."""
    bar = row.find(f"{SVG}rect[@class='chart-bar']")
    track = row.find(f"{SVG}rect[@class='chart-track']")
    return float(bar.get("width")) / float(track.get("width"))


def ids(root: ET.Element) -> list[str]:
    """Every id in the chart."""
    return [el.get("id") for el in root.iter() if el.get("id") is not None]


def assert_labelled(root: ET.Element) -> None:
    """The root is a labelled image whose aria-labelledby names its own <title> and <desc>."""
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("class") == "chart"
    assert root.get("preserveAspectRatio") == "xMinYMin meet"
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    title_id, desc_id = root.get("aria-labelledby").split()
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert by_id[title_id].tag == SVG + "title" and by_id[desc_id].tag == SVG + "desc"
    assert root.find(SVG + "title") is by_id[title_id]
    assert root.find(SVG + "desc") is by_id[desc_id]
    assert len(ids(root)) == len(set(ids(root)))


def assert_no_style_or_script(root: ET.Element) -> None:
    """Nothing the Content-Security-Policy would block, nothing fetched from elsewhere."""
    for el in root.iter():
        assert el.tag not in (SVG + "style", SVG + "script", SVG + "foreignObject")
        assert "style" not in el.attrib
        assert not any(name.endswith("href") for name in el.attrib)
        assert not any(name.startswith("on") for name in el.attrib)
        assert not any("url(" in value for value in el.attrib.values())


SCORES = [("Safety basics", 72.0), ("Soldering", 40.0), ("Networks", 100.0)]
WEEKS = [("W1", 3.0), ("W2", 0.0), ("W3", 6.0)]


def test_bar_chart_is_a_labelled_image():
    root = parse(bar_chart("Quiz scores", SCORES, description="Best score per course"))
    assert_labelled(root)
    assert root.find(SVG + "title").text == "Quiz scores"
    desc = root.find(SVG + "desc").text
    assert desc == "Best score per course. Safety basics: 72%; Soldering: 40%; Networks: 100%."
    assert root.get("font-family") == "system-ui, sans-serif"


def test_one_bar_per_row_with_its_label_and_value_text():
    root = parse(bar_chart("Quiz scores", SCORES))
    rows = rows_of(root)
    assert len(rows) == 3
    for row, (label, _) in zip(rows, SCORES, strict=True):
        assert len(row.findall(f"{SVG}rect[@class='chart-bar']")) == 1
        assert row.find(f"{SVG}text[@class='chart-label']").text == label
    assert texts(root, "chart-value") == ["72%", "40%", "100%"]


def test_value_text_sits_at_the_end_of_its_bar():
    root = parse(bar_chart("Quiz scores", SCORES))
    for row in rows_of(root):
        bar = row.find(f"{SVG}rect[@class='chart-bar']")
        value = row.find(f"{SVG}text[@class='chart-value']")
        bar_end = float(bar.get("x")) + float(bar.get("width"))
        assert bar_end < float(value.get("x")) <= bar_end + 10


def test_bar_widths_are_proportional_to_values():
    root = parse(bar_chart("Hours", [("a", 1.0), ("b", 2.0), ("c", 4.0)], unit="h", maximum=8))
    assert [bar_width(row) for row in rows_of(root)] == pytest.approx([0.125, 0.25, 0.5])


def test_values_are_clamped_for_drawing_but_written_as_they_are():
    rows = [("over", 150.0), ("under", -20.0), ("infinite", float("inf")), ("nan", float("nan"))]
    root = parse(bar_chart("Clamped", rows))
    assert [bar_width(row) for row in rows_of(root)] == [1.0, 0.0, 1.0, 0.0]
    assert texts(root, "chart-value") == ["150%", "-20%", "–", "–"]


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (72.5, "%", "73%"),
        (72.49, "%", "72%"),
        (-0.4, "%", "0%"),
        (2.25, "h", "2.3 h"),
        (3.0, "h", "3 h"),
        (-0.04, "", "0"),
        (12.0, "", "12"),
        (0.35, "", "0.4"),
        (2.5e12, "", "2.5e+12"),
    ],
)
def test_values_are_rounded_sensibly(value, unit, shown):
    root = parse(bar_chart("Rounding", [("x", value)], unit=unit))
    assert texts(root, "chart-value") == [shown]


def test_long_labels_are_truncated_but_kept_whole_in_the_row_title():
    label = "Introduction to safe work with mains electricity in the workshop"
    row = rows_of(parse(bar_chart("Long", [(label, 50.0)])))[0]
    shown = row.find(f"{SVG}text[@class='chart-label']").text
    assert len(shown) <= 40 and shown.endswith("…")
    assert label.startswith(shown[:-1])
    assert row.find(SVG + "title").text == f"{label}: 50%"


def test_labels_title_and_description_are_escaped():
    for chart in (bar_chart, column_chart):
        markup = chart(XSS, [(XSS, 10.0)], description=XSS)
        assert "<script" not in markup and "& co" not in markup
        root = parse(markup)
        assert root.find(SVG + "title").text == XSS
        assert root.find(SVG + "desc").text.startswith(XSS)
        assert texts(root, "chart-label") == [XSS]


def test_unit_is_escaped_too():
    markup = bar_chart("Unit", [("a", 1.0)], unit="<b>")
    assert "<b>" not in markup
    assert texts(parse(markup), "chart-value") == ["1 <b>"]


@pytest.mark.parametrize(
    "markup",
    [
        bar_chart("Bars", SCORES),
        bar_chart("Empty bars", []),
        column_chart("Columns", WEEKS),
        column_chart("Empty columns", []),
    ],
)
def test_no_style_script_or_external_reference(markup):
    assert "style" not in markup and "<script" not in markup
    assert_no_style_or_script(parse(markup))


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_empty_data_says_so(chart):
    root = parse(chart("Nothing yet", [], description="Answers per week"))
    assert_labelled(root)
    assert texts(root, "chart-empty") == ["No data yet"]
    assert root.find(SVG + "desc").text == "Answers per week. No data yet."
    assert not find_all(root, "rect", "chart-bar")


def test_charts_on_one_page_have_distinct_ids():
    page = [
        bar_chart("Quiz scores", SCORES),
        bar_chart("Quiz scores!", SCORES),  # the same slug: the hash still tells them apart
        bar_chart("Quiz scores", SCORES[:1]),  # the same title, other data
        column_chart("Quiz scores", SCORES),
        column_chart("Weekly activity", WEEKS),
        bar_chart("Empty", []),
    ]
    all_ids = [i for markup in page for i in ids(parse(markup))]
    assert len(all_ids) == 2 * len(page) == len(set(all_ids))


def test_ids_are_stable_and_start_from_the_title():
    first, again = (parse(bar_chart("Quiz scores", SCORES)) for _ in range(2))
    assert ids(first) == ids(again)
    assert ids(first)[0].startswith("chart-quiz-scores-")


def test_chart_id_is_used_and_made_safe():
    root = parse(bar_chart("Quiz scores", SCORES, chart_id="course 7/scores"))
    assert ids(root) == ["chart-course-7-scores-title", "chart-course-7-scores-desc"]
    assert_labelled(root)


def test_maximum_must_be_positive():
    for maximum in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="maximum"):
            bar_chart("Bad", SCORES, maximum=maximum)


def test_column_chart_draws_columns_with_values_on_top_and_labels_below():
    root = parse(column_chart("Weekly activity", WEEKS, unit="h"))
    assert_labelled(root)
    baseline = float(root.find(f"{SVG}line[@class='chart-baseline']").get("y1"))
    columns = find_all(root, "g", "chart-column")
    assert len(columns) == 3
    heights = []
    for column in columns:
        bar = column.find(f"{SVG}rect[@class='chart-bar']")
        top = float(bar.get("y"))
        assert top + float(bar.get("height")) == pytest.approx(baseline)
        assert float(column.find(f"{SVG}text[@class='chart-value']").get("y")) < top
        assert float(column.find(f"{SVG}text[@class='chart-label']").get("y")) > baseline
        heights.append(float(bar.get("height")))
    assert [h / heights[2] for h in heights] == pytest.approx([0.5, 0.0, 1.0])
    assert texts(root, "chart-value") == ["3 h", "0 h", "6 h"]
    assert texts(root, "chart-label") == ["W1", "W2", "W3"]


def test_zero_columns_still_show_a_baseline_and_zero():
    root = parse(column_chart("Quiet weeks", [("W1", 0.0), ("W2", 0.0)]))
    line = root.find(f"{SVG}line[@class='chart-baseline']")
    assert line is not None and float(line.get("x2")) > float(line.get("x1"))
    assert texts(root, "chart-value") == ["0", "0"]
    assert all(float(r.get("height")) == 0 for r in find_all(root, "rect", "chart-bar"))


def test_negative_columns_are_clamped_to_the_baseline():
    root = parse(column_chart("Odd", [("a", -5.0), ("b", 5.0)]))
    heights = [float(r.get("height")) for r in find_all(root, "rect", "chart-bar")]
    assert heights[0] == 0 and heights[1] > 0
    assert texts(root, "chart-value") == ["-5", "5"]


def test_many_columns_widen_the_chart_instead_of_overlapping():
    weeks = [(f"Week {n}", float(n)) for n in range(52)]
    root = parse(column_chart("A year", weeks))
    bars = find_all(root, "rect", "chart-bar")
    assert len(bars) == 52
    for left, right in zip(bars, bars[1:], strict=False):
        assert float(left.get("x")) + float(left.get("width")) < float(right.get("x"))
    labels = texts(root, "chart-label")
    assert all(len(label) <= 5 for label in labels) and labels[0] == "Week…"


def contrast(colour: str) -> float:
    """WCAG contrast ratio of a #rrggbb colour against white."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_colours_are_accessible_on_white():
    assert contrast(charts.BAR_COLOUR) >= 3
    assert contrast(charts.TEXT_COLOUR) >= 4.5
    root = parse(bar_chart("Quiz scores", SCORES))
    assert {r.get("fill") for r in find_all(root, "rect", "chart-bar")} == {charts.BAR_COLOUR}
    assert {t.get("fill") for t in root.iter(SVG + "text")} == {charts.TEXT_COLOUR}


ANY_TEXT = st.text(st.characters(exclude_categories=()))  # controls, surrogates, U+FFFF…
ITEMS = st.lists(st.tuples(ANY_TEXT, st.floats(allow_nan=False, allow_infinity=False)))


@settings(max_examples=200, deadline=None)
@given(title=ANY_TEXT, rows=ITEMS, unit=ANY_TEXT, description=ANY_TEXT, chart_id=ANY_TEXT)
def test_any_labels_and_values_make_well_formed_bar_charts(
    title, rows, unit, description, chart_id
):
    root = parse(bar_chart(title, rows, unit, 100.0, description, chart_id=chart_id))
    assert_labelled(root)
    assert_no_style_or_script(root)
    assert len(find_all(root, "rect", "chart-bar")) == len(rows)
    assert all(0 <= bar_width(row) <= 1 for row in rows_of(root))


@settings(max_examples=200, deadline=None)
@given(title=ANY_TEXT, columns=ITEMS, unit=ANY_TEXT, description=ANY_TEXT)
def test_any_labels_and_values_make_well_formed_column_charts(title, columns, unit, description):
    root = parse(column_chart(title, columns, unit, description))
    assert_labelled(root)
    assert_no_style_or_script(root)
    heights = [float(r.get("height")) for r in find_all(root, "rect", "chart-bar")]
    assert len(heights) == len(columns)
    assert all(0 <= h <= charts.PLOT_HEIGHT for h in heights)


def test_charts_keep_their_drawing_direction_on_right_to_left_pages():
    """An Arabic page is right to left; the chart's text stays anchored where it is drawn."""
    for chart in (bar_chart("Rates", [("أحمد", 50.0)]), column_chart("Weeks", [("الآن", 3.0)])):
        assert parse(chart).get("direction") == "ltr"
