"""Named reads for the views; the views hold no SQL."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
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


MARK_COLUMNS = "first_viewed_hlc, completed_hlc, last_active_hlc"


def _mark(viewed: int | None, completed: int | None, active: int) -> LessonMark:
    return LessonMark(viewed is not None, completed is not None, active)


def lesson_marks(db: Database, user_id: str) -> dict[tuple[str, str], LessonMark]:
    rows = db.execute(f"SELECT course_id, lesson_id, {MARK_COLUMNS} FROM lesson_progress"
                      " WHERE user_id = ?", [user_id]).fetchall()
    return {(course, lesson): _mark(*rest) for course, lesson, *rest in rows}


def lesson_mark(db: Database, user_id: str, course_id: str, lesson_id: str) -> LessonMark:
    row = db.execute(f"SELECT {MARK_COLUMNS} FROM lesson_progress WHERE user_id = ? AND"
                     " course_id = ? AND lesson_id = ?", [user_id, course_id, lesson_id]
                     ).fetchone()
    return _mark(*row) if row else LessonMark()


# Answers with the latest sign-off of each (tasks), read the same way for one or many learners.
ATTEMPTS = (
    "SELECT a.user_id, a.course_id, a.question_id, a.attempt, a.score, a.normalised, a.chosen,"
    " a.course_version, a.question_type, s.verdict, s.comment FROM answers a LEFT JOIN"
    " signoffs s ON s.event_id = (SELECT event_id FROM signoffs WHERE answer_event_id ="
    " a.event_id ORDER BY hlc DESC LIMIT 1) WHERE ")


def _attempt_rows(db: Database, where: str, params: list):
    for row in db.execute(ATTEMPTS + where + " ORDER BY a.hlc", params).fetchall():
        user, course, question, number, score, normalised, chosen, version, kind = row[:9]
        verdict, comment = row[9:]
        yield user, course, question, Attempt(
            number, None if score is None else Decimal(score), normalised, chosen, version,
            kind, None if verdict is None else (verdict, comment))


def attempts(db: Database, user_id: str, course_id: str | None = None,
             lesson_id: str | None = None, question_id: str | None = None) -> dict:
    """{course_id: {question_id: [Attempt, …]}} of one learner, in the order given."""
    where, params = ["a.user_id = ?"], [user_id]
    for column, value in (("course_id", course_id), ("lesson_id", lesson_id),
                          ("question_id", question_id)):
        if value is not None:
            where.append(f"a.{column} = ?")
            params.append(value)
    found: dict = defaultdict(lambda: defaultdict(list))
    for _, course, question, attempt in _attempt_rows(db, " AND ".join(where), params):
        found[course][question].append(attempt)
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


def followed_groups(db: Database, user) -> list[dict]:
    """The groups a user may follow: a trainer's own; every group for a coordinator."""
    return [group for group in groups(db)
            if user.role == "coordinator" or user.id in group["trainer_ids"]]


def group_learners(db: Database, group_id: str) -> list:
    from .accounts import USER_COLUMNS, _user

    rows = db.execute(f"SELECT {USER_COLUMNS} FROM users WHERE group_id = ? AND role ="
                      " 'learner' ORDER BY display_name, username", [group_id]).fetchall()
    return [_user(row) for row in rows]


def _placeholders(values) -> str:
    return ",".join("?" * len(values))


def marks_of(db: Database, user_ids: list[str], course_id: str) -> dict:
    """{user_id: {(course_id, lesson_id): LessonMark}} for many learners at once."""
    found: dict = defaultdict(dict)
    if not user_ids:
        return found
    rows = db.execute(
        f"SELECT user_id, lesson_id, {MARK_COLUMNS} FROM lesson_progress WHERE course_id = ?"
        f" AND user_id IN ({_placeholders(user_ids)})", [course_id, *user_ids]).fetchall()
    for user, lesson, *rest in rows:
        found[user][(course_id, lesson)] = _mark(*rest)
    return found


def attempts_of(db: Database, user_ids: list[str], course_id: str) -> dict:
    """{user_id: {question_id: [Attempt, …]}} for many learners at once."""
    found: dict = defaultdict(lambda: defaultdict(list))
    if not user_ids:
        return found
    where = f"a.course_id = ? AND a.user_id IN ({_placeholders(user_ids)})"
    for user, _, question, attempt in _attempt_rows(db, where, [course_id, *user_ids]):
        found[user][question].append(attempt)
    return found


def group_matrix(db: Database, course, learners: list) -> dict:
    """{learner_id: {lesson_id: LessonResult}}: a group's progress in one course."""
    ids = [learner.id for learner in learners]
    marks, tries = marks_of(db, ids, course.id), attempts_of(db, ids, course.id)
    return {learner_id: course_results(course, marks[learner_id], tries[learner_id])
            for learner_id in ids}


def question_analysis(db: Database, course, lesson, learner_ids: set[str] | None) -> list:
    """Per question of a lesson: share of right answers, common wrong answers, attempts per
    learner; the questions most answers get wrong come first."""
    rows = db.execute("SELECT user_id, question_id, score, normalised FROM answers WHERE"
                      " course_id = ? AND lesson_id = ? AND question_type != 'task'",
                      [course.id, lesson.id]).fetchall()
    by_question: dict = defaultdict(list)
    for user, question, score, normalised in rows:
        if learner_ids is None or user in learner_ids:
            by_question[question].append((user, Decimal(score), normalised))
    found = []
    for question in lesson.questions:
        answers = by_question.get(question.id, [])
        if question.type == "task" or not answers:
            continue
        wrong = Counter(text for _, score, text in answers if score < 1)
        learners = {user for user, _, _ in answers}
        found.append({
            "question": question, "answers": len(answers),
            "right_share": sum(1 for _, score, _ in answers if score >= 1) / len(answers),
            "wrong": wrong.most_common(3), "attempts_per_learner": len(answers) / len(learners),
        })
    return sorted(found, key=lambda item: item["right_share"])


def learner_timeline(db: Database, user_id: str, limit: int = 200) -> list[dict]:
    """A learner's events, newest first: what they did and what was done for them."""
    rows = db.execute(
        "SELECT type, hlc, payload FROM event WHERE json_extract(payload, '$.user_id') = ?"
        " OR json_extract(payload, '$.learner_id') = ? OR (type = 'lww_set' AND"
        " json_extract(payload, '$.entity_id') = ?) ORDER BY hlc DESC LIMIT ?",
        [user_id, user_id, user_id, limit]).fetchall()
    found = []
    for kind, hlc, payload in rows:
        data = json.loads(payload)
        if kind == "lww_set":  # which fields changed, never their values (a password hash…)
            data = {"fields": sorted(data.get("values", {}))}
        found.append({"type": kind, "hlc": hlc, "payload": data})
    return found


def answer_records(db: Database, course_id: str, user_ids: list[str]) -> list[dict]:
    """Every answer some learners gave in a course, oldest first."""
    if not user_ids:
        return []
    names = ("user_id", "course_version", "lesson_id", "question_id", "question_type",
             "attempt", "normalised", "score", "success", "duration_ms", "hlc")
    rows = db.execute(f"SELECT {', '.join(names)} FROM answers WHERE course_id = ? AND user_id"
                      f" IN ({_placeholders(user_ids)}) ORDER BY hlc",
                      [course_id, *user_ids]).fetchall()
    return [dict(zip(names, row, strict=True)) for row in rows]


LEARNER_EVENTS = ("signed_in", "lesson_viewed", "lesson_completed", "answer_submitted")


def active_learners(db: Database, since_hlc: int) -> int:
    """How many learners signed in, opened a lesson or answered since then (from the read
    tables, through their indexes: the event log is never read for this)."""
    return db.execute(
        "SELECT count(*) FROM users u WHERE u.role = 'learner' AND ("
        " EXISTS (SELECT 1 FROM signins s WHERE s.user_id = u.id AND s.last_hlc >= :since)"
        " OR EXISTS (SELECT 1 FROM lesson_progress p WHERE p.user_id = u.id"
        "   AND p.last_active_hlc >= :since)"
        " OR EXISTS (SELECT 1 FROM answers a WHERE a.user_id = u.id AND a.hlc >= :since))",
        {"since": since_hlc}).fetchone()[0]


def course_figures(db: Database, catalog) -> list[dict]:
    """Per course: learners who started it, completions, and the share who completed."""
    learners = "user_id IN (SELECT id FROM users WHERE role = 'learner')"
    started = dict(db.execute("SELECT course_id, count(DISTINCT user_id) FROM lesson_progress"
                              f" WHERE {learners} GROUP BY course_id").fetchall())
    done = dict(db.execute("SELECT course_id, count(DISTINCT user_id) FROM completions"
                           f" WHERE {learners} GROUP BY course_id").fetchall())
    return [{"course": course, "started": started.get(course.id, 0),
             "completed": done.get(course.id, 0),
             "rate": done.get(course.id, 0) / started[course.id] if started.get(course.id)
             else None} for course in catalog.ordered()]


def weekly_activity(db: Database, now_hlc: int, weeks: int = 8) -> list[tuple[int, int]]:
    """(weeks ago, sign-ins, lessons opened or completed and answers that week), oldest
    first; counted from the (type, hlc) index alone."""
    from .clock import WEEK as week

    start = now_hlc - weeks * week + 1  # so that "now" falls in the newest week
    marks = _placeholders(LEARNER_EVENTS)
    counts = dict(db.execute(
        f"SELECT (hlc - ?) / ?, count(*) FROM event WHERE hlc >= ? AND type IN ({marks})"
        " GROUP BY 1", [start, week, start, *LEARNER_EVENTS]).fetchall())
    return [(weeks - index, counts.get(index, 0)) for index in range(weeks)]


def busiest_course(db: Database, user_ids: list[str]) -> str | None:
    """The course these learners were last active in."""
    if not user_ids:
        return None
    row = db.execute("SELECT course_id FROM lesson_progress WHERE user_id IN"
                     f" ({_placeholders(user_ids)}) ORDER BY last_active_hlc DESC LIMIT 1",
                     user_ids).fetchone()
    return row[0] if row else None
