"""Which language a page is in, and the Babel set-up that translates it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import flask_babel
from flask import g, has_request_context, request
from flask_babel import Babel

TRANSLATIONS = Path(__file__).parent / "translations"
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}


@cache
def available_languages() -> list[str]:
    found = {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo")}
    return sorted(found | {"en"})


def select_locale() -> str:
    """The box default, unless the browser asks for a language the box has."""
    if not has_request_context():  # the command line: messages in the default language
        return "en"
    languages = available_languages()
    box = getattr(g, "box", None) or {}
    default = box.get("default_language", "en")
    return request.accept_languages.best_match(languages) or (
        default if default in languages else "en")


def translations():
    """This request's catalog, looked up once (Flask-Babel's lookup costs ~10 µs a call)."""
    if not has_request_context():
        return flask_babel.get_translations()
    found = g.get("_translations")
    if found is None:
        found = g._translations = flask_babel.get_translations()
    return found


def page_language() -> str:
    if "_language" not in g:
        g._language = str(flask_babel.get_locale())
    return g._language


def text_direction() -> str:
    return "rtl" if page_language().split("_")[0] in RIGHT_TO_LEFT else "ltr"


def init_app(app) -> None:
    Babel(app, locale_selector=select_locale,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.install_gettext_callables(
        lambda text: translations().ugettext(text),
        lambda singular, plural, n: translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(page_language=page_language, text_direction=text_direction)
