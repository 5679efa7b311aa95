"""What an XSS payload must never bring into a page, read back with bs4: an element that runs
or loads something, an event handler, a script URL. And the other side: the payload a person
typed is shown to others as the text they typed."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text(
    encoding="utf-8").splitlines() if line.strip()]
# Elements no page of trainer has: each would run script, frame or load something.
FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                  "style", "math", "template", "noscript", "marquee", "x", "body-in-body"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster",
                  "background", "srcset", "codebase", "cite"}
LINKS = {"href", "cite"}  # may lead to another site (a lesson's link); the rest load from it
SCRIPT_URL = re.compile(r"^[`'\"]*(javascript|vbscript|data:text/html)")
LOCAL = re.compile(r"^(/(?!/)|data:image/|#)")  # where trainer's own pages load from
ONLY_IN_HEAD = {"link", "meta", "title"}


def injected(soup: BeautifulSoup) -> list[str]:
    """Every element or attribute of the page that could run script or fetch from elsewhere
    (empty for a page of trainer's own making)."""
    found = []
    head = soup.head
    for tag in soup.find_all(True):
        if tag.name in FORBIDDEN_TAGS or not re.fullmatch(r"[a-z][a-z0-9-]*", tag.name):
            found.append(str(tag)[:120])
        if tag.name in ONLY_IN_HEAD and tag.find_parent("svg") is None and \
                (head is None or head not in tag.parents):
            found.append(str(tag)[:120])
        if tag.name == "body" and tag.find_parent("body") is not None:
            found.append(str(tag)[:120])
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            squeezed = re.sub(r"[\x00-\x20]", "", text).lower()
            if name.lower().startswith("on") or name.lower() in ("style", "srcdoc", "form"):
                found.append(f"{tag.name} {name}={text[:60]}")
            elif name.lower() in URL_ATTRIBUTES and (SCRIPT_URL.match(squeezed) or (
                    name.lower() not in LINKS and not LOCAL.match(squeezed))):
                found.append(f"{tag.name} {name}={text[:60]}")
            elif name == "http-equiv":
                found.append(f"{tag.name} {name}={text[:60]}")
    if len(soup.find_all(id="main-content")) > 1:
        found.append("a second #main-content")
    return found


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def squeezed(text: str) -> str:
    return " ".join(text.split())


def shows_text(soup: BeautifulSoup, text: str) -> bool:
    """Whether `text` (its spaces collapsed, as the forms keep names) is in the page as text:
    had it been read as markup, its < and > would not be in the page's text."""
    return squeezed(text) in squeezed(soup.get_text(" "))


def assert_safe(response, *shown: str, where: str = "") -> BeautifulSoup:
    """The page brings nothing that runs, and shows each of `shown` as text."""
    soup = page(response)
    assert injected(soup) == [], (where or response.request.path, injected(soup))
    text_of_page = squeezed(soup.get_text(" "))
    for text in shown:
        assert squeezed(text) in text_of_page, (where or response.request.path, text)
    return soup
