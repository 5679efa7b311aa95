"""axe-core in Chromium on every page type: no violation of impact serious or critical.

Learner pages are checked on a 360 px phone, staff pages at 1280 px and at 360 px. axe-core
comes from npm (`make test` installs it under the venv); TRAINER_AXE_JS points to another
copy. Each page is audited once its heading shows it is the page and state meant."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import PASSWORD, LiveServer, add_user, sign_in
from .test_hub_dashboard import seen  # noqa: F401  (a fixture)
from .test_languages import catalog
from .test_quiz_pages import LESSON, RIGHT, answer, quiz_course  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser

AXE_FOLDER = Path(sys.prefix) / "axe"  # where `make test` installs it
AXE_JS = Path(os.environ.get("TRAINER_AXE_JS")
              or AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js")
MAKEFILE = Path(__file__).parent.parent / "Makefile"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ['violations']});
  return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ' ' + n.html.slice(0, 120))}));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pinned = re.search(r"^AXE_CORE = (\S+)", MAKEFILE.read_text(), re.M).group(1)
        pytest.fail(f"axe-core is missing: there is no {AXE_JS}.\n`make test` installs it; or "
                    f"run\n  npm install --no-save --prefix {AXE_FOLDER} axe-core@{pinned}\n"
                    "or set TRAINER_AXE_JS to an axe.min.js.", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


class Audit:
    """A browser page that checks each page it is shown and keeps what axe found."""

    def __init__(self, page, source: str):
        self.page, self.source, self.found = page, source, {}

    def goto(self, path: str, heading: str, name: str | None = None, status: int = 200):
        response = self.page.goto(path)
        assert response.status == status, f"{path}: {response.status}"
        self.check(name or path, heading)

    def check(self, name: str, heading: str) -> None:
        """Audit the page shown now, once its first heading says it is the one meant."""
        from playwright.sync_api import expect

        expect(self.page.locator("h1").first).to_contain_text(heading)
        # The app's CSP forbids every <script>; Playwright's evaluate goes through the
        # DevTools protocol, which the CSP does not govern.
        self.page.evaluate(self.source)
        blocking = [v for v in self.page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
        if blocking:
            self.found[f"{name} at {self.page.viewport_size['width']} px"] = blocking

    def assert_clean(self) -> None:
        report = [f"{page}\n" + "\n".join(
            f"  {v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(
                f"    {node}" for node in v["nodes"]) for v in violations)
            for page, violations in self.found.items()]
        assert not self.found, "axe found serious or critical violations:\n" + "\n".join(report)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.page.goto("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.locator("main").get_by_role("button", name="Sign in").click()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()


@pytest.fixture
def audit_at(browser, axe_source):
    """audit_at(url, width): an Audit in a fresh browser context, closed at the end."""
    contexts = []

    def start(url: str, width: int) -> Audit:
        contexts.append(browser.new_context(viewport={"width": width, "height": 800},
                                            base_url=url))
        return Audit(contexts[-1].new_page(), axe_source)

    yield start
    for context in contexts:
        context.close()


def test_axe_reports_what_it_should(browser, axe_source):
    """The check itself can fail: a page with an unlabelled field and faint text."""
    page = browser.new_page()
    page.set_content('<html lang="en"><title>t</title><main><h1>t</h1>'
                     '<input type="text"><p style="color:#ccc">faint</p></main></html>')
    audit = Audit(page, axe_source)
    audit.check("bad page", "t")
    page.close()
    found = {v["id"] for violations in audit.found.values() for v in violations}
    assert {"label", "color-contrast"} <= found


def test_learner_pages_on_a_phone(app, live_server, audit_at, quiz_course):  # noqa: F811
    from playwright.sync_api import expect

    audit = audit_at(live_server.url, 360)
    page = audit.page
    add_user(app, "amina")
    wide = "| " + " | ".join(f"Column {n}" for n in range(12)) + " |\n" + "| --- " * 12 + "|\n"
    (quiz_course / "03-wide.md").write_text(f"# A wide table\n\n{wide}" + "| 12.6 V " * 12 + "|\n")
    with app.app_context():
        app.extensions["trainer"].search.update()

    audit.goto("/login", "Sign in")
    audit.sign_in("amina", "wrong-password")
    expect(page.get_by_role("status")).to_have_text("Wrong username or password.")
    audit.check("sign-in with an error", "Sign in")
    audit.goto("/register", "Create an account")
    page.get_by_label("Username").fill("juma")
    page.get_by_label("Password", exact=True).fill("1234")
    page.get_by_label("Password again").fill("4321")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_have_text("The two passwords are not the same.")
    audit.check("register with an error", "Create an account")

    audit.sign_in("amina")
    audit.check("course list", "Hello, amina")
    audit.goto("/courses/basics", "Basics of the fixture")
    audit.goto("/courses/basics/first-steps", "First steps")
    first = page.locator("#q-first-single")
    first.get_by_label("WRONGANSWERTEXT").check()
    first.get_by_role("button", name="Check my answer").click()
    expect(first.locator(".result")).to_contain_text("Not right.")
    audit.check("lesson, a wrong answer", "First steps")

    audit.goto(LESSON, "All types", "lesson with every question type")
    for qid, label in (("pick-one", "48 A"), ("sun", "True"), ("pick-many", "copper")):
        question = page.locator(f"#q-{qid}")
        question.get_by_label(label, exact=True).check()
        question.get_by_role("button", name="Check my answer").click()
    for qid, pairs in (("steps", [("cut", "1"), ("strip", "2"), ("crimp", "3"), ("test", "4")]),
                       ("units", [("V", "ampere"), ("A", "volt")])):
        question = page.locator(f"#q-{qid}")
        for label, value in pairs:
            question.get_by_label(label, exact=True).select_option(value)
        question.get_by_role("button", name="Check my answer").click()
    question = page.locator("#q-current")
    question.get_by_label("Your answer (in A)").fill("3..")
    question.get_by_role("button", name="Check my answer").click()
    question.get_by_label("Your answer (in A)").fill("48")
    question.locator("summary").first.click()  # a hint opened
    expect(page.locator("#q-pick-one .result")).to_contain_text("FEEDBACK-MULTIPLIED")
    expect(page.locator("#q-steps .result")).to_contain_text("Right!")
    expect(page.locator("#q-units .result")).to_contain_text("Not right.")
    expect(question.locator(".field-error")).to_have_text("Write a number, like 3.5.")
    audit.check("lesson, a field error, answers right and wrong", "All types")
    task = page.locator("#q-crimp")
    for step in ("cut", "crimp", "test"):
        task.get_by_label(step, exact=True).check()
    task.get_by_role("button", name="I have done this").click()
    expect(task.locator(".result")).to_contain_text("Waiting for your trainer")
    audit.check("lesson, a practical task done", "All types")
    audit.goto("/courses/quizzes/graded", "All types", "lesson, tries left")

    audit.goto("/courses/quizzes/wide", "A wide table", "lesson with a wide table")
    audit.goto("/search?q=lesson", "Search the courses", "search with hits")
    assert page.locator(".search-hit").count() > 0
    audit.goto("/search?q=zzyzxq", "Search the courses", "search with no hit")
    expect(page.get_by_role("status")).to_have_text("Nothing found for zzyzxq.")

    audit.goto("/courses/second/only", "Only lesson")
    page.get_by_role("button", name="Mark as complete").click()
    audit.goto("/courses/second", "Another course", "course page, completed")
    page.get_by_role("link", name="Open your certificate").click()
    audit.check("certificate", "Certificate")
    code = page.locator(".certificate code").inner_text()
    audit.goto(f"/verify/{code}", "Check a certificate", "verify, found")
    audit.goto("/verify/AAAA-BBBB-CCCC", "Check a certificate", "verify, not found", status=404)
    audit.goto("/no/such/page", "Sorry", "404", status=404)
    audit.goto("/teach/", "Sorry", "403", status=403)

    page.get_by_label("Language").select_option(label="العربية")
    page.locator(".language-menu button").click()
    assert page.locator("html").get_attribute("dir") == "rtl"
    audit.goto("/courses/basics/first-steps", "First steps", "a lesson in Arabic (RTL)")
    hello = catalog("ar").gettext("Hello, %(name)s") % {"name": "amina"}
    audit.goto("/", hello, "course list in Arabic (RTL)")
    audit.assert_clean()


@pytest.fixture
def classroom(app, client, quiz_course, courses_dir):  # noqa: F811
    """tina follows Morning, where amina answered wrongly and did a practical task; a broken
    course; a coordinator."""
    ids = {name: add_user(app, name, role) for name, role in (
        ("tina", "trainer"), ("amina", "learner"), ("boss", "coordinator"))}
    with app.app_context():
        morning = accounts.create_group(get_db(), "Morning", [ids["tina"]], None)
        accounts.move_to_group(get_db(), ids["amina"], morning, None)
    sign_in(client, "amina")
    answer(client, "pick-one", {"answer": "b"})
    answer(client, "unit-name", {"answer": "volt"})
    answer(client, "crimp", RIGHT["crimp"])
    broken = courses_dir / "broken"
    broken.mkdir()
    (broken / "course.md").write_text("---\nid: broken\ntitle: B\nversion: one\n---\n")
    return {"ids": ids, "morning": morning}


@pytest.mark.parametrize("width", [1280, 360])
def test_staff_pages(live_server, audit_at, classroom, tmp_path, width):
    from playwright.sync_api import expect

    audit = audit_at(live_server.url, width)
    page = audit.page

    audit.sign_in("tina")
    audit.goto("/teach/", "My groups", "trainer dashboard")
    group = f"/teach/groups/{classroom['morning']}"
    audit.goto(group, "Morning", "group")
    audit.goto(f"{group}/courses/quizzes/all-types", "All types", "group lesson view")
    audit.goto(f"/teach/learners/{classroom['ids']['amina']}", "amina", "learner timeline")
    audit.goto("/teach/signoffs", "Practical tasks to sign off", "sign-offs")
    page.get_by_role("button", name="Save the verdict").first.click()
    expect(page.locator(".field-error")).to_have_text("Choose passed or redo.")
    audit.check("sign-offs, a verdict missing", "Practical tasks to sign off")
    audit.goto("/teach/preview/quizzes/all-types", "All types", "preview")
    audit.goto("/teach/preview/quizzes/all-types?keys=1", "All types", "preview with keys")
    audit.sign_out()

    audit.sign_in("boss")
    audit.goto("/coordinate/", "Dashboard", "coordinator overview")
    audit.goto("/coordinate/users", "Accounts", "users")
    audit.goto(f"/coordinate/users/{classroom['ids']['amina']}", "amina", "one user")
    audit.goto("/coordinate/users/import", "Import learners", "CSV import")
    bad = tmp_path / "class.csv"
    bad.write_text("username;name;password\nawa;Awa;1234\nbad name;X;1\n", encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("tr.row-error")).to_have_count(1)
    audit.check("CSV import with an error", "Import learners")
    audit.goto("/coordinate/groups", "Groups")
    audit.goto("/coordinate/box", "Box settings and backup", "box settings")
    audit.goto("/coordinate/sync/", "Sync with the hub", "sync")
    audit.goto("/coordinate/courses/", "Course versions", "course versions")
    audit.goto("/coordinate/problems", "Course problems", "problems")
    audit.assert_clean()


def test_hub_pages(seen, audit_at):  # noqa: F811
    """A hub with boxes, a relay, events set aside and a username on two boxes."""
    hub, _ = seen
    server = LiveServer(hub)
    try:
        for width in (1280, 360):
            audit = audit_at(server.url, width)
            audit.sign_in("boss")
            audit.goto("/hub/", "Hub", "hub overview")
            audit.goto("/hub/sites", "Sites and enrolment tokens", "hub sites")
            audit.page.locator("section.site-card", has_text="Lamu").get_by_role(
                "button", name="Make an enrolment token").click()
            audit.check("hub enrolment token", "A token for a box of Lamu")
            audit.goto("/hub/xapi/", "xAPI forwarding", "hub xapi")
            audit.goto("/coordinate/sync/", "Sync with the hub", "sync on the hub")
            audit.goto("/coordinate/courses/", "Course versions", "course versions on the hub")
            audit.assert_clean()
    finally:
        server.stop()
