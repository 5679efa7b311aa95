"""Pages and stylesheets travel gzipped to browsers that ask for it; nothing else changes."""

from __future__ import annotations

import gzip
from pathlib import Path

STATIC = Path(__file__).parent.parent / "trainer" / "static"
GZIP = {"Accept-Encoding": "gzip, deflate"}


def test_pages_are_gzipped_for_browsers_that_ask(signed_in):
    plain = signed_in.get("/courses/basics/first-steps")
    packed = signed_in.get("/courses/basics/first-steps", headers=GZIP)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    unpacked = gzip.decompress(packed.data).decode()
    assert unpacked.count("<h1") == 1 and "</html>" in unpacked


def test_a_refused_encoding_is_respected(client):
    response = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers and b"</html>" in response.data


def test_stylesheets_are_gzipped_and_unchanged(client):
    response = client.get("/static/style.css", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == (STATIC / "style.css").read_bytes()
    response.close()
    plain = client.get("/static/style.css")
    assert plain.data == (STATIC / "style.css").read_bytes()
    plain.close()


def test_course_media_and_small_answers_pass_untouched(signed_in):
    svg = signed_in.get("/courses/basics/media/diagram.svg", headers=GZIP)
    assert svg.status_code == 200 and "Content-Encoding" not in svg.headers
    svg.close()
    health = signed_in.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in health.headers and health.json["courses"] == 2
