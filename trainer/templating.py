"""What every template can use: cached URLs, the site header and the shared macros.

Static URLs carry a content version, so browsers cache them for a year. Each URL is built once:
building one costs ~20 µs and a page needs a dozen. The site header is rendered once per
language, box and role (~0.3 ms each time, a fifth of a lesson page). The macros in
_partials.html are evaluated once too, not on every page that uses them."""

from __future__ import annotations

import hashlib
import os
from functools import cache, lru_cache
from pathlib import Path

from flask import current_app, g, render_template, request, url_for
from jinja2 import BytecodeCache
from markupsafe import Markup, escape

from . import box, clock, i18n
from .security import csrf_field

STATIC = Path(__file__).parent / "static"
CSRF_SLOT, NEXT_SLOT = "\x00csrf-field\x00", "\x00next\x00"
HEADERS_KEPT = 64  # languages × roles × box names: a handful in use at a time


@cache
def static_version(filename: str) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]


@lru_cache(maxsize=8192)
def _built(script_root: str, endpoint: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))


def cached_url_for(endpoint: str, **values) -> str:
    """url_for for paths on this box; the same arguments always give the same path."""
    if endpoint.startswith("."):
        endpoint = request.blueprint + endpoint
    if values.get("_external"):
        return url_for(endpoint, **values)  # depends on the host the page was asked from
    return _built(request.script_root, endpoint, tuple(sorted(values.items())))


def static_url(filename: str) -> str:
    return cached_url_for("static", filename=filename, v=static_version(filename))


def site_header() -> Markup:
    """The skip link and the header of every page, with this request's CSRF fields (a fresh
    mask each) and path filled into the header made for its language, box and role."""
    user, settings = g.get("user"), g.get("box") or box.DEFAULTS
    hub = user is not None and user.role == "coordinator" and current_app.jinja_env.globals[
        "node_is_hub"]()
    key = (i18n.page_language(), request.script_root, settings["box_name"],
           settings["self_registration"], user and user.role, hub)
    made = current_app.extensions["trainer"].site_headers
    blank = made.get(key)
    if blank is None:
        blank = render_template("_site_header.html", csrf_slot=Markup(CSRF_SLOT),
                                next_slot=NEXT_SLOT)
        if len(made) >= HEADERS_KEPT:
            made.clear()
        made[key] = blank
    here = request.full_path.rstrip("?") if request.method == "GET" else ""
    pieces = blank.replace(NEXT_SLOT, escape(here)).split(CSRF_SLOT)
    return Markup(pieces[0] + "".join(str(csrf_field()) + piece for piece in pieces[1:]))


def hlc_moment(hlc: int):
    return i18n.from_timestamp(clock.to_ms(hlc) / 1000)


class CompiledTemplates(BytecodeCache):
    """Compiled templates, kept in memory for every app of the process (the tests make
    hundreds) and on disk in the instance folder, so a server starts without compiling them
    again: compiling was most of what creating an app cost (0.45 s here, more on a Pi).
    Jinja checks each template's source checksum, so an edited template is compiled again."""

    in_memory: dict[str, bytes] = {}

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def _key(bucket) -> str:
        env = bucket.environment  # the compiled code depends on how the syntax is set up
        setup = (bucket.key, env.trim_blocks, env.lstrip_blocks, env.keep_trailing_newline,
                 tuple(sorted(env.extensions)))
        return hashlib.sha256(repr(setup).encode()).hexdigest()

    def load_bytecode(self, bucket) -> None:
        key = self._key(bucket)
        code = self.in_memory.get(key)
        if code is None:
            try:
                code = (self.folder / key).read_bytes()
            except OSError:
                return
        try:
            bucket.bytecode_from_string(code)  # Jinja sets aside one of another source
        except Exception:  # noqa: BLE001 - a damaged file: compile again
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        key, code = self._key(bucket), bucket.bytecode_to_string()
        self.in_memory[key] = code
        try:  # whole or not at all: another server may be reading it
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = self.folder / f".{key}.{os.getpid()}"
            partial.write_bytes(code)
            os.replace(partial, self.folder / key)
        except OSError:
            pass  # a read-only instance folder only costs compiling at the next start


def init_app(app) -> None:
    app.jinja_env.bytecode_cache = CompiledTemplates(
        Path(app.instance_path) / "cache" / "templates")
    app.jinja_env.filters.update(
        hlc_time=lambda hlc: i18n.date_time(hlc_moment(hlc)),
        hlc_date=lambda hlc: i18n.date(hlc_moment(hlc)),
        backup_time=lambda seconds: i18n.date_time(i18n.from_timestamp(seconds)))
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True  # lighter pages on the air
    app.jinja_env.globals.update(static_url=static_url, url_for=cached_url_for,
                                 site_header=site_header)
    app.extensions["trainer"].site_headers = {}


MACROS = {"ui": "_partials.html", "quiz": "learn/_question.html"}


def load_macros(app) -> None:
    """Make the macro files available by name; call after every global is registered."""
    for name, template in MACROS.items():
        app.jinja_env.globals[name] = app.jinja_env.get_template(template).module
