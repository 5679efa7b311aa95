"""Trainers sign off the practical tasks of their groups; learners see the verdict."""

from __future__ import annotations

import re

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import add_user, html, post_form, sign_in
from .test_cli import run

TASK_COURSE = "---\nid: field\ntitle: Field work\nversion: 1.0.0\n" \
              "completion: all-lessons-passed\n---\nPractice.\n"
TASK = ("# Crimp\n\n```quiz\nid: crimp\ntype: task\n\nCrimp a cable.\n\n- [ ] cut\n"
        "- [ ] crimp\n```\n")
LESSON = "/courses/field/crimp"


@pytest.fixture
def field_course(courses_dir):
    folder = courses_dir / "field"
    folder.mkdir()
    (folder / "course.md").write_text(TASK_COURSE)
    (folder / "01-crimp.md").write_text(TASK)
    return folder


@pytest.fixture
def people(app, field_course):
    """A morning group followed by tina, an evening group followed by omar."""
    ids = {name: add_user(app, name, role) for name, role in (
        ("tina", "trainer"), ("omar", "trainer"), ("amina", "learner"), ("juma", "learner"),
        ("boss", "coordinator"))}
    with app.app_context():
        db = get_db()
        morning = accounts.create_group(db, "Morning", [ids["tina"]], None)
        evening = accounts.create_group(db, "Evening", [ids["omar"]], None)
        accounts.move_to_group(db, ids["amina"], morning, None)
        accounts.move_to_group(db, ids["juma"], evening, None)
    return ids


def browser_for(app, name: str):
    browser = app.test_client()
    sign_in(browser, name)
    return browser


def mark_done(browser):
    section = html(browser.get(LESSON)).find(id="q-crimp")
    response = browser.post(f"{LESSON}/questions/crimp", data={
        "csrf_token": section.find("input", attrs={"name": "csrf_token"})["value"],
        "form_key": section.find("input", attrs={"name": "form_key"})["value"],
        "step": ["a", "b"]})
    assert response.status_code == 302


def queue(browser) -> list:
    return html(browser.get("/teach/signoffs")).select(".signoff")


def verdict(browser, item, choice: str | None, comment: str = ""):
    form = item.find("form")
    data = {"comment": comment}
    if choice:
        data["verdict"] = choice
    return post_form(browser, form["action"], data, page="/teach/signoffs")


def test_a_trainer_sees_only_their_groups_tasks(app, people):
    mark_done(browser_for(app, "amina"))
    mark_done(browser_for(app, "juma"))
    tina, omar, boss = (browser_for(app, n) for n in ("tina", "omar", "boss"))
    assert [i.h2.text.split(":")[0] for i in queue(tina)] == ["amina"]
    assert [i.h2.text.split(":")[0] for i in queue(omar)] == ["juma"]
    assert len(queue(boss)) == 2
    jumas = queue(omar)[0].find("form")["action"]
    assert post_form(tina, jumas, {"verdict": "passed"}, page="/teach/signoffs"
                     ).status_code == 403


def test_passed_task_passes_the_lesson_and_completes_the_course(app, people):
    learner = browser_for(app, "amina")
    mark_done(learner)
    assert "Waiting for your trainer" in html(learner.get(LESSON)).find(id="q-crimp").text
    tina = browser_for(app, "tina")
    response = verdict(tina, queue(tina)[0], "passed", "Neat crimp, good test.")
    assert response.status_code == 302 and queue(tina) == []
    result = html(learner.get(LESSON))
    assert "Signed off: passed." in result.find(id="q-crimp").text
    assert "Neat crimp, good test." in result.find(id="q-crimp").text
    assert "Passed" in result.find(class_="lesson-status").text
    assert "You have completed this course." in html(learner.get("/courses/field")).text


def test_redo_sends_the_task_back_with_the_comment(app, people):
    learner = browser_for(app, "amina")
    mark_done(learner)
    tina = browser_for(app, "tina")
    verdict(tina, queue(tina)[0], "redo", "The shield is not crimped.")
    section = html(learner.get(LESSON)).find(id="q-crimp")
    assert "do it again" in section.text and "The shield is not crimped." in section.text
    assert section.find("form") is not None
    mark_done(learner)
    assert len(queue(tina)) == 1  # back in the queue


@pytest.mark.parametrize("choice,comment,message", [
    (None, "", "Choose passed or redo."),
    ("maybe", "", "Choose passed or redo."),
    ("redo", "  ", "Say what to do again, so the learner knows."),
    ("passed", "x" * 1001, "The comment is too long."),
])
def test_a_bad_verdict_is_explained_and_nothing_is_written(app, people, choice, comment,
                                                           message):
    mark_done(browser_for(app, "amina"))
    tina = browser_for(app, "tina")
    response = verdict(tina, queue(tina)[0], choice, comment)
    assert response.status_code == 400
    assert html(response).find(class_="field-error").text == message
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM signoffs").fetchone()[0] == 0


def test_coordinator_creates_groups_and_moves_learners(app, client, field_course):
    add_user(app, "boss", "coordinator")
    add_user(app, "tina", "trainer")
    learner_id = add_user(app, "amina")
    sign_in(client, "boss")
    page = html(client.get("/coordinate/groups"))
    trainer_id = page.find("option", string="tina")["value"]
    response = post_form(client, "/coordinate/groups", {"name": "Morning",
                                                        "trainer_id": trainer_id},
                         page="/coordinate/groups")
    assert response.status_code == 302
    again = post_form(client, "/coordinate/groups", {"name": "morning"},
                      page="/coordinate/groups")
    assert again.status_code == 400 and "already a group called" in html(again).text
    group_id = html(client.get("/coordinate/groups")).find(
        "option", string="Morning")["value"]
    moved = post_form(client, f"/coordinate/learners/{learner_id}/group",
                      {"group_id": group_id}, page="/coordinate/groups")
    assert moved.status_code == 302
    select = html(client.get("/coordinate/groups")).find(id=f"group-{learner_id}")
    assert select.find("option", selected=True).text == "Morning"
    bad = post_form(client, f"/coordinate/learners/{learner_id}/group",
                    {"group_id": "nope"}, page="/coordinate/groups")
    assert bad.status_code == 400 and "does not exist" in html(bad).text


def test_cli_groups_and_users_in_groups(tmp_path):
    home = tmp_path / "home"
    assert run("users", "add", "--username", "tina", "--password", "1234", "--role",
               "trainer", home=home).returncode == 0
    assert run("groups", "add", "Morning class", "--trainer", "tina", home=home
               ).returncode == 0
    result = run("users", "add", "--username", "amina", "--password", "1234", "--group",
                 "Morning class", home=home)
    assert "created in group Morning class." in result.stdout
    assert re.search(r"Morning class\s+tina", run("groups", "list", home=home).stdout)
    for args in (["groups", "add", "Morning class"], ["groups", "add", "X", "--trainer", "nobody"],
                 ["groups", "add", "  "]):
        failed = run(*args, home=home)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr, args


def test_a_task_can_be_redone_whatever_the_lessons_attempt_limit(app, people, field_course):
    path = field_course / "01-crimp.md"
    path.write_text("---\nattempts: 1\n---\n" + path.read_text())
    learner = browser_for(app, "amina")
    mark_done(learner)
    tina = browser_for(app, "tina")
    verdict(tina, queue(tina)[0], "redo", "Again please.")
    mark_done(learner)
    assert len(queue(tina)) == 1


def test_a_task_is_judged_once_even_from_a_stale_page(app, people):
    mark_done(browser_for(app, "amina"))
    tina, boss = browser_for(app, "tina"), browser_for(app, "boss")
    stale = queue(boss)[0]
    verdict(tina, queue(tina)[0], "passed")
    response = verdict(boss, stale, "redo", "again")
    assert response.status_code == 302
    assert "already signed off" in html(boss.get("/teach/signoffs")).text
    with app.app_context():
        assert get_db().execute("SELECT verdict FROM signoffs").fetchall() == [("passed",)]


@pytest.mark.parametrize("rule", ["all-lessons-passed", "all-lessons-completed"])
def test_the_sign_off_completes_the_course_never_before(app, people, field_course, rule):
    course = field_course / "course.md"
    course.write_text(course.read_text().replace("all-lessons-passed", rule))
    learner = browser_for(app, "amina")
    mark_done(learner)
    assert learner.get("/courses/field/certificate").status_code == 404
    tina = browser_for(app, "tina")
    verdict(tina, queue(tina)[0], "passed")
    assert learner.get("/courses/field/certificate").status_code == 200
