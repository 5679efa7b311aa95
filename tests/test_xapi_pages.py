"""The hub's xAPI page through HTTP: a coordinator on a hub sees the LRS (never its
password), the counts, what was set aside and why, the last errors, and can forward now;
learners, trainers and boxes are refused."""

from __future__ import annotations

import shutil
import time

import pytest

from trainer import events
from trainer.db import get_db
from trainer.xapi import forward, service

from .conftest import CHROMIUM, PASSWORD, add_user, html, post_form, sign_in
from .test_xapi_forward import mappable, no_volts, wait_for
from .xapi_lrs import PASSWORD as LRS_PASSWORD
from .xapi_lrs import USERNAME, forwarding_hub, serving_lrs

PAGE = "/hub/xapi/"


@pytest.fixture
def lrs():
    yield from serving_lrs()


@pytest.fixture
def hub(app, courses_dir, lrs):
    yield from forwarding_hub(app, courses_dir, lrs)


@pytest.fixture
def boss(hub, client):
    """The test client, signed in as the hub's coordinator."""
    sign_in(client, "boss", PASSWORD)
    return client


def forward_once(app):
    with app.app_context():
        return service.forward_now(app, get_db())


def test_the_coordinator_sees_the_lrs_counts_and_what_was_set_aside(hub, lrs, boss):
    lrs.extra_rule = no_volts
    forward_once(hub)
    lrs.down = True
    with hub.app_context():
        db = get_db()
        amina = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
        events.lesson_viewed(db, amina, "basics", "1.0.0", "second-lesson")
    with pytest.raises(forward.LrsUnreachable):
        forward_once(hub)
    page = html(boss.get(PAGE))
    assert page.find("h1").text == "xAPI forwarding"
    assert page.find(id="lrs-url").text == lrs.url
    assert USERNAME in page.text and LRS_PASSWORD not in boss.get(PAGE).get_data(as_text=True)
    assert page.find(id="count-sent").text == str(len(mappable(hub)) - 3)
    assert page.find(id="count-pending").text == "1"
    assert page.find(id="count-held").text == "2"
    held = page.find("table", class_="xapi-held").find("tbody").find_all("tr")
    assert len(held) == 2 and all("this LRS takes no volts" in row.text for row in held)
    errors = page.find("table", class_="xapi-errors").find("tbody").find_all("tr")
    assert len(errors) == 1 and "503" in errors[0].text
    assert "failed" in page.find(id="last-pass").text
    assert page.find("button", string="Forward now") is not None


def test_the_page_says_why_an_event_has_no_statement(hub, lrs, boss):
    with hub.app_context():
        db = get_db()
        amina = db.execute("SELECT id FROM users WHERE username = 'amina'").fetchone()[0]
        events.append(db, "task_signed_off", {  # no lesson, no course version
            "answer_event_id": "x", "learner_id": amina, "course_id": "quizzes",
            "question_id": "crimp", "verdict": "passed", "comment": "", "by": amina})
    forward_once(hub)
    row = html(boss.get(PAGE)).find("table", class_="xapi-held").find("tbody").find("tr")
    assert "this event cannot be written as a statement: KeyError('lesson_id')" in row.text


def test_forward_now_forwards_in_the_background(hub, lrs, boss):
    response = post_form(boss, f"{PAGE}forward", page=PAGE)
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    wait_for(lambda: len(lrs.stored) == len(mappable(hub)))
    wait_for(lambda: not hub.extensions["trainer"].xapi.status.running)
    page = html(boss.get(PAGE))
    assert page.find(id="count-sent").text == str(len(mappable(hub)))
    assert page.find(id="count-pending").text == "0"
    assert "done" in page.find(id="last-pass").text


def test_without_an_lrs_the_page_says_how_to_set_one(hub, boss):
    hub.config["LRS_URL"] = ""
    page = html(boss.get(PAGE))
    assert page.find("h2", string="No LRS is set") is not None
    response = post_form(boss, f"{PAGE}forward", page=PAGE)
    assert "No LRS is set" in html(boss.get(response.headers["Location"])).find(
        class_="flash-error").text
    assert hub.extensions["trainer"].xapi.status.last_try is None


def test_the_hub_page_links_to_it(boss):
    assert html(boss.get("/hub/")).find("a", string="xAPI forwarding")["href"] == PAGE


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_learners_and_trainers_are_refused(hub, client, role):
    add_user(hub, f"a-{role}", role)
    sign_in(client, f"a-{role}")
    assert client.get(PAGE).status_code == 403
    assert post_form(client, f"{PAGE}forward", page="/").status_code == 403


def test_signing_in_comes_first(hub, client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_box_has_no_such_page(app, client, coordinator):
    assert coordinator.get(PAGE).status_code == 404
    assert post_form(coordinator, f"{PAGE}forward", page="/").status_code == 404


def test_a_forward_without_its_form_token_is_refused(hub, lrs, boss):
    assert boss.post(f"{PAGE}forward").status_code == 400
    time.sleep(0.1)
    assert lrs.stored == {}


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_a_coordinator_forwards_now_on_a_phone(hub, lrs, phone):
    from playwright.sync_api import expect

    from .test_browser_languages import fits_the_screen
    from .test_browser_staff import sign_in as sign_in_on

    lrs.extra_rule = no_volts
    forward_once(hub)
    sign_in_on(phone, "boss")
    phone.get_by_role("link", name="Hub", exact=True).click()
    phone.get_by_role("link", name="xAPI forwarding").click()
    expect(phone.get_by_role("heading", name="Statements set aside")).to_be_visible()
    assert fits_the_screen(phone)
    lrs.extra_rule = None
    with hub.app_context():
        forward.retry_held(get_db())
    phone.get_by_role("button", name="Forward now").click()
    expect(phone.locator(".flash-success")).to_contain_text("Forwarding started")
    wait_for(lambda: len(lrs.stored) == len(mappable(hub)))
    phone.reload()
    expect(phone.locator("#count-held")).to_have_text("0")
    assert fits_the_screen(phone)
