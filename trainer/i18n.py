"""Which language a page is in, and the Babel set-up that translates it."""

from __future__ import annotations

from pathlib import Path

from flask import g, has_request_context, request
from flask_babel import Babel, get_locale

TRANSLATIONS = Path(__file__).parent / "translations"
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}


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


def text_direction() -> str:
    return "rtl" if str(get_locale()).split("_")[0] in RIGHT_TO_LEFT else "ltr"


def init_app(app) -> None:
    Babel(app, locale_selector=select_locale,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(get_locale=get_locale, text_direction=text_direction)
