"""Every page: landmarks, labels, one h1, nothing from outside the box, light enough for a phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import add_user, html, sign_in

STATIC = Path(__file__).parent.parent / "trainer" / "static"
ANONYMOUS_PAGES = ["/login", "/register", "/no-such-page"]
LEARNER_PAGES = ["/", "/courses/basics", "/courses/basics/first-steps"]
STAFF_PAGES = ["/coordinate/problems"]


@pytest.fixture
def pages(app, client):
    found = {path: client.get(path) for path in ANONYMOUS_PAGES}
    add_user(app, "boss", "coordinator")
    sign_in(client, "boss")
    found.update({path: client.get(path) for path in LEARNER_PAGES + STAFF_PAGES})
    return found


def test_every_page_has_landmarks_skip_link_and_one_h1(pages):
    for path, response in pages.items():
        soup = html(response)
        assert soup.html["lang"] == "en" and soup.html["dir"] == "ltr", path
        assert soup.find("header") and soup.find("main") and soup.find("footer"), path
        assert soup.find("nav", attrs={"aria-label": True}), path
        skip = soup.find("a", class_="skip-link")
        assert skip["href"] == "#main-content" and soup.find(id="main-content").name == "main"
        assert len(soup.find_all("h1")) == 1, path
        assert soup.title.text.strip(), path


def test_every_input_has_a_label(pages):
    for path, response in pages.items():
        soup = html(response)
        for field in soup.find_all(["input", "select", "textarea"]):
            if field.get("type") in ("hidden", "submit"):
                continue
            if field.get("type") == "checkbox" and field.has_attr("disabled"):
                continue  # task-list ticks inside lesson text: not a form field
            assert soup.find("label", attrs={"for": field.get("id")}), (path, field)
        for button in soup.find_all("button"):
            assert button.text.strip(), (path, button)


def test_pages_load_nothing_from_outside(pages):
    for path, response in pages.items():
        soup = html(response)
        for tag in soup.find_all(["script", "link", "img", "iframe", "source"]):
            url = tag.get("src") or tag.get("href") or ""
            assert not re.match(r"^(https?:)?//", url), (path, tag)
        assert not soup.find("script"), path  # every page works without JavaScript


def test_sign_in_first_visit_is_light(client):
    response = client.get("/login")
    soup = html(response)
    resources = [tag.get("href") or tag.get("src") for tag in soup.find_all(["link", "img",
                                                                              "script"])]
    fetched = [url for url in resources if url and not url.startswith("data:")]
    total = len(response.data)
    for url in fetched:
        with client.get(url) as resource:
            total += len(resource.get_data())
    assert 1 + len(fetched) <= 6
    assert total <= 60 * 1024


def test_post_forms_carry_a_csrf_token(pages):
    for path, response in pages.items():
        for form in html(response).find_all("form"):
            if form.get("method", "get").lower() == "post":
                assert form.find("input", attrs={"name": "csrf_token", "type": "hidden"}), path


def test_security_headers_are_sent(pages):
    for response in pages.values():
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_styles_or_scripts(pages):
    for path, response in pages.items():
        soup = html(response)
        assert not soup.find_all(style=True) and not soup.find("style"), path
        assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_have_at_least_4_5_to_1_contrast():
    css = (STATIC / "style.css").read_text()
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css))
    backgrounds = [colours["paper"], colours["wash"], "#e8f1fb", "#fdecec", "#e9f6ee",
                   "#e9edf2", "#f8f8f8"]
    for text in ("ink", "muted", "accent", "good", "warn", "bad"):
        for background in backgrounds:
            assert contrast(colours[text], background) >= 4.5, (text, background)
    assert contrast(colours["accent-ink"], colours["accent"]) >= 4.5


def test_code_stylesheet_is_the_one_pygments_makes():
    from trainer.courses.highlight_css import stylesheet

    assert (STATIC / "code.css").read_text() == stylesheet()
