"""The one Markdown renderer and its sanitiser: rich lessons, nothing dangerous."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from trainer.courses import sanitize
from trainer.courses.catalog import load_catalog
from trainer.courses.markdown import render, render_lesson

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text(
    encoding="utf-8").splitlines() if line.strip()]
LOCAL = "/courses/basics/media/diagram.svg?v=1"


def local_only(src: str) -> str | None:
    return LOCAL if src == "media/diagram.svg" else None


def render_clean(text: str) -> str:
    html, _ = render(text)
    return sanitize.clean(html, local_only)


def test_markdown_features_render():
    soup = BeautifulSoup(render_clean(
        "# Title\n\n| a | b |\n| :- | -: |\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\n"
        "!!! warning \"Careful\"\n    Live wires.\n\n??? note \"More\"\n    Hidden.\n\n"
        "- [x] done\n- [ ] todo\n"), "html.parser")
    assert soup.find("table").find("td", attrs={"align": "right"}).text == "2"
    code = soup.find("div", class_="highlight")
    assert code.find("span", class_="nb").text == "print"  # Pygments classes, no styles
    assert soup.find("div", class_="admonition").find("p", class_="admonition-title").text \
        == "Careful"
    assert soup.find("details").find("summary").text == "More"
    boxes = soup.find_all("input")
    assert [b.get("type") for b in boxes] == ["checkbox", "checkbox"]
    assert all(b.has_attr("disabled") for b in boxes)
    assert not soup.find_all(style=True)


def test_table_of_contents_nests_h3_under_h2():
    _, toc = render("# T\n\n## One\n\n### One a\n\n## Two\n\n#### deep\n")
    assert [(e["name"], [c["name"] for c in e["children"]]) for e in toc] == [
        ("One", ["One a"]), ("Two", [])]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_known_xss_payloads_are_neutralised(payload):
    soup = BeautifulSoup(render_clean(payload), "html.parser")
    forbidden = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form",
                 "textarea", "svg", "math", "video", "audio", "source", "picture", "body",
                 "template", "noscript", "marquee", "x", "button"}
    for tag in soup.find_all(True):
        assert tag.name not in forbidden, tag
        for name, value in tag.attrs.items():
            assert not name.startswith("on"), tag
            assert name not in ("style", "srcset", "background", "form", "srcdoc", "name"), tag
            text = " ".join(value) if isinstance(value, list) else value
            assert "javascript:" not in text.lower().replace(" ", ""), tag
            assert not text.lower().startswith(("data:", "vbscript:")), tag
        if tag.name == "img":
            assert tag["src"] == LOCAL, tag
        if tag.name == "input":
            assert tag.get("type") == "checkbox" and tag.has_attr("disabled"), tag
        assert tag.get("id") != "main-content"


def test_remote_image_is_replaced_by_a_notice():
    soup = BeautifulSoup(render_clean("![Solar map](https://example.org/map.png)"),
                         "html.parser")
    assert soup.find("img") is None
    assert soup.find(class_="missing-image").text == "Image not available on this box: Solar map"


def test_local_image_gets_its_versioned_url_and_keeps_alt():
    img = BeautifulSoup(render_clean("![Circuit](media/diagram.svg)"), "html.parser").find("img")
    assert (img["src"], img["alt"], img["loading"]) == (LOCAL, "Circuit", "lazy")


def test_links_to_other_sites_stay_but_cannot_reach_back():
    a = BeautifulSoup(render_clean("[docs](https://openwrt.org/)"), "html.parser").find("a")
    assert a["href"] == "https://openwrt.org/" and "noopener" in a["rel"]


def test_lesson_never_shows_quiz_raw_text(courses_dir):
    catalog = load_catalog(courses_dir)
    lesson = catalog.courses["basics"].lessons[0]
    rendered = render_lesson(lesson, lambda html: sanitize.clean(html, local_only))
    page = rendered.html
    for secret in ("SECRETSTEM", "RIGHTANSWERTEXT", "RIGHTFEEDBACKTEXT", "WRONGANSWERTEXT",
                   "HINTTEXT", "EXPLANATIONTEXT", "first-single", "```", "(x)"):
        assert secret not in page
    assert "After the quiz." in page
    assert [part.id for part in rendered.parts if not isinstance(part, str)] == ["first-single"]


def test_forged_quiz_marker_in_markdown_is_harmless(courses_dir):
    lesson = load_catalog(courses_dir).courses["basics"].lessons[2]
    lesson.body += "\n\n<!--trainer-quiz-0-->\n"
    rendered = render_lesson(lesson, lambda html: sanitize.clean(html, local_only))
    assert all(isinstance(part, str) for part in rendered.parts)


def test_lesson_heading_is_split_from_the_body(courses_dir):
    lesson = load_catalog(courses_dir).courses["basics"].lessons[0]
    rendered = render_lesson(lesson, lambda html: sanitize.clean(html, local_only))
    assert rendered.heading.startswith("<h1") and "First steps" in rendered.heading
    assert "<h1" not in rendered.html


def test_each_task_list_tick_is_labelled_by_its_text():
    soup = BeautifulSoup(render_clean("- [x] cut the *cable*\n- [ ] strip it\n    - [ ] inner\n\n"
                                      "1. [x] loose item\n\n    more text\n"), "html.parser")
    labels = [(label.get_text(" ", strip=True), label.input.has_attr("checked"))
              for label in soup.find_all("label")]
    assert labels == [("cut the cable", True), ("strip it", False), ("inner", False),
                      ("loose item", True)]
    assert len(soup.find_all("input")) == 4  # every tick is inside its label


def test_a_table_scrolls_sideways_in_a_box_the_keyboard_reaches():
    soup = BeautifulSoup(render_clean("| a | b |\n| - | - |\n| 1 | 2 |\n\n"
                                      '<span title="<table>">x</span>'), "html.parser")
    (table,) = soup.find_all("table")
    assert table.parent.name == "div" and table.parent["class"] == ["table-scroll"]
    assert table.parent["tabindex"] == "0"
    assert soup.find("span")["title"] == "<table>"  # text that looks like a tag stays text
