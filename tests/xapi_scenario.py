"""Learners at work on a hub, through its pages as their phones use them: lessons viewed and
completed, quizzes of every type answered right and wrong, practical tasks signed off and
sent back, a course completed. The xAPI tests map the events this leaves."""

from __future__ import annotations

from trainer.db import get_db

from .conftest import add_user, post_form, sign_in
from .test_quiz_pages import LESSON, QUESTIONS, RIGHT, answer, lesson_text

GRADED = "/courses/quizzes/graded"
COURSE = """---
id: quizzes
title: Quiz course
version: 2.0.0
language: en
pass_mark: 70%
completion: all-lessons-passed
---
Every type.
"""
WRONG = {"pick-one": {"answer": "b"}, "current": {"answer": "48 A"},
         "unit-name": {"answer": "volt"}, "sun": {"answer": "false"}}


def add_quiz_course(courses_dir) -> None:
    folder = courses_dir / "quizzes"
    folder.mkdir()
    (folder / "course.md").write_text(COURSE)
    best = "---\nscore_on: best\n---\n"
    (folder / "01-all-types.md").write_text(lesson_text(QUESTIONS, best))
    graded = {f"g-{k}": v for k, v in QUESTIONS.items() if k != "crimp"}
    (folder / "02-graded.md").write_text(lesson_text(graded, best))


def make_hub(app) -> None:
    with app.app_context():
        get_db().execute("UPDATE node SET role = 'hub' WHERE id = 1")


def learners_at_work(app) -> dict[str, str]:
    """Two learners and a coordinator at work; returns {username: user id}."""
    people = {name: add_user(app, name, role) for name, role in (
        ("amina", "learner"), ("baraka", "learner"), ("boss", "coordinator"))}
    amina, baraka, boss = (app.test_client() for _ in range(3))
    sign_in(amina, "amina")
    sign_in(baraka, "baraka")
    sign_in(boss, "boss")
    amina.get("/courses/basics/first-steps")
    post_form(amina, "/courses/basics/third-lesson/complete", page="/courses/basics/third-lesson")
    for qid, values in WRONG.items():  # a wrong first try, then the right one
        answer(baraka, qid, values)
        answer(amina, qid, values)
    for qid, values in RIGHT.items():
        answer(amina, qid, values)
        answer(amina, f"g-{qid}", values, GRADED) if qid != "crimp" else None
    answer(baraka, "crimp", RIGHT["crimp"])
    for user, verdict, comment in ((people["amina"], "passed", ""),
                                   (people["baraka"], "redo", "Strip 5 mm, not 10.")):
        post_form(boss, f"/teach/signoffs/{task_answer(app, user)}",
                  {"verdict": verdict, "comment": comment}, page="/teach/signoffs")
    amina.get(LESSON)
    return people


def task_answer(app, user_id: str) -> str:
    with app.app_context():
        return get_db().execute("SELECT event_id FROM answers WHERE user_id = ? AND"
                                " question_type = 'task'", [user_id]).fetchone()[0]


def event_types(app) -> list[str]:
    with app.app_context():
        return [row[0] for row in get_db().execute("SELECT type FROM event ORDER BY hlc")]
