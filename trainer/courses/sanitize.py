"""Make rendered lesson HTML safe: an allow-list (nh3), then local-only images."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from flask_babel import gettext as _

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "ul", "ol", "li", "dl",
    "dt", "dd", "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "sub", "sup", "small",
    "code", "pre", "kbd", "samp", "var", "abbr", "span", "div", "table", "thead", "tbody",
    "tfoot", "tr", "th", "td", "caption", "img", "a", "details", "summary", "figure",
    "figcaption", "label", "input",
}
ATTRIBUTES = {
    "*": {"class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "details": {"open"},
    "input": {"checked"},
    **{tag: {"id"} for tag in ("h1", "h2", "h3", "h4", "h5", "h6", "li", "sup", "dt")},
}
# Task-list checkboxes only: always disabled, so an author cannot add fields to a form.
FORCED = {"input": {"type": "checkbox", "disabled": "disabled"}}
SCHEMES = {"http", "https", "mailto"}
CLEANER = nh3.Cleaner(
    tags=TAGS, attributes=ATTRIBUTES, set_tag_attribute_values=FORCED, url_schemes=SCHEMES,
    clean_content_tags={"script", "style"}, link_rel="noopener noreferrer",
)
IMG_TAG = re.compile(r"<img\b[^>]*>")
ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
TABLE_START, TABLE_END = re.compile(r"<table\b"), re.compile(r"</table>")


def clean(fragment: str, image_url: Callable[[str], str | None]) -> str:
    """Sanitise a fragment; `image_url` maps a relative src to a local URL, or None if absent."""
    cleaned = IMG_TAG.sub(lambda match: _local_image(match.group(0), image_url),
                          CLEANER.clean(fragment))
    return _scrolling_tables(cleaned)


def _scrolling_tables(cleaned: str) -> str:
    """Each table in a box that scrolls sideways on a narrow screen, reachable by keyboard.
    (nh3 escapes "<" inside attribute values, so every "<table" left is a tag.)"""
    cleaned = TABLE_START.sub('<div class="table-scroll" tabindex="0"><table', cleaned)
    return TABLE_END.sub("</table></div>", cleaned)


def _local_image(tag: str, image_url: Callable[[str], str | None]) -> str:
    attributes = {name: html.unescape(value) for name, value in ATTRIBUTE.findall(tag)}
    src, alt = attributes.get("src", ""), attributes.get("alt", "")
    url = None if not src or REMOTE.match(src) else image_url(src)
    if url is None:
        notice = (_("Image not available on this box: %(description)s", description=alt)
                  if alt else _("Image not available on this box"))
        return f'<span class="missing-image" role="note">{html.escape(notice)}</span>'
    kept = "".join(f' {name}="{html.escape(attributes[name])}"'
                   for name in ("alt", "title", "width", "height") if name in attributes)
    return f'<img src="{html.escape(url)}"{kept} loading="lazy">'
