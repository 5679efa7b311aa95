"""Named reads for the views; the views hold no SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

NOT_STARTED, VIEWED, COMPLETED = "not-started", "viewed", "completed"


@dataclass(frozen=True)
class LessonState:
    status: str
    last_active_hlc: int = 0


def _state(row) -> LessonState:
    status = COMPLETED if row["completed_hlc"] else VIEWED if row["first_viewed_hlc"] else \
        NOT_STARTED
    return LessonState(status, row["last_active_hlc"])


def lesson_states(db: Database, user_id: str, course_id: str | None = None) -> dict:
    """{(course_id, lesson_id): LessonState} for one learner, in one course or all."""
    sql = "SELECT * FROM lesson_progress WHERE user_id = ?"
    params = [user_id]
    if course_id is not None:
        sql += " AND course_id = ?"
        params.append(course_id)
    return {(r["course_id"], r["lesson_id"]): _state(r) for r in db.query(sql, params)}


def lesson_state(db: Database, user_id: str, course_id: str, lesson_id: str) -> LessonState:
    rows = list(db.query(
        "SELECT * FROM lesson_progress WHERE user_id = ? AND course_id = ? AND lesson_id = ?",
        [user_id, course_id, lesson_id]))
    return _state(rows[0]) if rows else LessonState(NOT_STARTED)


def course_progress(course, states: dict) -> dict:
    """Counts for a course card: lessons completed out of the lessons the course has now."""
    total = len(course.lessons)
    done = sum(1 for lesson in course.lessons
               if states.get((course.id, lesson.id), LessonState(NOT_STARTED)).status
               == COMPLETED)
    started = any((course.id, lesson.id) in states for lesson in course.lessons)
    percent = round(100 * done / total) if total else 0
    return {"done": done, "total": total, "percent": percent, "started": started,
            "complete": total > 0 and done == total}


def continue_point(catalog, states: dict):
    """(course, lesson) to continue with: after the learner's latest activity, or None."""
    recent = sorted(states.items(), key=lambda item: item[1].last_active_hlc, reverse=True)
    for (course_id, lesson_id), state in recent:
        course = catalog.courses.get(course_id)
        if course is None or course.lesson(lesson_id) is None:
            continue
        if state.status != COMPLETED:
            return course, course.lesson(lesson_id)
        ids = [lesson.id for lesson in course.lessons]
        following = course.lessons[ids.index(lesson_id) + 1:] + course.lessons[:ids.index(
            lesson_id)]
        for lesson in following:
            if states.get((course.id, lesson.id), LessonState(NOT_STARTED)).status != COMPLETED:
                return course, lesson
        return None  # the most recent course is finished: nothing to continue there
    return None
