"""XSS through what people type: every payload of xss_payloads.txt through every field a person
fills in (names, group names, the box's and sites' names, comments, answers, searches), read
back on every page that shows it. Each page must show the payload as the text that was typed
and bring no element, handler or script URL of its own (tests/xss_check.py)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from trainer import accounts
from trainer.db import get_db

from .conftest import add_user, csrf_from, post_form, sign_in
from .test_enrolment import make_hub
from .xss_check import PAYLOADS, assert_safe, injected, page, shows_text, squeezed

NAMES = [payload[:80] for payload in PAYLOADS]  # a display name keeps 80 characters
GROUPS = [f"{number} {payload}"[:60] for number, payload in enumerate(PAYLOADS)]  # 60, unique


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Accounts made by the dozen: a cheap hash, since hashing is not what these tests check
    (scrypt costs ~50 ms an account)."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")


def group_ids(app) -> dict[str, str]:
    with app.app_context():
        return {name: group_id for group_id, name in get_db().execute(
            "SELECT id, name FROM groups").fetchall()}


def roster(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["username", "name", "password", "group"], *rows])
    return out.getvalue().encode()


def upload(browser, data: bytes, **form):
    token = csrf_from(browser, "/coordinate/users/import")
    return browser.post("/coordinate/users/import", data={
        "csrf_token": token, "file": (io.BytesIO(data), "people.csv"), **form},
        content_type="multipart/form-data")


def test_the_checker_finds_what_each_payload_brings_when_not_escaped():
    """Each payload written raw into a page is caught (else the tests below prove nothing);
    those that are only text outside Markdown bring nothing."""
    inert = {"![x](", "[click]", "Text {:"}
    for payload in PAYLOADS:
        soup = BeautifulSoup(f'<html><head></head><body><main id="main-content">{payload}'
                             "</main></body></html>", "html.parser")
        if payload.startswith(tuple(inert)):
            assert injected(soup) == [], payload
        else:
            assert injected(soup) != [], payload


def test_names_and_groups_from_a_csv_import_are_text_on_every_page(app, coordinator):
    rows = [[f"xss{n:02}", name, "pass1234", group]
            for n, (name, group) in enumerate(zip(NAMES, GROUPS, strict=True))]
    preview = upload(coordinator, roster(rows))
    assert preview.status_code == 200
    assert_safe(preview, *NAMES, *GROUPS)
    data = page(preview).find("input", attrs={"name": "data"})["value"]
    done = post_form(coordinator, "/coordinate/users/import", {"data": data, "confirm": "1"},
                     page="/coordinate/users/import")
    assert done.status_code == 302
    assert_safe(coordinator.get("/coordinate/users"), *NAMES, *GROUPS)
    assert_safe(coordinator.get("/coordinate/groups"), *GROUPS)
    assert_safe(coordinator.get("/teach/"), *GROUPS)
    groups = group_ids(app)
    for name, group in zip(NAMES, GROUPS, strict=True):  # (the edit form: the next test)
        assert_safe(coordinator.get(f"/teach/groups/{groups[squeezed(group)]}"), name, group)


def poster(browser, page: str = "/"):
    """POST as a browser does, with the session's CSRF token read once (it lasts the session)."""
    token = csrf_from(browser, page)
    return lambda path, data=None: browser.post(path, data={**(data or {}), "csrf_token": token})


def test_a_learners_name_is_text_on_their_pages_certificate_and_its_check(app, coordinator):
    uid = add_user(app, "amina")
    learner = app.test_client()
    sign_in(learner, "amina")
    poster(learner, "/courses/second/only")("/courses/second/only/complete")
    code = page(learner.get("/courses/second/certificate")).find("code").text
    post = poster(coordinator, f"/coordinate/users/{uid}")
    for name in NAMES:
        saved = post(f"/coordinate/users/{uid}", {"username": "amina", "display_name": name,
                                                  "role": "learner", "active": "on"})
        assert saved.status_code == 302, name
        edit = assert_safe(coordinator.get(f"/coordinate/users/{uid}"))
        assert edit.find("input", attrs={"name": "display_name"})["value"] == squeezed(name)
        assert_safe(learner.get("/"), name)
        assert_safe(learner.get("/courses/second/certificate"), name)
        assert_safe(app.test_client().get(f"/verify/{code}"), name)


def joined(texts: list[str], longest: int) -> list[str]:
    """The payloads run together into as few texts of at most `longest` characters."""
    found, current = [], ""
    for text in texts:
        if current and len(current) + 1 + len(text) > longest:
            found.append(current)
            current = ""
        current = f"{current} {text}" if current else text
    return [*found, current]


def test_registration_echoes_and_shows_what_was_typed_as_text(app):
    for number, name in enumerate(NAMES):
        browser = app.test_client()
        token = csrf_from(browser, "/register")
        form = {"username": PAYLOADS[number], "display_name": name, "password": "pass1234",
                "confirm": "pass1234", "csrf_token": token}
        refused = browser.post("/register", data=form)
        assert refused.status_code == 400
        soup = assert_safe(refused)
        assert soup.find("input", attrs={"name": "username"})["value"] == PAYLOADS[number]
        assert soup.find("input", attrs={"name": "display_name"})["value"] == name
        made = browser.post("/register", data={**form, "username": f"reg{number:02}"})
        assert made.status_code == 302
    boss = app.test_client()
    add_user(app, "boss", "coordinator")
    sign_in(boss, "boss")
    assert_safe(boss.get("/coordinate/users"), *NAMES)


def test_the_coordinators_account_form_echoes_and_lists_names_as_text(app, coordinator):
    post = poster(coordinator, "/coordinate/users")
    for number, name in enumerate(NAMES):  # refused first, while the page lists one account
        refused = post("/coordinate/users", {"username": PAYLOADS[number], "display_name": name,
                                             "password": "pass1234", "role": "learner"})
        assert refused.status_code == 400
        soup = assert_safe(refused)
        assert soup.find("input", attrs={"name": "display_name"})["value"] == name
    for number, name in enumerate(NAMES):
        assert post("/coordinate/users", {"username": f"made{number:02}", "display_name": name,
                                          "password": "pass1234", "role": "learner"}
                    ).status_code == 302
    assert_safe(coordinator.get("/coordinate/users"), *NAMES)
    assert_safe(coordinator.get("/coordinate/groups"), *NAMES[:40])  # 40 learners a page
    assert_safe(coordinator.get("/coordinate/groups?page=2"), *NAMES[40:])


def add_each_and_some_twice(post, path: str, refusal: str) -> None:
    """Name a group or site after each payload; name every fourth twice, and read the refusal
    that echoes it (the page lists every name so far: a quarter of them keep it light)."""
    for number, name in enumerate(GROUPS):
        assert post(path, {"name": name}).status_code == 302
        if number % 4 == 0:
            again = post(path, {"name": name})
            assert again.status_code == 400
            assert_safe(again, refusal.format(name))


def test_group_names_typed_in_the_form_and_their_errors_are_text(app, coordinator):
    add_each_and_some_twice(poster(coordinator, "/coordinate/groups"), "/coordinate/groups",
                            "There is already a group called {}")
    assert_safe(coordinator.get("/coordinate/groups"), *GROUPS)
    assert_safe(coordinator.get("/coordinate/users"), *GROUPS)


def test_group_names_stay_out_of_csv_download_headers(app, coordinator):
    for group in GROUPS[:5] + ["a\r\nSet-Cookie: x=1", '";\r\n\tcontent-type: text/html']:
        with app.app_context():
            group_id = accounts.create_group(get_db(), group, [], None)
        with coordinator.get(f"/teach/groups/{group_id}/progress.csv?course=basics") as sent:
            disposition = sent.headers["Content-Disposition"]
            assert sent.mimetype == "text/csv" and "Set-Cookie" not in sent.headers
            assert "\r" not in disposition and "\n" not in disposition
            plain = re.search(r"filename=([^;]*);", disposition).group(1)
            assert re.fullmatch(r"[A-Za-z0-9._-]+", plain), disposition


def test_the_box_name_is_text_on_every_page(app, coordinator):
    post = poster(coordinator, "/coordinate/box")
    visitor = app.test_client()
    for payload in PAYLOADS:
        form = {"box_name": payload, "default_language": "en", "self_registration": "on"}
        answer = post("/coordinate/box", form)
        name = squeezed(payload)
        if len(name) > 60:  # refused, and the form shows what was typed
            assert answer.status_code == 400
            soup = assert_safe(answer)
            assert soup.find("input", attrs={"name": "box_name"})["value"] == name
            name = name[:60]
            assert post("/coordinate/box", {**form, "box_name": name}).status_code == 302
        else:
            assert answer.status_code == 302
        soup = assert_safe(visitor.get("/login"), name)  # in base.html: every page has it
        assert name in soup.title.text
    for response in (visitor.get("/no-such-page"), coordinator.get("/coordinate/")):
        assert_safe(response, name)


def test_site_names_on_the_hub_are_text_in_pages_charts_and_token_pages(app, coordinator):
    make_hub(app)
    post = poster(coordinator, "/hub/sites")
    add_each_and_some_twice(post, "/hub/sites",
                            "There is already a site called {}")  # names of 1 to 60 characters
    assert_safe(coordinator.get("/hub/sites"), *GROUPS)
    dashboard = assert_safe(coordinator.get("/hub/"), *GROUPS)
    labels = " ".join(text.get_text() for text in dashboard.select("svg text"))
    assert all(squeezed(group)[:20] in labels for group in GROUPS[:3])  # drawn as text
    with app.app_context():
        sites = get_db().execute("SELECT id, name FROM site").fetchall()
    for site_id, name in sites:
        made = post(f"/hub/sites/{site_id}/tokens", {"role": "box"})
        assert made.status_code == 200
        assert_safe(made, name)


WORK_COURSE = "---\nid: field\ntitle: Field work\nversion: 1.0.0\n---\nPractice.\n"
WORK = """# Work

```quiz
id: crimp
type: task

Crimp a cable.

- [ ] cut
- [ ] crimp
```

```quiz
id: unit
type: text

Name the unit of current.

= ampere
```

```quiz
id: amps
type: numeric
unit: A

What current?

= 3 A
```
"""


def question_form(browser, qid: str) -> dict:
    section = page(browser.get("/courses/field/work")).find(id=f"q-{qid}")
    return {field["name"]: field["value"] for field in section.find_all(
        "input", attrs={"type": "hidden"})}


def test_answers_comments_and_their_errors_are_text_for_learners_and_trainers(
        app, courses_dir, coordinator):
    (courses_dir / "field").mkdir()
    (courses_dir / "field" / "course.md").write_text(WORK_COURSE)
    (courses_dir / "field" / "01-work.md").write_text(WORK)
    uid = add_user(app, "amina")
    learner = app.test_client()
    sign_in(learner, "amina")
    texts = joined(PAYLOADS, 500)  # the longest answer taken
    for text in texts:
        given = learner.post("/courses/field/work/questions/unit",
                             data={**question_form(learner, "unit"), "answer": text})
        assert given.status_code == 302
        refused = learner.post("/courses/field/work/questions/amps",
                               data={**question_form(learner, "amps"), "answer": text})
        assert refused.status_code == 400  # not a number: the form shows what was typed
        soup = assert_safe(refused)
        assert soup.find(id="q-amps").find("input", attrs={"name": "answer"})["value"] == text
    assert_safe(learner.get("/courses/field/work"), f"Your answer: {texts[-1].lower()}")
    assert_safe(coordinator.get(f"/teach/learners/{uid}"), *(t.lower() for t in texts))
    with app.app_context():
        group = accounts.create_group(get_db(), "Field", [], None)
        accounts.move_to_group(get_db(), uid, group, None)
    analysis = assert_safe(coordinator.get(f"/teach/groups/{group}/courses/field/work"))
    assert sum(shows_text(analysis, text.lower()) for text in texts) == 3  # the 3 most common
    post = poster(coordinator, "/teach/signoffs")
    for comment in joined(PAYLOADS, 1000):  # the longest comment taken
        assert learner.post("/courses/field/work/questions/crimp", data={
            **question_form(learner, "crimp"), "step": ["a", "b"]}).status_code == 302
        action = page(coordinator.get("/teach/signoffs")).select_one(".signoff form")["action"]
        assert post(action, {"verdict": "redo", "comment": comment}).status_code == 302
        assert_safe(learner.get("/courses/field/work"), f"Your trainer wrote: {comment}")
        assert_safe(coordinator.get(f"/teach/learners/{uid}"), comment)


def test_searches_are_echoed_as_text(app, signed_in):
    app.extensions["trainer"].search.update()
    for words in joined(PAYLOADS, 200):  # a search keeps 200 characters
        soup = assert_safe(signed_in.get("/search", query_string={"q": words}))
        shown = squeezed(words)
        assert soup.find(id="search-words")["value"] == shown
        assert shown in soup.title.text


def test_error_messages_that_echo_what_was_typed_show_it_as_text(app, coordinator):
    visitor = app.test_client()
    token = csrf_from(visitor)
    for payload in PAYLOADS:  # more than the address may fail: the limit's page echoes too
        refused = visitor.post("/login", data={"username": payload, "password": "x",
                                               "csrf_token": token})
        assert refused.status_code in (401, 429)
        soup = assert_safe(refused)
        assert soup.find("input", attrs={"name": "username"})["value"] == \
            payload.strip().lower()
        checked = assert_safe(visitor.get("/verify", query_string={"code": payload},
                                          follow_redirects=True))
        if checked.find(id="code") is not None:  # a code with a / is no address at all
            assert checked.find(id="code")["value"] == payload[:40]
    post = poster(coordinator, "/coordinate/sync/")
    for text in joined(PAYLOADS, 900):  # a message travels in the session cookie
        for path, field in (("/coordinate/sync/import", "folder"),
                            ("/coordinate/courses/import", "folder")):
            assert post(path, {field: text}).status_code == 302
            assert_safe(coordinator.get(path.rsplit("/", 1)[0] + "/"),
                        f"There is no folder {Path(text)} on the box")
        assert post("/coordinate/sync/enrol", {"hub_url": "http://127.0.0.1:9/" + text,
                                               "token": text}).status_code == 302
        assert_safe(coordinator.get("/coordinate/sync/"), "The box is not enrolled:")
