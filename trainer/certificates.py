"""Certificates: a course's completion, recorded once, with a code anyone can check on the box."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlite_utils import Database

from . import events, progress, queries
from .db import immediate


def code_for(secret: str, event_id: str) -> str:
    """Three groups of four letters and digits (like AB2C-DE3F-GH4J) from a keyed hash of the
    completing event: not guessable, not forgeable without the box's secret."""
    digest = hmac.new(secret.encode(), f"certificate|{event_id}".encode(), hashlib.sha256)
    letters = base64.b32encode(digest.digest()).decode()[:12]
    return "-".join(letters[i:i + 4] for i in range(0, 12, 4))


def record_if_complete(db: Database, user_id: str, course, lesson=None) -> None:
    """After anything that may finish a course: record the completion the first time. Cheap
    when nothing can have changed: done already, or `lesson` (the one just touched) not done."""
    if completion(db, user_id, course.id) is not None:
        return
    if lesson is not None:
        mark = queries.lesson_mark(db, user_id, course.id, lesson.id)
        tries = queries.attempts(db, user_id, course.id, lesson.id)[course.id]
        result = progress.lesson_result(course, lesson, tries, mark.completed, mark.viewed)
        if not progress.lesson_done(course, result):
            return
    marks = queries.lesson_marks(db, user_id)
    results = queries.course_results(course, marks, queries.attempts(db, user_id,
                                                                     course.id)[course.id])
    if not progress.course_complete(course, results):
        return
    with immediate(db):
        if completion(db, user_id, course.id) is None:
            events.append_locked(db, "course_completed", {
                "user_id": user_id, "course_id": course.id, "course_version": course.version})


def completion(db: Database, user_id: str, course_id: str) -> dict | None:
    row = db.execute("SELECT event_id, course_version, hlc FROM completions WHERE user_id = ?"
                     " AND course_id = ? ORDER BY hlc LIMIT 1", [user_id, course_id]).fetchone()
    return None if row is None else {"event_id": row[0], "course_version": row[1],
                                     "hlc": row[2]}


def find_by_code(db: Database, secret: str, code: str) -> dict | None:
    """The completion a code stands for, or None."""
    # (as bytes: hmac.compare_digest refuses str with anything but ASCII in it)
    wanted = code.strip().upper().replace(" ", "").encode("utf-8", "replace")
    rows = db.execute("SELECT c.event_id, c.user_id, c.course_id, c.course_version, c.hlc,"
                      " u.display_name, u.username FROM completions c JOIN users u"
                      " ON u.id = c.user_id").fetchall()
    for event_id, user_id, course_id, version, hlc, name, username in rows:
        if hmac.compare_digest(code_for(secret, event_id).encode(), wanted):
            return {"user_id": user_id, "course_id": course_id, "course_version": version,
                    "hlc": hlc, "name": name or username}
    return None
