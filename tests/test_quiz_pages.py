"""Quizzes through HTTP, as a learner's phone sends them: forms, grading, attempts, progress."""

from __future__ import annotations

import json
import re

import pytest

from trainer.db import get_db

from .conftest import add_user, html, sign_in

COURSE = """---
id: quizzes
title: Quiz course
version: 2.0.0
language: {language}
pass_mark: 70%
completion: all-lessons-passed
---
Every type.
"""
QUESTIONS = {
    "pick-one": "type: single\n\nWhich current?\n\n- (x) KEYSINGLE 3 A\n  > FEEDBACK-RIGHT\n"
                "- ( ) 48 A\n  > FEEDBACK-MULTIPLIED\n- ( ) 0.3 A\n",
    "pick-many": "type: multiple\n\nWhich are conductors?\n\n- [x] copper\n- [ ] glass\n"
                 "- [x] aluminium\n",
    "sun": "type: truefalse\n\nThe sun rises in the east.\n\nanswer: true\n",
    "unit-name": "type: text\n\nName the unit of current.\n\n= ampere\n= amp\n~ volt\n"
                 "  > FEEDBACK-VOLT\n",
    "current": "type: numeric\nunit: A\n\nA 12 V battery feeds a 4 Ω lamp. Current?\n\n"
               "= 3 ±0.1 A\n~ 48 A\n  > FEEDBACK-48\nhint: HINT-ONE\nhint: HINT-TWO\n---\n"
               "EXPLANATION-OHM\n",
    "steps": "type: order\n\nPut in order.\n\n1. cut\n2. strip\n3. crimp\n4. test\n",
    "units": "type: match\n\nMatch symbol and unit.\n\n- V -> volt\n- A -> ampere\n- -> ohm\n",
    "crimp": "type: task\n\nCrimp a cable.\n\n- [ ] cut\n- [ ] crimp\n- [ ] test\n",
}
RIGHT = {
    "pick-one": {"answer": "a"}, "pick-many": {"answer": ["a", "c"]}, "sun": {"answer": "true"},
    "unit-name": {"answer": " Ampere "}, "current": {"answer": "3000 mA"},
    "steps": "order: filled in from the page",
    "units": {"match-a": "volt", "match-b": "ampere"},
    "crimp": {"step": ["a", "b", "c"]},
}
LESSON = "/courses/quizzes/all-types"


def lesson_text(questions: dict, front: str = "") -> str:
    blocks = "".join(f"```quiz\nid: {qid}\n{body}```\n\n" for qid, body in questions.items())
    return f"{front}# All types\n\nRead this first.\n\n{blocks}"


@pytest.fixture
def quiz_course(courses_dir):
    folder = courses_dir / "quizzes"
    folder.mkdir()
    (folder / "course.md").write_text(COURSE.format(language="en"))
    (folder / "01-all-types.md").write_text(lesson_text(QUESTIONS))
    graded = {k: v for k, v in QUESTIONS.items() if k not in ("crimp",)}
    (folder / "02-graded.md").write_text(lesson_text(
        {f"g-{k}": v for k, v in graded.items()}, "---\nattempts: 2\nscore_on: best\n---\n"))
    return folder


@pytest.fixture
def learner_client(app, client, quiz_course):
    add_user(app, "amina")
    sign_in(client, "amina")
    return client


def order_positions(page: str, qid: str, right: bool = True) -> dict:
    """Positions for an order question, read from the labels (their ids are opaque)."""
    section = html_text(page).find(id=f"q-{qid}")
    written = ["cut", "strip", "crimp", "test"]
    values = {}
    for select in section.find_all("select"):
        label = section.find("label", attrs={"for": select["id"]}).text
        position = written.index(label) + 1 if right else 4 - written.index(label)
        values[select["name"]] = str(position)
    return values


def html_text(page: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(page, "html.parser")


def answer(client, qid: str, values, lesson: str = LESSON, reuse_key: str | None = None):
    page = client.get(lesson).get_data(as_text=True)
    if isinstance(values, str):
        values = order_positions(page, qid)
    form = re.search(rf'<section class="question card" id="q-{qid}".*?</section>', page, re.S)
    assert form, f"no open form for {qid}"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0)).group(1)
    key = reuse_key or re.search(r'name="form_key" value="([^"]+)"', form.group(0)).group(1)
    data = {"csrf_token": csrf, "form_key": key, **values}
    return client.post(f"{lesson}/questions/{qid}", data=data), key


def stored_answers(app) -> list[dict]:
    with app.app_context():
        rows = get_db().execute(
            "SELECT question_id, attempt, score, success, response, normalised, course_version"
            " FROM answers ORDER BY hlc").fetchall()
    names = ["question_id", "attempt", "score", "success", "response", "normalised",
             "course_version"]
    return [dict(zip(names, row, strict=True)) for row in rows]


def question_section(client, qid: str, lesson: str = LESSON):
    return html(client.get(lesson)).find(id=f"q-{qid}")


def test_each_question_is_a_fieldset_with_its_stem_as_legend_and_labelled_inputs(learner_client):
    soup = html(learner_client.get(LESSON))
    fieldsets = soup.find_all("fieldset")
    assert len(fieldsets) == len(QUESTIONS)
    for fieldset in fieldsets:
        assert fieldset.legend.text.strip()
        for field in fieldset.find_all(["input", "select"]):
            assert soup.find("label", attrs={"for": field["id"]}), field


@pytest.mark.parametrize("qid", list(RIGHT))
def test_right_answers_are_graded_right_through_the_form(app, learner_client, qid):
    response, _ = answer(learner_client, qid, RIGHT[qid])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{LESSON}#q-{qid}")
    (stored,) = stored_answers(app)
    section = question_section(learner_client, qid)
    if qid == "crimp":
        assert stored["score"] is None and "Waiting for your trainer" in section.text
    else:
        assert (stored["score"], stored["success"]) == ("1", 1)
        assert "Right!" in section.text and "Score: 100%" in section.text
        assert section.find("form") is None  # right: nothing more to try


def test_wrong_answer_shows_the_chosen_feedback_only(learner_client):
    answer(learner_client, "pick-one", {"answer": "b"})
    section = question_section(learner_client, "pick-one")
    assert "Not right." in section.text and "FEEDBACK-MULTIPLIED" in section.text
    assert "FEEDBACK-RIGHT" not in section.text
    assert section.find("form") is not None  # unlimited tries: the form is offered again


def test_numeric_keeps_the_raw_input_and_shows_the_anticipated_feedback(app, learner_client):
    answer(learner_client, "current", {"answer": "48"})
    section = question_section(learner_client, "current")
    assert "FEEDBACK-48" in section.text and "EXPLANATION-OHM" not in section.text
    answer(learner_client, "current", {"answer": "3,0"})  # English: no decimal comma
    answer(learner_client, "current", {"answer": "3.05 A"})
    assert [(a["response"], a["normalised"], a["attempt"]) for a in stored_answers(app)] == [
        ('"48"', "48 A", 1), ('"3.05 A"', "3.05 A", 2)]
    assert "EXPLANATION-OHM" in question_section(learner_client, "current").text


def test_invalid_input_is_refused_with_a_message_by_its_field_and_nothing_recorded(
        app, learner_client):
    for values, message in (({"answer": ""}, "Write a number."),
                            ({"answer": "abc"}, "Write a number, like 3.5."),
                            ({"answer": "3 V"}, "Give the answer in A.")):
        response, _ = answer(learner_client, "current", values)
        assert response.status_code == 400
        section = html(response).find(id="q-current")
        error = section.find(class_="field-error")
        assert error.text == message and error["role"] == "alert"
        assert section.fieldset["aria-describedby"] == error["id"]
        assert section.find("input", attrs={"name": "answer"})["value"] == values["answer"]
    assert stored_answers(app) == []


def test_the_same_form_posted_twice_records_one_answer(app, learner_client):
    first, key = answer(learner_client, "pick-one", {"answer": "b"})
    again, _ = answer(learner_client, "pick-one", {"answer": "b"}, reuse_key=key)
    assert first.status_code == again.status_code == 302
    assert len(stored_answers(app)) == 1


def test_a_form_without_a_key_issued_to_this_learner_is_refused(app, learner_client):
    response, _ = answer(learner_client, "pick-one", {"answer": "a"}, reuse_key="forged")
    assert response.status_code == 400 and stored_answers(app) == []
    add_user(app, "baraka")
    other = app.test_client()
    sign_in(other, "baraka")
    _, borrowed = answer(other, "pick-one", {"answer": "b"})  # baraka's key, used by amina
    response, _ = answer(learner_client, "pick-one", {"answer": "a"}, reuse_key=borrowed)
    assert response.status_code == 400
    assert [a["question_id"] for a in stored_answers(app)] == ["pick-one"]  # baraka's only


def test_posts_sent_at_once_cannot_go_past_the_attempt_limit(app, quiz_course):
    import threading

    lesson = "/courses/quizzes/graded"
    add_user(app, "racer")
    posts = []
    for option in "bcb":  # three wrong answers, each form opened before any is sent
        browser = app.test_client()
        sign_in(browser, "racer")
        page = browser.get(lesson).get_data(as_text=True)
        section = re.search(r'id="q-g-pick-one".*?</section>', page, re.S).group(0)
        data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', section).group(1),
                "form_key": re.search(r'name="form_key" value="([^"]+)"', section).group(1),
                "answer": option}
        posts.append((browser, data))
    threads = [threading.Thread(target=lambda b=b, d=d: b.post(
        f"{lesson}/questions/g-pick-one", data=d)) for b, d in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored_answers(app)) == 2  # attempts: 2 in the lesson's front matter


def test_attempts_run_out_and_the_explanation_shows(app, learner_client):
    lesson = "/courses/quizzes/graded"
    assert "2 tries left." in question_section(learner_client, "g-current", lesson).text
    answer(learner_client, "g-current", {"answer": "48"}, lesson)
    assert "1 try left." in question_section(learner_client, "g-current", lesson).text
    answer(learner_client, "g-current", {"answer": "12"}, lesson)
    section = question_section(learner_client, "g-current", lesson)
    assert section.find("form") is None and "EXPLANATION-OHM" in section.text
    response = learner_client.post(f"{lesson}/questions/g-current", data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', learner_client.get(
            lesson).get_data(as_text=True)).group(1), "form_key": "1700000000000.abcdefghij",
        "answer": "3"})
    assert response.status_code == 400 and len(stored_answers(app)) == 2  # a made-up key


def test_score_on_best_and_pass_mark_decide_the_lesson(app, learner_client):
    lesson = "/courses/quizzes/graded"
    for qid, values in RIGHT.items():
        if qid != "crimp" and qid != "pick-one":
            answer(learner_client, f"g-{qid}", values, lesson)
    answer(learner_client, "g-pick-one", {"answer": "b"}, lesson)
    status = html(learner_client.get(lesson)).find(class_="lesson-status").text
    assert "Your score: 86%." in status and "Passed" in status  # 6 of 7, over 70%
    answer(learner_client, "g-pick-one", {"answer": "a"}, lesson)  # best of two counts
    assert "Your score: 100%." in html(learner_client.get(lesson)).find(
        class_="lesson-status").text
    course = html(learner_client.get("/courses/quizzes"))
    assert "Passed · 100%" in course.select(".lesson-list li")[1].text


def test_lesson_with_a_task_waits_for_sign_off(learner_client):
    for qid, values in RIGHT.items():
        answer(learner_client, qid, values)
    status = html(learner_client.get(LESSON)).find(class_="lesson-status").text
    assert "Your score: 100%." in status
    assert "waiting for your trainer's sign-off" in status and "Completed" in status
    card = html(learner_client.get("/")).find("a", string="Quiz course").find_parent("li")
    assert "0 of 2 lessons passed" in card.text


def test_a_lesson_not_yet_passed_is_not_passed(learner_client):
    lesson = "/courses/quizzes/graded"
    for qid in RIGHT:
        if qid != "crimp":
            answer(learner_client, f"g-{qid}", {"answer": "zzz"} if qid in (
                "unit-name",) else RIGHT[qid] if qid in ("sun",) else {"answer": "b"}
                if qid == "pick-one" else RIGHT[qid] if qid == "steps" else {"answer": ["b"]}
                if qid == "pick-many" else {"answer": "48"} if qid == "current" else
                {"match-a": "ohm", "match-b": "ampere"}, lesson)
    status = html(learner_client.get(lesson)).find(class_="lesson-status").text
    assert "Completed" in status and "Passed" not in status


def test_hints_are_offered_one_after_another(learner_client):
    section = question_section(learner_client, "current")
    first = section.find("details", class_="hint")
    assert first.summary.text == "Show a hint" and "HINT-ONE" in first.p.text
    second = first.find("details", class_="hint")
    assert second.summary.text == "Show another hint" and "HINT-TWO" in second.p.text


def test_answer_events_carry_what_trainers_and_sync_need(app, learner_client):
    answer(learner_client, "current", {"answer": "3000 mA"})
    with app.app_context():
        (payload,) = [json.loads(row[0]) for row in get_db().execute(
            "SELECT payload FROM event WHERE type = 'answer_submitted'").fetchall()]
    assert payload["response"] == "3000 mA" and payload["normalised"] == "3 A"
    assert (payload["score"], payload["success"], payload["attempt"]) == ("1", True, 1)
    assert payload["course_version"] == "2.0.0" and payload["question_type"] == "numeric"
    assert 0 <= payload["duration_ms"] < 60_000


def test_another_learners_answers_are_not_shown(app, client, learner_client):
    answer(learner_client, "pick-one", {"answer": "b"})
    add_user(app, "baraka")
    other = app.test_client()
    sign_in(other, "baraka")
    section = html(other.get(LESSON)).find(id="q-pick-one")
    assert "Not right." not in section.text and section.find("form") is not None


SWAPS = {  # the same question with another key: the learner's page must not change
    "pick-one": ("- (x) KEYSINGLE 3 A", "- ( ) KEYSINGLE 3 A", "- ( ) 0.3 A", "- (x) 0.3 A"),
    "pick-many": ("- [x] copper", "- [ ] copper", "- [ ] glass", "- [x] glass"),
    "sun": ("answer: true", "answer: false"),
    "unit-name": ("= ampere\n= amp", "= coulomb\n= amp"),
    "current": ("= 3 ±0.1 A", "= 7 ±0.1 A"),
    "steps": ("1. cut\n2. strip\n3. crimp\n4. test", "1. test\n2. crimp\n3. strip\n4. cut"),
    "units": ("- V -> volt\n- A -> ampere", "- V -> ampere\n- A -> volt"),
}


def masked(section) -> str:
    for hidden in section.find_all("input", type="hidden"):
        hidden.decompose()  # the CSRF token and the one-time form key differ on every page
    return str(section)


@pytest.mark.parametrize("qid", list(SWAPS))
@pytest.mark.parametrize("run", range(3))  # shuffles differ per learner: try several
def test_the_page_says_nothing_about_the_answer_key(app, learner_client, quiz_course, qid, run):
    import os
    import time

    before = masked(question_section(learner_client, qid))
    swapped = dict(QUESTIONS)
    pairs = SWAPS[qid]
    for old, new in zip(pairs[::2], pairs[1::2], strict=True):
        assert old in swapped[qid]
        swapped[qid] = swapped[qid].replace(old, new)
    path = quiz_course / "01-all-types.md"
    path.write_text(lesson_text(swapped))
    later = time.time() + 10
    os.utime(path, (later, later))
    after = masked(question_section(learner_client, qid))
    assert before == after


def test_shuffled_options_stay_put_across_reloads_and_differ_between_learners(
        app, client, quiz_course):
    many = "type: single\nshuffle: true\n\nPick.\n\n" + "".join(
        f"- ({'x' if n == 0 else ' '}) option {n}\n" for n in range(8))
    (quiz_course / "03-shuffled.md").write_text(lesson_text({"mixed": many}))
    orders = []
    for name in ("s1", "s2", "s3"):
        add_user(app, name)
        browser = app.test_client()
        sign_in(browser, name)
        seen = [[i["value"] for i in question_section(browser, "mixed", "/courses/quizzes/"
                                                      "shuffled").find_all("input", type="radio")]
                for _ in range(2)]
        assert seen[0] == seen[1]
        orders.append(tuple(seen[0]))
    assert len(set(orders)) > 1
    assert all(sorted(order) == list("abcdefgh") for order in orders)


def test_decimal_comma_is_accepted_in_a_french_course(app, client, quiz_course):
    (quiz_course / "course.md").write_text(COURSE.format(language="fr"))
    add_user(app, "awa")
    sign_in(client, "awa")
    response, _ = answer(client, "current", {"answer": "3,0"})
    assert response.status_code == 302
    assert stored_answers(app)[0]["score"] == "1"


def test_unknown_question_is_404(learner_client):
    page = learner_client.get(LESSON).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = learner_client.post(f"{LESSON}/questions/nope", data={"csrf_token": csrf})
    assert response.status_code == 404


def test_changing_a_question_type_after_answers_is_reported(app, client, learner_client,
                                                           quiz_course, tmp_path):
    import os
    import subprocess
    import sys
    import time

    answer(learner_client, "pick-one", {"answer": "b"})
    path = quiz_course / "01-all-types.md"
    changed = {**QUESTIONS, "pick-one": "type: multiple\n\nWhich?\n\n- [x] 3 A\n- [ ] 48 A\n"}
    path.write_text(lesson_text(changed))
    later = time.time() + 10
    os.utime(path, (later, later))
    add_user(app, "boss", "coordinator")
    boss = app.test_client()
    sign_in(boss, "boss")
    problems = html(boss.get("/coordinate/problems")).select(".problem")
    assert [p.strong.text for p in problems] == ["Error Q120"]
    assert "was answered as single and is now multiple" in problems[0].text
    env = {**os.environ, "TRAINER_HOME": app.config["TRAINER_HOME"]}
    result = subprocess.run([sys.executable, "-m", "trainer", "check", str(quiz_course.parent)],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "error[Q120]" in result.stdout
