"""URLs of the static files, with a content version so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import url_for

STATIC = Path(__file__).parent / "static"


@cache
def static_version(filename: str) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=static_version(filename))


def init_app(app) -> None:
    app.jinja_env.globals.update(static_url=static_url)
