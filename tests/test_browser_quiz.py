"""Every question type answered in Chromium at 360×640, wrong and then right, found by label."""

from __future__ import annotations

import shutil

import pytest

from .conftest import CHROMIUM, add_user
from .test_quiz_pages import LESSON, quiz_course  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def learner_phone(app, phone, quiz_course):  # noqa: F811
    add_user(app, "zawadi")
    phone.goto("/login")
    phone.get_by_label("Username").fill("zawadi")
    phone.get_by_label("Password").fill("pass1234")
    phone.get_by_role("button", name="Sign in").click()
    phone.goto(LESSON)
    return phone


def check(phone, qid: str, fill, expected: str):
    from playwright.sync_api import expect

    question = phone.locator(f"#q-{qid}")
    fill(question)
    question.get_by_role("button", name="Check my answer").click()
    expect(phone.locator(f"#q-{qid} .result")).to_contain_text(expected)


def test_each_type_wrong_then_right(learner_phone):
    phone = learner_phone

    def choose(*labels):
        return lambda q: [q.get_by_label(label, exact=True).check() for label in labels]

    def write(label, text):
        return lambda q: q.get_by_label(label).fill(text)

    def select(pairs):
        return lambda q: [q.get_by_label(label, exact=True).select_option(value)
                          for label, value in pairs]

    check(phone, "pick-one", choose("48 A"), "FEEDBACK-MULTIPLIED")
    check(phone, "pick-one", choose("KEYSINGLE 3 A"), "Right!")
    check(phone, "pick-many", choose("copper"), "Not right.")
    check(phone, "pick-many", choose("copper", "aluminium"), "Right!")
    check(phone, "sun", choose("False"), "Not right.")
    check(phone, "sun", choose("True"), "Right!")
    check(phone, "unit-name", write("Your answer", "volt"), "FEEDBACK-VOLT")
    check(phone, "unit-name", write("Your answer", "Ampere"), "Right!")
    check(phone, "current", write("Your answer (in A)", "48"), "FEEDBACK-48")
    check(phone, "current", write("Your answer (in A)", "3000 mA"), "Right!")
    backwards = [("cut", "4"), ("strip", "3"), ("crimp", "2"), ("test", "1")]
    check(phone, "steps", select(backwards), "Not right.")
    check(phone, "steps", select([("cut", "1"), ("strip", "2"), ("crimp", "3"), ("test", "4")]),
          "Right!")
    check(phone, "units", select([("V", "ampere"), ("A", "volt")]), "Not right.")
    check(phone, "units", select([("V", "volt"), ("A", "ampere")]), "Right!")

    task = phone.locator("#q-crimp")
    for step in ("cut", "crimp", "test"):
        task.get_by_label(step, exact=True).check()
    task.get_by_role("button", name="I have done this").click()
    from playwright.sync_api import expect

    expect(phone.locator("#q-crimp .result")).to_contain_text("Waiting for your trainer")
    status = phone.locator(".lesson-status")  # score_on: first (the default) counts first tries
    expect(status).to_contain_text("Your score: 0%.")
    expect(status).to_contain_text("Completed")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_bad_number_is_explained_next_to_the_field(learner_phone):
    from playwright.sync_api import expect

    question = learner_phone.locator("#q-current")
    question.get_by_label("Your answer (in A)").fill("3..")
    question.get_by_role("button", name="Check my answer").click()
    error = learner_phone.locator("#q-current .field-error")
    expect(error).to_have_text("Write a number, like 3.5.")
    expect(learner_phone.locator("#q-current").get_by_label("Your answer (in A)")).to_have_value(
        "3..")
