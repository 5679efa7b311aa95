"""The box's own settings (name, default language, self-registration), kept in the database."""

from __future__ import annotations

import json

from sqlite_utils import Database

from .i18n import lazy_text as _l

DEFAULTS = {"box_name": "trainer", "default_language": "en", "self_registration": True}


def box_settings(db: Database) -> dict:
    stored = {key: json.loads(value)
              for key, value in db.execute("SELECT key, value FROM settings").fetchall()}
    return {**DEFAULTS, **{k: v for k, v in stored.items() if k in DEFAULTS}}


def change_settings(db: Database, **values) -> None:
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise KeyError(f"unknown box setting: {', '.join(sorted(unknown))}")
    with db.atomic():
        for key, value in values.items():
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key)"
                       " DO UPDATE SET value = excluded.value", [key, json.dumps(value)])


def read_settings_form(form, languages: list[str]) -> tuple[dict, dict]:
    """(values, errors by field) from the settings form; nothing is saved when errors exist."""
    values = {
        "box_name": " ".join((form.get("box_name") or "").split()),
        "default_language": form.get("default_language") or "",
        "self_registration": form.get("self_registration") == "on",
    }
    errors = {}
    if not 1 <= len(values["box_name"]) <= 60:
        errors["box_name"] = _l("Give the box a name of 1 to 60 characters.")
    if values["default_language"] not in languages:
        errors["default_language"] = _l("Choose one of the languages in the list.")
    return values, errors
