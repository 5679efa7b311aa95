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
    sql = ("SELECT course_id, question_id, attempt, score, response, normalised, chosen,"
           " course_version, question_type FROM answers WHERE user_id = ?")
    params = [user_id]
    if course_id is not None:
        sql += " AND course_id = ?"
        params.append(course_id)
    found: dict = defaultdict(lambda: defaultdict(list))
    for row in db.execute(sql + " ORDER BY hlc", params).fetchall():
        course, question, number, score, response, normalised, chosen, version, kind = row
        found[course][question].append(Attempt(
            number, None if score is None else Decimal(score), json.loads(response),
            normalised, tuple(json.loads(chosen)), version, kind))
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
