"""The box's own settings (name, default language, self-registration), kept in the database."""

from __future__ import annotations

import json

from sqlite_utils import Database

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
