"""Folds of events into the read tables. Each fold is order-independent, so the tables can be
rebuilt from the event log at any time and come out the same."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlite_utils import Database

TABLES = ("lww", "users", "groups", "signins", "lesson_progress", "answers", "signoffs",
          "completions", "courses_running")
USER_FIELDS = ("username", "display_name", "role", "password_hash", "active", "group_id",
               "language")
FOLDS: dict[str, Callable] = {}


def fold(event_type: str):
    def register(function):
        FOLDS[event_type] = function
        return function

    return register


def apply(db: Database, event) -> None:
    """Fold one event in; unknown types are kept in the log and skipped here."""
    function = FOLDS.get(event.type)
    if function is not None:
        function(db, event)


def rebuild(db: Database, events) -> None:
    """Empty every projection table and fold the given events in again."""
    for table in TABLES:
        db.execute(f"DELETE FROM {table}")
    for event in events:
        apply(db, event)


@fold("lww_set")
def _lww_set(db: Database, event) -> None:
    entity, entity_id = event.payload["entity"], event.payload["entity_id"]
    for field, value in event.payload["values"].items():
        # The write with the larger (rank, hlc, origin) wins, whatever order events arrive in.
        db.execute(
            "INSERT INTO lww (entity, entity_id, field, value, hlc, origin, rank)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entity, entity_id, field) DO UPDATE SET"
            " value = excluded.value, hlc = excluded.hlc, origin = excluded.origin,"
            " rank = excluded.rank"
            " WHERE (excluded.rank, excluded.hlc, excluded.origin) > (lww.rank, lww.hlc,"
            " lww.origin)",
            [entity, entity_id, field, json.dumps(value), event.hlc, event.origin,
             rank(db, field, event.origin)],
        )
    if entity == "user":
        _refresh_user(db, entity_id)
    elif entity == "group":
        _refresh_group(db, entity_id)


HUB_WINS = {"password_hash"}


def rank(db: Database, field: str, origin: str) -> int:
    """1 for the hub's write of a field where the hub's accepted value wins (a password: a box
    whose clock runs years ahead must not win forever), else 0."""
    return int(field in HUB_WINS and origin.split("/", 1)[0] == hub_node_id(db))


def hub_node_id(db: Database) -> str | None:
    """The hub this node belongs to: itself on a hub, the one it enrolled with on a box."""
    row = db.execute("SELECT CASE WHEN role = 'hub' THEN node_id ELSE"
                     " (SELECT hub_id FROM hub WHERE id = 1) END FROM node WHERE id = 1"
                     ).fetchone()
    return row[0] if row else None


def _refresh_user(db: Database, user_id: str) -> None:
    rows = db.execute(
        "SELECT field, value, hlc FROM lww WHERE entity = 'user' AND entity_id = ?", [user_id]
    ).fetchall()
    fields = {field: json.loads(value) for field, value, _ in rows}
    if "username" not in fields:
        return
    values = {name: fields.get(name) for name in USER_FIELDS}
    values["display_name"] = values["display_name"] or ""
    values["role"] = values["role"] or "learner"
    values["password_hash"] = values["password_hash"] or ""
    values["language"] = values["language"] or ""
    values["active"] = 1 if values["active"] in (None, True, 1) else 0
    created = min(hlc for _, _, hlc in rows)
    db.execute(
        "INSERT INTO users (id, username, display_name, role, password_hash, active, group_id,"
        " language, created_hlc) VALUES (:id, :username, :display_name, :role, :password_hash,"
        " :active, :group_id, :language, :created) ON CONFLICT (id) DO UPDATE SET"
        " username = excluded.username, language = excluded.language,"
        " display_name = excluded.display_name, role = excluded.role,"
        " password_hash = excluded.password_hash, active = excluded.active,"
        " group_id = excluded.group_id, created_hlc = excluded.created_hlc",
        {"id": user_id, "created": created, **values},
    )


def _refresh_group(db: Database, group_id: str) -> None:
    rows = db.execute("SELECT field, value FROM lww WHERE entity = 'group' AND entity_id = ?",
                      [group_id]).fetchall()
    fields = {field: json.loads(value) for field, value in rows}
    if "name" not in fields:
        return
    db.execute("INSERT INTO groups (id, name, trainer_ids) VALUES (?, ?, ?) ON CONFLICT (id)"
               " DO UPDATE SET name = excluded.name, trainer_ids = excluded.trainer_ids",
               [group_id, fields["name"], json.dumps(sorted(fields.get("trainer_ids") or []))])


@fold("signed_in")
def _signed_in(db: Database, event) -> None:
    db.execute(
        "INSERT INTO signins (user_id, count, last_hlc) VALUES (?, 1, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET count = count + 1,"
        " last_hlc = max(last_hlc, excluded.last_hlc)",
        [event.payload["user_id"], event.hlc],
    )


def _touch_lesson(db: Database, event, viewed: int | None, completed: int | None) -> None:
    p = event.payload
    db.execute(
        "INSERT INTO lesson_progress (user_id, course_id, lesson_id, first_viewed_hlc,"
        " completed_hlc, last_active_hlc) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, course_id, lesson_id) DO UPDATE SET"
        " first_viewed_hlc = coalesce(min(first_viewed_hlc, excluded.first_viewed_hlc),"
        "   first_viewed_hlc, excluded.first_viewed_hlc),"
        " completed_hlc = coalesce(min(completed_hlc, excluded.completed_hlc),"
        "   completed_hlc, excluded.completed_hlc),"
        " last_active_hlc = max(last_active_hlc, excluded.last_active_hlc)",
        [p["user_id"], p["course_id"], p["lesson_id"], viewed, completed, event.hlc],
    )


@fold("lesson_viewed")
def _lesson_viewed(db: Database, event) -> None:
    _touch_lesson(db, event, viewed=event.hlc, completed=None)


@fold("lesson_completed")
def _lesson_completed(db: Database, event) -> None:
    _touch_lesson(db, event, viewed=None, completed=event.hlc)


@fold("answer_submitted")
def _answer_submitted(db: Database, event) -> None:
    p = event.payload
    db.execute(
        "INSERT OR IGNORE INTO answers (event_id, user_id, course_id, course_version, lesson_id,"
        " question_id, question_type, attempt, score, success, response, normalised, chosen,"
        " duration_ms, form_key, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event.event_id, p["user_id"], p["course_id"], p["course_version"], p["lesson_id"],
         p["question_id"], p["question_type"], p["attempt"], p["score"],
         None if p["success"] is None else int(p["success"]), json.dumps(p["response"]),
         p["normalised"], json.dumps(p["chosen"]), p["duration_ms"], p["form_key"], event.hlc],
    )


@fold("task_signed_off")
def _task_signed_off(db: Database, event) -> None:
    p = event.payload
    db.execute(
        "INSERT OR IGNORE INTO signoffs (event_id, answer_event_id, learner_id, course_id,"
        " question_id, verdict, comment, by_user, hlc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event.event_id, p["answer_event_id"], p["learner_id"], p["course_id"],
         p["question_id"], p["verdict"], p["comment"], p["by"], event.hlc],
    )


@fold("course_completed")
def _course_completed(db: Database, event) -> None:
    p = event.payload
    db.execute("INSERT OR IGNORE INTO completions (event_id, user_id, course_id, course_version,"
               " hlc) VALUES (?, ?, ?, ?, ?)",
               [event.event_id, p["user_id"], p["course_id"], p["course_version"], event.hlc])


@fold("courses_running")
def _courses_running(db: Database, event) -> None:
    """Which version of each course a node runs: its latest report wins."""
    db.execute("INSERT INTO courses_running (node_id, courses, hlc) VALUES (?, ?, ?)"
               " ON CONFLICT (node_id) DO UPDATE SET courses = excluded.courses, hlc ="
               " excluded.hlc WHERE excluded.hlc > courses_running.hlc",
               [event.origin.split("/", 1)[0], json.dumps(event.payload["courses"]),
                event.hlc])
