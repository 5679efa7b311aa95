"""Which language a page is in, the Babel set-up that translates it, and locale formatting.

A page's language is, in this order: the signed-in person's saved choice, the language picked
from the menu (a cookie, so it holds before sign-in), the browser's Accept-Language, then the
box's default. The command line follows LANGUAGE, LC_ALL, LC_MESSAGES or LANG, like gettext.
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

import flask_babel
from babel import Locale, UnknownLocaleError, support
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent
from flask import g, has_app_context, has_request_context, request
from flask_babel import Babel, LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

TRANSLATIONS = Path(__file__).parent / "translations"  # compiled catalogs (.mo), built
RIGHT_TO_LEFT = {"ar", "fa", "he", "ur"}
LANGUAGE_COOKIE = "trainer_language"
LANGUAGE_COOKIE_DAYS = 400


@cache
def available_languages() -> tuple[str, ...]:
    """English and every language with a compiled catalog."""
    found = {p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo")}
    return tuple(sorted(found | {"en"}))


def base_language(code: str) -> str:
    """'fr' for 'fr', 'fr_FR', 'fr-CA' or 'fr_FR.UTF-8'."""
    return code.split(".")[0].replace("-", "_").split("_")[0].lower()


# What each shipped language calls itself, for the menu: asking Babel would load every
# language's locale data (about 1 MB each) into every server.
ENDONYMS = {"ar": "العربية", "en": "English", "es": "Español", "fr": "Français",
            "pt": "Português", "sw": "Kiswahili"}


@cache
def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name, in itself by default ("Français", for a menu) or as written in a
    sentence of another language ("anglais")."""
    if in_language is None and code in ENDONYMS:
        return ENDONYMS[code]
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(in_language or code) \
            or code
    except (UnknownLocaleError, ValueError):
        return code
    return name if in_language else name[:1].upper() + name[1:]


def command_line_language() -> str:
    """As gettext chooses: LC_ALL, else LC_MESSAGES, else LANG names the locale; "C" means
    English; otherwise LANGUAGE (a list like "sw:fr") goes first, then that locale."""
    environment = os.environ
    locale = environment.get("LC_ALL") or environment.get("LC_MESSAGES") or environment.get(
        "LANG") or ""
    if not locale or locale in ("C", "POSIX") or locale.startswith(("C.", "POSIX.")):
        return "en"
    for value in [*environment.get("LANGUAGE", "").split(":"), locale]:
        if value and base_language(value) in available_languages():
            return base_language(value)
    return "en"


@cache
def command_line_catalog(language: str) -> support.NullTranslations:
    return support.Translations.load(str(TRANSLATIONS), [language], "messages")


def translate(text: str, /, **values) -> str:
    """`text` in the language of whoever reads it now: the page's during a request, else the
    command line's. Values fill its %(name)s placeholders after translation."""
    if has_request_context():
        catalog = translations()
    elif has_app_context():
        catalog = flask_babel.get_translations()
    else:
        catalog = command_line_catalog(command_line_language())
    translated = catalog.ugettext(text)
    return translated % values if values else translated


class LazyText(LazyString):
    """Flask-Babel's lazy string, but plain text to Jinja: its values may come from a course
    file or a CSV cell, so a page escapes it like any other text (Flask-Babel's would be
    inserted as HTML)."""

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_text(text: str, /, **values) -> LazyText:
    """A message translated each time it is shown, in its reader's language: for messages
    made once and shown later (a course's problems, a form's errors), on pages and at the
    command line."""
    return LazyText(translate, text, **values)


def chosen_language(user, cookie: str | None, accepted, default: str) -> str:
    """The page language from what is known about the request, in the documented order."""
    languages = available_languages()
    saved = getattr(user, "language", "") if user is not None else ""
    for candidate in (saved, cookie):
        if candidate in languages:
            return candidate
    return browser_language(accepted, languages) or (default if default in languages else "en")


def browser_language(accepted, languages) -> str | None:
    """The most wanted of the browser's languages that the box has, by base language: fr-CA
    gets French before a less wanted en; "*" wants nothing in particular (the box decides)."""
    for value, quality in accepted:  # most wanted first
        if quality > 0 and value != "*" and base_language(value) in languages:
            return base_language(value)
    return None


def remember_language(response, language: str) -> None:
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_DAYS * 86400,
                        httponly=True, samesite="Lax")


def select_locale() -> str:
    if not has_request_context():
        return command_line_language()
    box = g.get("box") or {}
    return chosen_language(g.get("user"), request.cookies.get(LANGUAGE_COOKIE),
                           request.accept_languages, box.get("default_language", "en"))


def translations():
    """This request's catalog, looked up once (Flask-Babel's lookup costs ~10 µs a call)."""
    if not has_request_context():
        return flask_babel.get_translations()
    found = g.get("_translations")
    if found is None:
        found = g._translations = flask_babel.get_translations()
    return found


@pass_eval_context
def template_gettext(eval_context, string: str, **variables) -> str:
    """`_()` and `gettext()` in templates, as Jinja's newstyle gettext does them (escaped
    variables, %% always formatted) in one call instead of three: a page has 10 to 20."""
    text = translations().ugettext(string)
    if eval_context.autoescape:
        text = Markup(text)
    return text % variables


def page_language() -> str:
    if not has_request_context():
        return str(flask_babel.get_locale() or "en")
    found = g.get("_language")
    if found is None:
        found = g._language = str(flask_babel.get_locale())
    return found


@cache
def language_options(current: str) -> Markup:
    """The language menu's options, the current one selected: made once per language."""
    return Markup("").join(
        Markup('<option value="{0}" lang="{0}"{1}>{2}</option>').format(
            code, Markup(" selected") if code == current else "", language_name(code))
        for code in available_languages())


def text_direction(language: str | None = None) -> str:
    return "rtl" if base_language(language or page_language()) in RIGHT_TO_LEFT else "ltr"


# Numbers and dates, written the way the page's language writes them (digits stay 0-9).

def percent(fraction: float | None) -> str:
    """0.725 -> "73%" in English, "73 %" in French."""
    if fraction is None:
        return "–"
    whole = Decimal(repr(float(fraction) * 100)).quantize(Decimal(1), ROUND_HALF_UP)
    return format_percent(whole / 100, locale=page_language())


def number(value: float, decimals: int = 1) -> str:
    """2.5 -> "2.5" in English, "2,5" in French; at most `decimals` decimals."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(value, pattern, locale=page_language())


def pass_mark(mark: str) -> str:
    """A course's pass mark as written in it ("70%" or "7/10"), in the page's way."""
    text = str(mark).strip()
    if text.endswith("%"):
        try:
            return percent(float(text[:-1]) / 100)
        except ValueError:
            return text
    return text


def date_time(moment: datetime) -> str:
    """Nov 26, 2026, 09:30 in English; 26 nov. 2026, 09:30 in French (24-hour clock)."""
    language = page_language()
    pattern = Locale.parse(language).datetime_formats["medium"]
    return pattern.format(format_skeleton("Hm", moment, locale=language),
                          format_date(moment, "medium", locale=language))


def date(moment: datetime) -> str:
    return format_date(moment, "medium", locale=page_language())


def from_timestamp(seconds: float) -> datetime:
    """The box's own clock time (naive: Babel writes it as it is)."""
    return datetime.fromtimestamp(seconds)


def init_app(app) -> None:
    Babel(app, locale_selector=select_locale,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.install_gettext_callables(
        lambda text: translations().ugettext(text),
        lambda singular, plural, n: translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)
    app.jinja_env.globals.update(page_language=page_language, text_direction=text_direction,
                                 language_name=language_name, language_options=language_options,
                                 available_languages=available_languages)
    app.jinja_env.filters.update(percent=percent, number=number, pass_mark=pass_mark)
