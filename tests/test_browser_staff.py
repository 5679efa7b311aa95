"""A trainer's day and a coordinator's import, in Chromium at 360×640."""

from __future__ import annotations

import shutil

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import CHROMIUM, add_user
from .test_quiz_pages import LESSON, quiz_course  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


def sign_in(phone, name: str, password: str = "pass1234"):
    phone.goto("/login")
    phone.get_by_label("Username").fill(name)
    phone.get_by_label("Password").fill(password)
    phone.get_by_role("button", name="Sign in").click()


def test_a_trainers_day(app, phone, quiz_course):  # noqa: F811
    from playwright.sync_api import expect

    ids = {name: add_user(app, name, role) for name, role in (("tina", "trainer"),
                                                               ("amina", "learner"))}
    with app.app_context():
        db = get_db()
        morning = accounts.create_group(db, "Morning", [ids["tina"]], None)
        accounts.move_to_group(db, ids["amina"], morning, None)
    sign_in(phone, "amina")
    phone.goto(LESSON)
    question = phone.locator("#q-pick-one")
    question.get_by_label("48 A", exact=True).check()
    question.get_by_role("button", name="Check my answer").click()
    task = phone.locator("#q-crimp")
    for step in ("cut", "crimp", "test"):
        task.get_by_label(step, exact=True).check()
    task.get_by_role("button", name="I have done this").click()
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, "tina")
    phone.get_by_role("link", name="My groups").click()
    phone.get_by_role("link", name="Morning").click()
    expect(phone.locator(".matrix")).to_contain_text("amina")
    phone.locator(".matrix thead").get_by_role("link", name="1").click()
    hardest = phone.locator("section.card").first
    expect(hardest).to_contain_text("pick-one")
    expect(hardest).to_contain_text("48 A")
    phone.get_by_role("link", name="Sign-offs").click()
    item = phone.locator(".signoff").first
    item.get_by_label("Passed: done well").check()
    item.get_by_label("Comment for the learner").fill("Clean crimps.")
    item.get_by_role("button", name="Save the verdict").click()
    expect(phone.get_by_role("status").first).to_contain_text("Signed off.")
    phone.get_by_role("link", name="My groups").click()
    phone.get_by_role("link", name="Morning").click()
    with phone.expect_download() as download:
        phone.get_by_role("link", name="progress (CSV)").click()
    from pathlib import Path

    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("username,name,") and "amina" in text


def test_a_coordinator_imports_learners_fixing_a_bad_row(app, phone, tmp_path):
    from playwright.sync_api import expect

    add_user(app, "boss", "coordinator")
    sign_in(phone, "boss")
    phone.get_by_role("link", name="Accounts").click()
    phone.get_by_role("link", name="Import learners from a CSV file").click()
    bad = tmp_path / "class.csv"
    bad.write_text("username;nom;mot de passe;groupe\nawa;Awa D;1234;Matin\nbad name;X;1;\n",
                   encoding="utf-8")
    phone.get_by_label("CSV file").set_input_files(str(bad))
    phone.get_by_role("button", name="Check the file").click()
    expect(phone.locator("tr.row-error")).to_have_count(1)
    expect(phone.locator("tr.row-error")).to_contain_text("3")
    expect(phone.get_by_role("button", name="Import 2 learners")).to_have_count(0)
    bad.write_text("username;nom;mot de passe;groupe\nawa;Awa D;1234;Matin\nbaba;Baba K;5678;\n",
                   encoding="utf-8")
    phone.get_by_label("CSV file").set_input_files(str(bad))
    phone.get_by_role("button", name="Check the file").click()
    phone.get_by_role("button", name="Import 2 learners").click()
    expect(phone.get_by_role("status").first).to_contain_text("2 accounts created.")
    expect(phone.locator("table")).to_contain_text("Baba K")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360 + 1
