"""Whole journeys in Chromium through the real pages, on a 360 px phone and a 1280 px laptop:
a learner, a trainer and a coordinator, each one continuous story. Every step is checked for
what the person sees and kept as a full-page screenshot under
test-artefacts/screenshots/<journey>-<width>/ (TRAINER_ARTEFACTS moves test-artefacts)."""

from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import PASSWORD, add_user, sign_in
from .test_browser_languages import ARTEFACTS, fits_the_screen
from .test_quiz_pages import answer
from .test_signoffs import LESSON as TASK_LESSON
from .test_signoffs import field_course, mark_done  # noqa: F401  (field_course: a fixture)
from .test_sync_pages import hub  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

WIDTHS = [360, 1280]


class Story:
    """One person at one screen width: each step checked, then kept as a screenshot."""

    def __init__(self, browser, url: str, journey: str, width: int):
        self.context = browser.new_context(viewport={"width": width,
                                                     "height": 640 if width < 600 else 800},
                                           base_url=url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.outside: list[str] = []
        self.page.on("request", lambda request: self.outside.append(request.url)
                     if not request.url.startswith((url, "data:")) else None)
        self.folder = ARTEFACTS / "screenshots" / f"{journey}-{width}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.steps = 0

    def shot(self, step: str, heading: str | None = None) -> None:
        """The page shows `heading` as its title, fits the screen, and is kept as step N."""
        from playwright.sync_api import expect

        if heading is not None:
            expect(self.page.get_by_role("heading", level=1)).to_have_text(heading)
        assert fits_the_screen(self.page), f"{step}: the page scrolls sideways"
        self.steps += 1
        self.page.screenshot(path=str(self.folder / f"{self.steps:02d}-{step}.png"),
                             full_page=True)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.page.goto("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.locator("main").get_by_role("button", name="Sign in").click()

    def nav(self, name: str) -> None:
        """Follow a link of the main menu (the header's, not one in the page)."""
        self.page.get_by_role("navigation", name="Main menu").get_by_role(
            "link", name=name, exact=True).click()

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], "the page reached outside the box"


@pytest.fixture
def story(browser, live_server):
    """Story(journey, width) on the live server; its browser context closed at the end."""
    started = []

    def start(journey: str, width: int) -> Story:
        started.append(Story(browser, live_server.url, journey, width))
        return started[-1]

    yield start
    for each in started:
        each.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_learner_from_registering_to_a_verified_certificate(app, story, field_course,  # noqa: F811
                                                             width):
    from playwright.sync_api import expect

    trainer = app.extensions["trainer"]
    trainer.library.reload_now()
    with app.app_context():
        trainer.search.update()
    me = story("learner", width)
    page = me.page

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    me.shot("sign-in", "Sign in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("wanjiru")
    page.get_by_label("Your name").fill("Wanjiru Kamau")
    page.get_by_label("Password", exact=True).fill("4321")
    page.get_by_label("Password again").fill("4321")
    me.shot("register", "Create an account")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".course-card", has_text="Basics of the fixture")).to_contain_text(
        "0 of 3 lessons completed")
    me.shot("my-courses", "Hello, Wanjiru Kamau")

    page.get_by_role("link", name="Basics of the fixture").click()
    expect(page.get_by_role("heading", name="Lessons")).to_be_visible()
    me.shot("course", "Basics of the fixture")
    page.get_by_role("link", name="First steps").click()
    expect(page.get_by_role("table")).to_contain_text("Battery")
    expect(page.get_by_role("img", name="Diagram of the circuit")).to_be_visible()
    me.shot("lesson", "First steps")

    question = page.locator("#q-first-single")
    question.get_by_label("WRONGANSWERTEXT").check()
    question.get_by_role("button", name="Check my answer").click()
    expect(question.locator(".result")).to_contain_text("Not right.")
    expect(question.locator(".result")).to_contain_text("You can try again below.")
    question.get_by_text("Show a hint").click()
    expect(question.get_by_text("HINTTEXT")).to_be_visible()
    me.shot("wrong-answer-and-hint")
    question.get_by_label("RIGHTANSWERTEXT").check()
    question.get_by_role("button", name="Check my answer").click()
    result = question.locator(".result")
    expect(result).to_contain_text("Right!")
    expect(result).to_contain_text("RIGHTFEEDBACKTEXT")
    expect(result).to_contain_text("EXPLANATIONTEXT")
    me.shot("right-answer")

    page.goto(TASK_LESSON)
    task = page.locator("#q-crimp")
    for step in ("cut", "crimp"):
        task.get_by_label(step, exact=True).check()
    task.get_by_role("button", name="I have done this").click()
    expect(task.locator(".result")).to_contain_text("Waiting for your trainer to sign it off")
    me.shot("practical-task-done", "Crimp")

    search = page.get_by_role("searchbox", name="Search the courses")
    search.fill("voltage")
    search.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("found")
    me.shot("search-results", "Search the courses")
    hit = page.locator(".search-hit a").first
    expect(hit).to_contain_text("First steps")
    hit.click()
    expect(page).to_have_url(re.compile(r"/courses/basics/first-steps"))
    me.shot("search-result-opened", "First steps")

    page.get_by_role("link", name="Next: Second lesson").click()
    page.get_by_label("Your answer (in A)").fill("3")
    page.get_by_role("button", name="Check my answer").click()
    expect(page.locator("#q-second-numeric .result")).to_contain_text("Right!")
    page.get_by_role("link", name="Next: Third lesson").click()
    page.get_by_role("button", name="Mark as complete").click()
    expect(page.get_by_role("status").first).to_contain_text("Lesson completed: Third lesson")
    expect(page.locator(".progress-text")).to_have_text("3 of 3 lessons completed")
    expect(page.locator("main")).to_contain_text("You have completed this course.")
    me.shot("course-finished", "Basics of the fixture")
    page.get_by_role("link", name="Open your certificate").click()
    certificate = page.locator("article.certificate")
    expect(certificate.locator(".certificate-name")).to_have_text("Wanjiru Kamau")
    expect(certificate.locator(".certificate-course")).to_have_text("Basics of the fixture")
    code = certificate.locator("code").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    me.shot("certificate", "Certificate of completion")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/verify")
    page.get_by_label("Verification code").fill(code)
    page.get_by_role("button", name="Check").click()
    expect(page).to_have_url(re.compile(f"/verify/{code}$"))
    expect(page.get_by_role("status")).to_have_text(re.compile("This certificate is genuine."))
    expect(page.locator("dl.facts")).to_contain_text("Wanjiru Kamau")
    me.shot("certificate-verified", "Check a certificate")


@pytest.fixture
def morning_group(app, client, field_course):  # noqa: F811
    """tina follows the Morning group; amina in it tried a question twice and did the task."""
    ids = {"tina": add_user(app, "tina", "trainer")}
    with app.app_context():
        db = get_db()
        ids["amina"] = accounts.create_user(db, "amina", PASSWORD, "learner", "Amina Yusuf")
        morning = accounts.create_group(db, "Morning", [ids["tina"]], None)
        accounts.move_to_group(db, ids["amina"], morning, None)
    sign_in(client, "amina")
    for choice in ("b", "a"):  # WRONGANSWERTEXT, then RIGHTANSWERTEXT
        answer(client, "first-single", {"answer": choice}, lesson="/courses/basics/first-steps")
    mark_done(client)
    return ids


@pytest.mark.parametrize("width", WIDTHS)
def test_a_trainer_follows_a_learner_signs_off_and_exports(story, morning_group, width):
    from playwright.sync_api import expect

    me = story("trainer", width)
    page = me.page
    me.sign_in("tina")
    me.shot("signed-in", "Hello, tina")

    me.nav("My groups")
    expect(page.get_by_role("link", name="1 practical task to sign off")).to_be_visible()
    me.shot("my-groups", "My groups")
    page.get_by_role("link", name="Morning").click()
    page.get_by_label("Course", exact=True).select_option(label="Basics of the fixture")
    page.get_by_role("button", name="Show").click()
    row = page.locator(".matrix tbody tr", has_text="Amina Yusuf")
    expect(row.locator("td").first).to_have_text("● 0%")  # completed; the wrong first try counts
    me.shot("group", "Morning")

    row.get_by_role("link", name="Amina Yusuf").click()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("answered first-single (try 1): WRONGANSWERTEXT · 0%")
    expect(timeline).to_contain_text("answered first-single (try 2): RIGHTANSWERTEXT · 100%")
    expect(timeline.locator("li").first).to_contain_text("answered crimp (try 1): done")
    me.shot("learner-timeline", "Amina Yusuf")

    me.nav("Sign-offs")
    item = page.locator(".signoff", has_text="Amina Yusuf")
    expect(item.get_by_role("heading")).to_have_text("Amina Yusuf: Crimp a cable.")
    item.get_by_label("Passed: done well").check()
    item.get_by_label("Comment for the learner").fill("Clean crimps.")
    me.shot("sign-off-form", "Practical tasks to sign off")
    item.get_by_role("button", name="Save the verdict").click()
    expect(page.get_by_role("status").first).to_have_text("Signed off.")
    expect(page.locator("main")).to_contain_text("Nothing is waiting.")
    me.shot("signed-off", "Practical tasks to sign off")

    me.nav("My groups")
    page.get_by_role("link", name="Morning").click()
    page.get_by_label("Course", exact=True).select_option(label="Basics of the fixture")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name="First steps").click()
    question = page.locator("section.card", has_text="first-single")
    expect(question).to_contain_text("WRONGANSWERTEXT")
    me.shot("lesson-answers", "First steps")
    page.get_by_role("link", name="See the lesson with its answer keys").click()
    expect(page.locator(".preview-bar")).to_contain_text("the page as learners see it")
    expect(page.locator("#q-first-single")).to_contain_text("right: RIGHTANSWERTEXT")
    me.shot("preview-with-keys", "First steps")
    page.get_by_role("link", name="Hide the answer keys").click()
    expect(page.locator("#q-first-single").get_by_label("RIGHTANSWERTEXT")).to_be_visible()
    me.shot("preview", "First steps")

    me.nav("My groups")
    page.get_by_role("link", name="Morning").click()
    page.get_by_label("Course", exact=True).select_option(label="Field work")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".matrix tbody tr", has_text="Amina Yusuf")).to_contain_text("✓")
    me.shot("group-field-work", "Morning")
    with page.expect_download() as download:
        page.get_by_role("link", name="progress (CSV)").click()
    assert download.value.suggested_filename == "Morning-field-progress.csv"
    rows = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("username,name,")
    assert rows[1].startswith("amina,Amina Yusuf,") and "passed" in rows[1]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_coordinator_sets_up_the_box_and_syncs_it(app, story, hub, tmp_path,  # noqa: F811
                                                    width):
    from playwright.sync_api import expect

    add_user(app, "boss", "coordinator")
    add_user(app, "tina", "trainer")
    me = story("coordinator", width)
    page = me.page
    me.sign_in("boss")
    me.nav("Dashboard")
    expect(page.get_by_role("table", name="Completions per course")).to_contain_text(
        "Basics of the fixture")
    me.shot("dashboard", "Dashboard")

    me.nav("Groups")
    page.get_by_label("Name of the group").fill("Morning")
    page.get_by_label("Trainer who follows it").select_option(label="tina")
    page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("status").first).to_have_text("The group is created.")
    expect(page.locator("main li", has_text="Morning")).to_have_text("Morning: tina")
    me.shot("group-created", "Groups")

    me.nav("Accounts")
    page.get_by_label("Username").fill("juma")
    page.get_by_label("Name", exact=True).fill("Juma Otieno")
    page.get_by_label("Password or PIN").fill("2468")
    page.get_by_label("Role").select_option(label="Learner")
    page.get_by_label("Group", exact=True).select_option(label="Morning")
    page.get_by_role("button", name="Add the account").click()
    expect(page.get_by_role("status").first).to_have_text("The account is created.")
    accounts_table = page.get_by_role("table", name="Accounts on this box")
    expect(accounts_table.get_by_role("row", name=re.compile("Juma Otieno"))).to_contain_text(
        "Morning")
    me.shot("account-created", "Accounts")

    page.get_by_role("link", name="Import learners from a CSV file").click()
    roster = tmp_path / "class.csv"
    roster.write_text("username,name,password,group\nawa,Awa Diallo,1357,Morning\n"
                      "baba,Baba Kone,8642,Afternoon\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(roster))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("table", name="Rows of the file").locator("tr.row-ok")).to_have_count(
        2)
    me.shot("import-checked", "Import learners")
    page.get_by_role("button", name="Import 2 learners").click()
    expect(page.get_by_role("status").first).to_have_text("2 accounts created.")
    expect(accounts_table).to_contain_text("Baba Kone")
    me.shot("imported", "Accounts")

    me.nav("Box")
    page.get_by_label("Name of the box").fill("Lamu community box")
    page.get_by_label("Learners may create their own accounts").uncheck()
    page.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("status").first).to_have_text("The box settings are saved.")
    expect(page.locator(".site-name")).to_have_text("Lamu community box")
    expect(page.get_by_label("Learners may create their own accounts")).not_to_be_checked()
    me.shot("box-settings", "Box settings and backup")

    me.nav("Sync")
    me.shot("sync-not-enrolled", "Sync with the hub")
    page.get_by_label("Hub address").fill(hub.server.url)
    page.get_by_label("Enrolment token").fill(hub.token)
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("status").first).to_contain_text("Enrolled with the hub as a box")
    page.get_by_role("button", name="Sync now").click()
    # The page refreshes itself while the sync runs, then lists it, with nothing waiting.
    syncs = page.get_by_role("table", name="The latest syncs of this box, newest first")
    expect(syncs.locator("tbody tr").first).to_contain_text("done", timeout=20_000)
    expect(page.locator("#pending")).to_have_text("0 events")
    me.shot("synced", "Sync with the hub")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the bundle").click()
    with tarfile.open(download.value.path()) as bundle:
        assert any(name.endswith("manifest.json") for name in bundle.getnames())

    me.nav("Course versions")
    running = page.get_by_role("region", name="Running here")
    expect(running.locator("#course-basics")).to_contain_text("1.0.0")
    expect(running.locator("#course-second")).to_contain_text("0.1.0")
    me.shot("course-versions", "Course versions")
