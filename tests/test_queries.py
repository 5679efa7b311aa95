"""The named reads behind the trainer and coordinator pages, tested on their own."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from trainer import accounts, clock, events, queries
from trainer.courses.catalog import load_catalog
from trainer.db import migrate, open_database

COURSES = Path(__file__).parent / "courses"


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "t.db")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def basics():
    return load_catalog(COURSES).courses["basics"]


def learner(db, name: str, group: str | None = None) -> str:
    user_id = str(uuid.uuid4())
    events.set_fields(db, "user", user_id, {"username": name, "role": "learner",
                                            "group_id": group}, by=None)
    return user_id


def answer(db, user_id: str, question: str, score: str, text: str, lesson="first-steps"):
    events.record_answer(db, None, {
        "user_id": user_id, "course_id": "basics", "course_version": "1.0.0",
        "lesson_id": lesson, "question_id": question, "question_type": "single",
        "form_key": uuid.uuid4().hex, "response": text, "normalised": text, "chosen": [],
        "score": score, "success": score == "1", "duration_ms": 1000})


def test_question_analysis_counts_right_answers_wrong_texts_and_tries(db, basics):
    lesson = basics.lesson("first-steps")
    a, b, c = (learner(db, n) for n in "abc")
    answer(db, a, "first-single", "1", "RIGHT")
    answer(db, b, "first-single", "0", "WRONG")
    answer(db, b, "first-single", "0", "WRONG")
    answer(db, c, "first-single", "0", "OTHER")
    (item,) = queries.question_analysis(db, basics, lesson, None)
    assert item["answers"] == 4 and item["right_share"] == 0.25
    assert item["wrong"] == [("WRONG", 2), ("OTHER", 1)]
    assert item["attempts_per_learner"] == 4 / 3
    (only_a,) = queries.question_analysis(db, basics, lesson, {a})
    assert only_a["right_share"] == 1.0 and only_a["wrong"] == []


def test_group_matrix_gives_every_learner_every_lesson(db, basics):
    group = accounts.create_group(db, "G", [], None)
    a, b = learner(db, "a", group), learner(db, "b", group)
    answer(db, a, "first-single", "1", "RIGHT")
    events.lesson_completed(db, b, "basics", "1.0.0", "third-lesson")
    people = queries.group_learners(db, group)
    matrix = queries.group_matrix(db, basics, people)
    assert set(matrix) == {a, b}
    assert matrix[a]["first-steps"].status == "passed"
    assert matrix[b]["third-lesson"].status == "passed"
    assert matrix[b]["first-steps"].status == "not-started"


def test_learners_of_a_trainer_are_those_of_their_groups(db):
    trainer = accounts.User(str(uuid.uuid4()), "t", "", "trainer", True)
    coordinator = accounts.User(str(uuid.uuid4()), "c", "", "coordinator", True)
    mine = accounts.create_group(db, "Mine", [], None)
    events.set_fields(db, "group", mine, {"trainer_ids": [trainer.id]}, by=None)
    other = accounts.create_group(db, "Other", [], None)
    a, b = learner(db, "a", mine), learner(db, "b", other)
    assert queries.learners_of(db, trainer) == {a}
    assert queries.learners_of(db, coordinator) is None  # everyone
    assert [g["name"] for g in queries.followed_groups(db, trainer)] == ["Mine"]
    assert b not in queries.learners_of(db, trainer)


def test_weekly_activity_puts_events_in_their_week(db):
    a = learner(db, "a")
    events.signed_in(db, a)
    weeks = queries.weekly_activity(db, clock.tick(0, clock.now_ms()), weeks=4)
    assert [ago for ago, _ in weeks] == [4, 3, 2, 1]
    assert weeks[-1][1] == 1 and sum(count for _, count in weeks) == 1


def test_course_figures_share_of_starters_who_completed(db):
    catalog = load_catalog(COURSES)
    a, b = learner(db, "a"), learner(db, "b")
    for user in (a, b):
        events.lesson_viewed(db, user, "second", "0.1.0", "only")
    events.append(db, "course_completed", {"user_id": a, "course_id": "second",
                                           "course_version": "0.1.0"})
    figures = {item["course"].id: item for item in queries.course_figures(db, catalog)}
    assert (figures["second"]["started"], figures["second"]["completed"]) == (2, 1)
    assert figures["second"]["rate"] == 0.5 and figures["basics"]["rate"] is None
