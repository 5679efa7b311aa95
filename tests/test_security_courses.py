"""XSS through a course: a course whose title, welcome text, lesson titles and text, quiz stems,
choices, feedback, hints and explanations carry every payload of xss_payloads.txt. Markdown is
sanitised (nh3) and titles are text: no page a learner, trainer or coordinator opens brings an
element, handler or script URL (tests/xss_check.py). And CSV exports never hand a spreadsheet
a formula."""

from __future__ import annotations

import csv
import io
import json

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import PASSWORD, add_user, sign_in
from .test_security_xss import joined, poster
from .xss_check import PAYLOADS, assert_safe, page

PER_LESSON = 3
LESSONS = [PAYLOADS[start:start + PER_LESSON] for start in range(0, len(PAYLOADS), PER_LESSON)]
TITLE = " ".join(PAYLOADS)
CODE = "Code shown as code: `<script>alert(1)</script>` and `<img src=x onerror=alert(1)>`."


def course_md(course_id: str) -> str:
    front = {"id": course_id, "title": TITLE, "version": "1.0.0", "summary": TITLE,
             "authors": PAYLOADS[:3], "completion": "all-lessons-completed"}
    lines = "".join(f"{key}: {json.dumps(value)}\n" for key, value in front.items())
    return f"---\n{lines}---\n" + "\n\n".join(PAYLOADS) + "\n"


def question(qid: str, payload: str) -> str:
    return (f"```quiz\nid: {qid}\ntype: single\n\n{payload}\n\n- (x) right {payload}\n"
            f"  > {payload}\n- ( ) {payload}\n  > {payload}\nhint: {payload}\n---\n{payload}\n"
            "```\n\n")


def lesson_md(number: int, payloads: list[str]) -> str:
    text = "\n\n".join(payloads)
    blocks = "".join(question(f"q{number}-{n}", p) for n, p in enumerate(payloads))
    return f"---\nattempts: 1\n---\n# {' '.join(payloads)}\n\n{text}\n\n{CODE}\n\n{blocks}"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """A cheap hash for the accounts made here: hashing is not what these tests check."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")


def forms_of(browser, address: str) -> dict[str, dict]:
    """The hidden fields of each question's form on a lesson page, by question id."""
    return {section["id"][2:]: {field["name"]: field["value"] for field in section.find_all(
        "input", attrs={"type": "hidden"})}
        for section in page(browser.get(address)).select("section.question")}


@pytest.fixture
def xss_course(app, courses_dir):
    folder = courses_dir / "xss"
    folder.mkdir()
    (folder / "course.md").write_text(course_md("xss"), encoding="utf-8")
    for number, payloads in enumerate(LESSONS):
        (folder / f"{number + 1:02}-l{number}.md").write_text(lesson_md(number, payloads),
                                                              encoding="utf-8")
    short = courses_dir / "xss-short"  # one lesson: a certificate with the same title
    short.mkdir()
    (short / "course.md").write_text(course_md("xss-short"), encoding="utf-8")
    (short / "01-only.md").write_text("# Only\n\nDone.\n", encoding="utf-8")
    course = app.extensions["trainer"].library.catalog.courses["xss"]
    assert [len(lesson.questions) for lesson in course.lessons] == [len(p) for p in LESSONS]
    return course


@pytest.fixture
def people(app, xss_course):
    """A learner in a group, and the coordinator who follows it."""
    ids = {name: add_user(app, name, role) for name, role in (("amina", "learner"),
                                                              ("boss", "coordinator"))}
    with app.app_context():
        ids["group"] = accounts.create_group(get_db(), "Morning", [ids["boss"]], None)
        accounts.move_to_group(get_db(), ids["amina"], ids["group"], None)
    browsers = {}
    for name in ("amina", "boss"):
        browsers[name] = app.test_client()
        sign_in(browsers[name], name)
    return ids, browsers


def test_a_course_full_of_payloads_brings_nothing_to_any_page(app, xss_course, people):
    ids, browsers = people
    learner, boss = browsers["amina"], browsers["boss"]
    assert_safe(learner.get("/"), TITLE)
    assert_safe(learner.get("/courses/xss"), TITLE)
    for number, lesson in enumerate(xss_course.lessons):
        address = f"/courses/xss/{lesson.id}"
        assert len(assert_safe(learner.get(address)).select("fieldset")) == len(LESSONS[number])
        forms = forms_of(learner, address)
        for q in lesson.questions:  # the wrong choice: its feedback, then the explanation
            learner.post(f"{address}/questions/{q.id}", data={**forms[q.id], "answer": "b"})
        answered = assert_safe(learner.get(address))
        assert len(answered.select(".result-wrong")) == len(LESSONS[number])
        assert_safe(boss.get(f"/teach/preview/xss/{lesson.id}?keys=1"))
        assert_safe(boss.get(f"/teach/groups/{ids['group']}/courses/xss/{lesson.id}"))
    assert_safe(boss.get(f"/teach/groups/{ids['group']}?course=xss"), TITLE)
    assert_safe(boss.get(f"/teach/learners/{ids['amina']}"))
    assert_safe(boss.get("/coordinate/"))  # the completion chart labels each course
    assert_safe(boss.get("/coordinate/courses/"), TITLE)
    assert_safe(boss.get("/coordinate/problems"))
    poster(learner, "/courses/xss-short/only")("/courses/xss-short/only/complete")
    certificate = assert_safe(learner.get("/courses/xss-short/certificate"), TITLE)
    code = certificate.find("code").text
    assert_safe(app.test_client().get(f"/verify/{code}"), TITLE)


def test_search_results_show_lesson_text_and_code_as_text(app, xss_course, signed_in):
    app.extensions["trainer"].search.update()
    for words in ("alert", "onerror", "clobber", "styled", "click", "custom"):
        found = assert_safe(signed_in.get("/search", query_string={"q": words}))
        assert found.select("mark"), words  # hits, their words marked
    code = assert_safe(signed_in.get("/search", query_string={"q": "code shown"}))
    assert "<script>alert(1)</script>" in code.get_text()


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


def test_csv_exports_never_hand_a_spreadsheet_a_formula(app, courses_dir):
    from .test_security_xss import WORK, WORK_COURSE

    (courses_dir / "field").mkdir()
    (courses_dir / "field" / "course.md").write_text(WORK_COURSE)
    (courses_dir / "field" / "01-work.md").write_text(WORK)
    add_user(app, "boss", "coordinator")
    with app.app_context():
        group = accounts.create_group(get_db(), "=Group", [], None)
    for number, formula in enumerate(FORMULAS):
        with app.app_context():
            accounts.create_user(get_db(), f"f{number}", PASSWORD, display_name=formula,
                                 group_id=group)
        learner = app.test_client()
        sign_in(learner, f"f{number}")
        learner.post("/courses/field/work/questions/unit", data={
            **forms_of(learner, "/courses/field/work")["unit"], "answer": formula})
    boss = app.test_client()
    sign_in(boss, "boss")
    base = f"/teach/groups/{group}"
    cells = [cell for path in ("progress.csv", "answers.csv")
             for row in read_csv(boss.get(f"{base}/{path}?course=field")) for cell in row]
    for formula in FORMULAS:
        shown = " ".join(formula.split()) if formula[0] in "\t\r" else formula
        assert any(cell == "'" + shown or cell == "'" + shown.lower() for cell in cells), formula
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [cell for cell in cells if cell.startswith("-") and not cell[1:].isdigit()]


def test_joined_keeps_every_payload():
    assert " ".join(joined(PAYLOADS, 200)) == " ".join(PAYLOADS)
