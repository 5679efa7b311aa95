"""Named reads for the views; the views hold no SQL."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlite_utils import Database

from .progress import Attempt, LessonResult, lesson_done, lesson_result


@dataclass(frozen=True)
class LessonMark:
    """What the learner did to a lesson itself: opened it, marked it complete."""

    viewed: bool = False
    completed: bool = False
    last_active_hlc: int = 0


def lesson_marks(db: Database, user_id: str) -> dict[tuple[str, str], LessonMark]:
    rows = db.execute("SELECT course_id, lesson_id, first_viewed_hlc, completed_hlc,"
                      " last_active_hlc FROM lesson_progress WHERE user_id = ?", [user_id])
    return {(c, lid): LessonMark(viewed is not None, done is not None, active)
            for c, lid, viewed, done, active in rows.fetchall()}


def lesson_mark(db: Database, user_id: str, course_id: str, lesson_id: str) -> LessonMark:
    row = db.execute("SELECT first_viewed_hlc, completed_hlc, last_active_hlc FROM"
                     " lesson_progress WHERE user_id = ? AND course_id = ? AND lesson_id = ?",
                     [user_id, course_id, lesson_id]).fetchone()
    return LessonMark(row[0] is not None, row[1] is not None, row[2]) if row else LessonMark()


def attempts(db: Database, user_id: str, course_id: str | None = None) -> dict:
    """{course_id: {question_id: [Attempt, …]}} in the order they were given."""
    sql = ("SELECT a.course_id, a.question_id, a.attempt, a.score, a.response, a.normalised,"
           " a.chosen, a.course_version, a.question_type, s.verdict, s.comment FROM answers a"
           " LEFT JOIN signoffs s ON s.event_id = (SELECT event_id FROM signoffs WHERE"
           " answer_event_id = a.event_id ORDER BY hlc DESC LIMIT 1) WHERE a.user_id = ?")
    params = [user_id]
    if course_id is not None:
        sql += " AND a.course_id = ?"
        params.append(course_id)
    found: dict = defaultdict(lambda: defaultdict(list))
    for row in db.execute(sql + " ORDER BY a.hlc", params).fetchall():
        course, question, number, score, response, normalised, chosen, version, kind = row[:9]
        verdict, comment = row[9:]
        found[course][question].append(Attempt(
            number, None if score is None else Decimal(score), json.loads(response),
            normalised, tuple(json.loads(chosen)), version, kind,
            None if verdict is None else (verdict, comment)))
    return found


def last_answer_hlc(db: Database, user_id: str) -> dict[tuple[str, str], int]:
    rows = db.execute("SELECT course_id, lesson_id, max(hlc) FROM answers WHERE user_id = ?"
                      " GROUP BY course_id, lesson_id", [user_id]).fetchall()
    return {(course, lesson): hlc for course, lesson, hlc in rows}


def course_results(course, marks: dict, course_attempts: dict) -> dict[str, LessonResult]:
    """{lesson_id: LessonResult} for one learner in one course."""
    results = {}
    for lesson in course.lessons:
        mark = marks.get((course.id, lesson.id), LessonMark())
        results[lesson.id] = lesson_result(course, lesson, course_attempts, mark.completed,
                                           mark.viewed)
    return results


def course_progress(course, results: dict[str, LessonResult]) -> dict:
    """Counts for a course card: lessons done by the course's rule, of the lessons it has."""
    total = len(course.lessons)
    done = sum(1 for lesson in course.lessons if lesson_done(course, results.get(lesson.id)))
    started = any(r.status != "not-started" for r in results.values())
    return {"done": done, "total": total, "percent": round(100 * done / total) if total else 0,
            "started": started, "complete": total > 0 and done == total,
            "rule": course.completion}


def continue_point(catalog, activity: dict[tuple[str, str], int], results: dict):
    """(course, lesson) to go on with: the latest lesson, or the next one not yet done."""
    for (course_id, lesson_id), _ in sorted(activity.items(), key=lambda kv: -kv[1]):
        course = catalog.courses.get(course_id)
        if course is None or course.lesson(lesson_id) is None:
            continue
        course_results = results.get(course_id, {})
        ids = [lesson.id for lesson in course.lessons]
        start = ids.index(lesson_id)
        for lesson in course.lessons[start:] + course.lessons[:start]:
            if not lesson_done(course, course_results.get(lesson.id)):
                return course, lesson
        return None  # the latest course is finished
    return None


def form_used(db: Database, user_id: str, form_key: str) -> bool:
    return db.execute("SELECT 1 FROM answers WHERE user_id = ? AND form_key = ?",
                      [user_id, form_key]).fetchone() is not None


def answered_types(db: Database) -> dict[tuple[str, str], set[str]]:
    """{(course_id, question_id): the question types learners answered under that id}."""
    found: dict = defaultdict(set)
    for course, question, kind in db.execute(
            "SELECT DISTINCT course_id, question_id, question_type FROM answers").fetchall():
        found[(course, question)].add(kind)
    return found


def groups(db: Database) -> list[dict]:
    rows = db.execute("SELECT id, name, trainer_ids FROM groups ORDER BY name").fetchall()
    return [{"id": gid, "name": name, "trainer_ids": json.loads(trainers)}
            for gid, name, trainers in rows]


def group_by_name(db: Database, name: str) -> dict | None:
    return next((g for g in groups(db) if g["name"].casefold() == name.casefold()), None)


def learners_of(db: Database, user) -> set[str] | None:
    """Ids of the learners a user follows: a trainer, those of their groups; None is all."""
    if user.role == "coordinator":
        return None
    mine = [g["id"] for g in groups(db) if user.id in g["trainer_ids"]]
    if not mine:
        return set()
    marks = ",".join("?" * len(mine))
    return {row[0] for row in db.execute(
        f"SELECT id FROM users WHERE role = 'learner' AND group_id IN ({marks})", mine)}


def pending_signoffs(db: Database, user) -> list[dict]:
    """Tasks learners marked done and no trainer has judged since, oldest first."""
    rows = db.execute(
        "SELECT a.event_id, a.user_id, a.course_id, a.course_version, a.lesson_id,"
        " a.question_id, a.hlc, u.username, u.display_name FROM answers a"
        " JOIN users u ON u.id = a.user_id WHERE a.question_type = 'task'"
        " AND NOT EXISTS (SELECT 1 FROM signoffs s WHERE s.answer_event_id = a.event_id)"
        " AND a.hlc = (SELECT max(hlc) FROM answers b WHERE b.user_id = a.user_id"
        " AND b.course_id = a.course_id AND b.question_id = a.question_id) ORDER BY a.hlc"
    ).fetchall()
    allowed = learners_of(db, user)
    names = ("event_id", "user_id", "course_id", "course_version", "lesson_id", "question_id",
             "hlc", "username", "display_name")
    return [dict(zip(names, row, strict=True)) for row in rows
            if allowed is None or row[1] in allowed]


def answer_event(db: Database, event_id: str) -> dict | None:
    row = db.execute("SELECT event_id, user_id, course_id, course_version, lesson_id,"
                     " question_id, question_type FROM answers WHERE event_id = ?",
                     [event_id]).fetchone()
    names = ("event_id", "user_id", "course_id", "course_version", "lesson_id", "question_id",
             "question_type")
    return dict(zip(names, row, strict=True)) if row else None


def group_memberships(db: Database) -> dict[str, str | None]:
    """{user_id: group_id} for every account."""
    return dict(db.execute("SELECT id, group_id FROM users").fetchall())
