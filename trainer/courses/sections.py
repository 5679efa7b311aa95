"""A rendered lesson cut into sections at its headings: what search indexes and links to.

A section is the text under one h2 or h3 heading, with the heading's anchor; the text before
the first heading belongs to the lesson itself (no anchor). Question stems count as text of
the section they stand in; options, answer keys, feedback and explanations never do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from .markdown import RenderedLesson, RenderedQuestion

SECTION_HEADINGS = {"h2", "h3"}
BLOCKS = {"p", "li", "tr", "td", "th", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "div",
          "blockquote", "dt", "dd", "br", "summary", "details", "figcaption", "caption"}


@dataclass
class Section:
    anchor: str  # the heading's id; "" for the text before the first heading
    title: str
    pieces: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.pieces).split())


class _Splitter(HTMLParser):
    def __init__(self, lesson_title: str):
        super().__init__(convert_charrefs=True)
        self.sections = [Section("", lesson_title)]
        self.heading: tuple[str, str, list[str]] | None = None  # tag, id, its text

    def handle_starttag(self, tag, attrs):
        if tag in SECTION_HEADINGS and dict(attrs).get("id"):
            self.heading = (tag, dict(attrs)["id"], [])
        elif tag in BLOCKS:
            self._add(" ")

    def handle_endtag(self, tag):
        if self.heading and tag == self.heading[0]:
            _, anchor, words = self.heading
            self.heading = None
            self.sections.append(Section(anchor, " ".join("".join(words).split())))
        elif tag in BLOCKS:
            self._add(" ")

    def handle_data(self, data):
        self._add(data)

    def _add(self, text: str) -> None:
        if self.heading:
            self.heading[2].append(text)
        else:
            self.sections[-1].pieces.append(text)


def lesson_sections(rendered: RenderedLesson, lesson_title: str) -> list[Section]:
    """The lesson's sections in page order, empty ones left out (a heading with nothing
    under it still counts: its title is text)."""
    splitter = _Splitter(lesson_title)
    for part in rendered.parts:
        if isinstance(part, RenderedQuestion):
            splitter.feed(f"<div>{part.stem}</div>")
        else:
            splitter.feed(part)
    splitter.close()
    return [s for s in splitter.sections if s.text or s.anchor]
