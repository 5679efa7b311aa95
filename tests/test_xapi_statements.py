"""Events as xAPI statements: every statement of learners at work keeps the spec's rules,
each event type maps as documented, and any answer maps to a valid statement, always the
same one."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer import events
from trainer.db import get_db
from trainer.xapi import export, statements
from trainer.xapi.statements import Naming, UnknownAccount, statement

from .xapi_rules import validate
from .xapi_scenario import add_quiz_course, learners_at_work, make_hub

BASE = "https://trainer.invalid"
NODE = "0b6f6c1e-3a57-4a5e-9a43-1d2f7f0d9c11"
EVENT_ID = "5f0c2a8e-8d1b-4c7e-a1f3-2b9d6e4c7a10"
NAMING = Naming(homes={"amina-id": NODE, "boss-id": NODE})


def event(type_: str, payload: dict, **changes) -> events.Event:
    made = events.Event(origin=f"{NODE}/1", seq=1, event_id=EVENT_ID, prev_hash="", hlc=0,
                        wall_time=1_700_000_000_123, type=type_, schema_ver=1, scope=None,
                        payload=payload)
    return replace(made, **changes)


def an_answer(**changes) -> dict:
    return {"user_id": "amina-id", "course_id": "solar", "course_version": "2.0.0",
            "lesson_id": "ohm", "question_id": "current", "question_type": "numeric",
            "form_key": "k", "response": "3000 mA", "normalised": "3 A", "chosen": ["a"],
            "success": True, "score": "1", "duration_ms": 12_345, "attempt": 2, **changes}


@pytest.fixture
def at_work(app, courses_dir):
    add_quiz_course(courses_dir)
    make_hub(app)
    return learners_at_work(app)


def all_statements(app) -> tuple[list[dict], list[events.Event]]:
    with app.app_context():
        db = get_db()
        named = export.naming(app, db)
        held = list(events.all_events(db))
        return [s for s in (statement(e, named) for e in held) if s], held


def test_every_statement_of_learners_at_work_keeps_the_rules(app, at_work):
    made, held = all_statements(app)
    assert {s["id"]: validate(s) for s in made} == {s["id"]: [] for s in made}
    mappable = [e for e in held if e.type in statements.MAPPED]
    assert len(made) == len(mappable) and len({s["id"] for s in made}) == len(made)
    verbs = Counter(s["verb"]["display"]["en-US"] for s in made)
    assert verbs == {"answered": 24, "experienced": 5, "completed": 2, "passed": 1,
                     "failed": 1}
    course = next(s for s in made if s["object"]["id"].endswith("/courses/quizzes"))
    assert course["object"]["definition"]["name"] == {"en": "Quiz course"}
    learners = {s["actor"]["account"]["name"] for s in made}
    assert learners == {at_work["amina"], at_work["baraka"]}


def test_an_answer_is_answered_with_score_success_response_and_duration():
    made = statement(event("answer_submitted", an_answer()), NAMING)
    question = f"{BASE}/courses/solar/lessons/ohm/questions/current"
    assert made["id"] == EVENT_ID
    assert made["actor"] == {"objectType": "Agent", "account": {
        "homePage": f"{BASE}/nodes/{NODE}", "name": "amina-id"}}
    assert made["verb"] == {"id": "http://adlnet.gov/expapi/verbs/answered",
                            "display": {"en-US": "answered"}}
    assert made["object"]["id"] == question
    assert made["object"]["definition"]["type"] == \
        "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert made["object"]["definition"]["interactionType"] == "numeric"
    assert made["result"] == {"response": "3", "success": True, "duration": "PT12.34S",
                              "score": {"scaled": 1.0, "raw": 1.0, "min": 0, "max": 1}}
    context = made["context"]
    assert context["registration"] == statements.registration("amina-id", "solar")
    assert context["revision"] == "2.0.0" and context["platform"] == "trainer"
    assert [a["id"] for a in context["contextActivities"]["parent"]] == [
        f"{BASE}/courses/solar/lessons/ohm"]
    assert [a["id"] for a in context["contextActivities"]["grouping"]] == [
        f"{BASE}/courses/solar"]
    assert context["extensions"] == {f"{BASE}/extensions/attempt": 2}
    assert made["timestamp"] == "2023-11-14T22:13:20.123Z"
    assert validate(made) == []


@pytest.mark.parametrize("question_type,given,normalised,response,interaction", [
    ("single", "b", "48 A", "b", "choice"),
    ("multiple", ["a", "c"], "copper; aluminium", "a[,]c", "choice"),
    ("truefalse", "true", "true", "true", "true-false"),
    ("text", " Ampere ", "ampere", " Ampere ", "fill-in"),
    ("order", ["c", "a", "b"], "x → y → z", "c[,]a[,]b", "sequencing"),
    ("match", {"b": "ampere", "a": "volt"}, "V → volt", "a[.]volt[,]b[.]ampere", "matching"),
    ("task", ["a", "b"], "done", "a[.]done[,]b[.]done", "performance"),
    ("drawing", {"x": 1}, "?", '{"x": 1}', "other"),  # a type from a newer box
])
def test_each_question_type_writes_its_response_the_xapi_way(question_type, given, normalised,
                                                             response, interaction):
    made = statement(event("answer_submitted", an_answer(
        question_type=question_type, response=given, normalised=normalised)), NAMING)
    assert made["result"]["response"] == response
    assert made["object"]["definition"]["interactionType"] == interaction
    assert validate(made) == []


def test_a_practical_task_answered_has_no_success_until_signed_off():
    made = statement(event("answer_submitted", an_answer(
        question_type="task", response=["a"], success=None, score=None)), NAMING)
    assert "success" not in made["result"] and "score" not in made["result"]


@pytest.mark.parametrize("verdict,verb", [("passed", "passed"), ("redo", "failed")])
def test_a_sign_off_passes_or_fails_the_task_with_the_trainer_as_instructor(verdict, verb):
    answer_id = "answer-event-of-another-node"
    made = statement(event("task_signed_off", {
        "answer_event_id": answer_id, "learner_id": "amina-id", "course_id": "solar",
        "course_version": "2.0.0", "lesson_id": "ohm", "question_id": "crimp",
        "verdict": verdict, "comment": "Strip 5 mm.", "by": "boss-id"}), NAMING)
    assert made["verb"]["id"].endswith(f"/verbs/{verb}")
    assert made["actor"]["account"]["name"] == "amina-id"
    assert made["context"]["instructor"]["account"]["name"] == "boss-id"
    assert made["context"]["statement"] == {"objectType": "StatementRef",
                                            "id": statements.statement_id(answer_id)}
    assert made["result"]["success"] is (verdict == "passed")
    assert made["result"]["extensions"] == {f"{BASE}/extensions/comment": "Strip 5 mm."}
    assert made["object"]["definition"]["interactionType"] == "performance"
    assert validate(made) == []


def test_lessons_and_courses_are_experienced_and_completed():
    lesson = {"user_id": "amina-id", "course_id": "solar", "course_version": "1",
              "lesson_id": "ohm"}
    viewed = statement(event("lesson_viewed", lesson), NAMING)
    completed = statement(event("lesson_completed", lesson), NAMING)
    course = statement(event("course_completed", {"user_id": "amina-id", "course_id": "solar",
                                                  "course_version": "1"}), NAMING)
    assert viewed["verb"]["display"] == {"en-US": "experienced"} and "result" not in viewed
    assert completed["verb"]["display"] == {"en-US": "completed"}
    assert completed["result"] == {"completion": True} == course["result"]
    assert viewed["object"]["definition"]["type"].endswith("/activities/lesson")
    assert course["object"] == {"objectType": "Activity", "id": f"{BASE}/courses/solar",
                                "definition": {"type": "http://adlnet.gov/expapi/activities/"
                                               "course", "name": {"und": "solar"}}}
    assert "contextActivities" not in course["context"]
    assert [validate(s) for s in (viewed, completed, course)] == [[], [], []]


@pytest.mark.parametrize("type_,payload", [
    ("signed_in", {"user_id": "amina-id"}),
    ("lww_set", {"entity": "user", "entity_id": "amina-id", "values": {"name": "A"},
                 "by": None}),
    ("courses_running", {"courses": {}}),
    ("something_new", {}),
])
def test_events_without_learner_meaning_have_no_statement(type_, payload):
    assert statement(event(type_, payload), NAMING) is None


def test_an_account_not_known_here_raises_rather_than_guess_its_node():
    with pytest.raises(UnknownAccount):
        statement(event("lesson_viewed", {"user_id": "stranger", "course_id": "c",
                                          "course_version": "1", "lesson_id": "l"}), NAMING)


def test_the_catalog_names_lessons_and_questions():
    named = Naming(homes=NAMING.homes, courses={"solar": statements.CourseNames(
        "fr", "Énergie solaire", {"ohm": "La loi d'Ohm"}, {"current": "Quel courant ?"})})
    made = statement(event("answer_submitted", an_answer()), named)
    assert made["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {
        "fr": "La loi d'Ohm"}
    assert made["object"]["definition"]["description"] == {"fr": "Quel courant ?"}
    plain = statement(event("answer_submitted", an_answer()), NAMING)
    assert statements.same(made, plain)  # definitions are not part of a statement


def test_odd_ids_are_percent_encoded_into_valid_iris():
    made = statement(event("lesson_viewed", {"user_id": "amina-id", "course_id": "a b/é",
                                             "course_version": "1", "lesson_id": "?#"}),
                     replace(NAMING, base="https://lrs.example.org/trainer"))
    assert made["object"]["id"] == \
        "https://lrs.example.org/trainer/courses/a%20b%2F%C3%A9/lessons/%3F%23"
    assert validate(made) == []


@pytest.mark.parametrize("ms,written", [
    (0, "PT0S"), (9, "PT0S"), (1_234, "PT1.23S"), (1_500, "PT1.5S"), (60_000, "PT1M"),
    (61_000, "PT1M1S"), (3_723_450, "PT1H2M3.45S"), (7_200_000, "PT2H"),
    (-5, None), (True, None), ("12", None), (None, None),
])
def test_durations_are_iso_8601_to_the_hundredth(ms, written):
    assert statements.duration(ms) == written


@pytest.mark.parametrize("value,scored", [
    ("1", {"scaled": 1.0, "raw": 1.0, "min": 0, "max": 1}),
    ("0.5", {"scaled": 0.5, "raw": 0.5, "min": 0, "max": 1}), ("0", {"scaled": 0.0, "raw": 0.0,
                                                                     "min": 0, "max": 1}),
    (None, None), ("NaN", None), ("1.5", None), ("-0.1", None), ("x", None), (True, None),
])
def test_scores_are_scaled_between_0_and_1_or_left_out(value, scored):
    assert statements.score(value) == scored


def test_statement_ids_come_from_event_ids():
    assert statements.statement_id(EVENT_ID) == EVENT_ID
    assert statements.statement_id(EVENT_ID.upper()) == EVENT_ID
    other = statements.statement_id("node-1/3:17")
    assert uuid.UUID(other).version == 5 and other == statements.statement_id("node-1/3:17")
    assert other != statements.statement_id("node-1/3:18")


def test_an_lrs_copy_of_a_statement_is_the_same_statement_and_a_changed_one_is_not():
    made = statement(event("answer_submitted", an_answer()), NAMING)
    returned = json.loads(json.dumps(made))
    returned.update(stored="2024-01-01T00:00:00Z", version="1.0.0", authority={
        "objectType": "Agent", "account": {"homePage": "http://lrs", "name": "k"}})
    returned["id"] = returned["id"].upper()
    returned["timestamp"] = "2023-11-14T23:13:20.123+01:00"
    returned["verb"]["display"] = {"fr-FR": "a répondu"}
    returned["object"]["definition"] = {"name": {"en": "Renamed"}}
    assert statements.same(made, returned)
    changed = json.loads(json.dumps(made))
    changed["result"]["success"] = False
    assert not statements.same(made, changed)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
ANSWERS = st.fixed_dictionaries({
    "user_id": st.text(min_size=1, max_size=12), "course_id": st.text(max_size=12),
    "course_version": st.text(max_size=8), "lesson_id": st.text(max_size=12),
    "question_id": st.text(max_size=12),
    "question_type": st.sampled_from([*statements.INTERACTIONS, "future"]),
    "form_key": st.text(max_size=10), "response": JSON, "normalised": st.text(max_size=12),
    "chosen": st.lists(st.text(max_size=3), max_size=3),
    "success": st.none() | st.booleans(),
    "score": st.none() | st.text(max_size=6) | st.decimals(0, 1, places=4).map(str),
    "duration_ms": st.integers(-10, 10**12) | st.none(), "attempt": st.integers(1, 10**6),
})


@given(payload=ANSWERS, event_id=st.uuids().map(str) | st.text(min_size=1, max_size=30),
       wall=st.integers(-10**15, 10**15), base=st.sampled_from(
           [BASE, "http://127.0.0.1:8080/x", "https://lrs.example.org/a/b"]))
def test_any_answer_maps_to_a_valid_statement_always_the_same(payload, event_id, wall, base):
    named = Naming(base=base, homes={payload["user_id"]: NODE})
    answer = event("answer_submitted", payload, event_id=event_id, wall_time=wall)
    made = statement(answer, named)
    assert validate(made) == []
    assert made == statement(answer, named) and json.loads(json.dumps(made)) == made
    assert made["id"] == statements.statement_id(event_id)
    assert made["context"]["registration"] == statements.registration(payload["user_id"],
                                                                      payload["course_id"])


def test_a_payload_not_as_its_type_promises_raises_a_malformed_error():
    for payload in ({"user_id": ["amina-id"], "course_id": "c", "course_version": "1",
                     "lesson_id": "l"}, {"user_id": "amina-id", "course_id": "c"}):
        with pytest.raises(statements.MALFORMED):
            statement(event("lesson_viewed", payload), NAMING)
