"""CSRF on every POST the app has (and its token renewed at sign-in and sign-out), and the
security headers on every kind of response."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import add_user, csrf_from, sign_in
from .test_bundles import enrol, node
from .test_enrolment import make_hub
from .test_security_courses import forms_of
from .test_security_xss import WORK, WORK_COURSE

TASK_ANSWER = "/courses/field/work/questions/crimp"


def snapshot(app) -> str:
    """Every row of every table, as one digest: any write at all changes it."""
    with app.app_context():
        db = get_db()
        digest = hashlib.sha256()
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                   " ORDER BY name").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                digest.update(repr((table, tuple(row))).encode())
        return digest.hexdigest()


def a_tar(folder_name: str) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        entry = tarfile.TarInfo(f"{folder_name}/readme.txt")
        entry.size = 2
        archive.addfile(entry, io.BytesIO(b"hi"))
    return data.getvalue()


@pytest.fixture
def hub_with_everything(app, courses_dir, tmp_path, monkeypatch):
    """A hub with what every POST acts on: a learner in a group, an enrolled box, a site, a
    task done and waiting for its sign-off. Returns (ids, coordinator, another coordinator)."""
    (courses_dir / "field").mkdir()
    (courses_dir / "field" / "course.md").write_text(WORK_COURSE)
    (courses_dir / "field" / "01-work.md").write_text(WORK)
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")  # hashing is not tested
    make_hub(app)
    box = node(tmp_path, "box")
    with app.app_context():
        app.site_id = get_db().execute("SELECT id FROM site").fetchone()[0]
    enrol(app, box)
    box.extensions["trainer"].pool.close()
    ids = {name: add_user(app, name, role) for name, role in (
        ("amina", "learner"), ("boss", "coordinator"), ("other", "coordinator"))}
    with app.app_context():
        db = get_db()
        ids["group"] = accounts.create_group(db, "Morning", [ids["boss"]], None)
        ids["node"] = db.execute("SELECT node_id FROM certificate").fetchone()[0]
        ids["site"] = app.site_id
    learner = app.test_client()
    sign_in(learner, "amina")
    learner.post(TASK_ANSWER, data={**forms_of(learner, "/courses/field/work")["crimp"],
                                    "step": ["a", "b"]})
    with app.app_context():
        ids["answer"] = get_db().execute("SELECT event_id FROM answers").fetchone()[0]
    boss, other = app.test_client(), app.test_client()
    sign_in(boss, "boss")
    sign_in(other, "other")
    return ids, boss, other


def post_requests(ids: dict, tmp_path) -> dict[str, tuple[str, dict]]:
    """For each POST rule: a request that, with a valid token, would do what the rule does."""
    csv_file = base64.b64encode(b"username,password\nimported,pass1234\n").decode()
    return {
        "/coordinate/backup": ("/coordinate/backup", {}),
        "/coordinate/box": ("/coordinate/box", {"box_name": "Renamed", "default_language": "en",
                                                "self_registration": "on"}),
        "/coordinate/courses/import": ("/coordinate/courses/import", {
            "pack": (io.BytesIO(a_tar("trainer-content")), "pack.tar")}),
        "/coordinate/courses/publish": ("/coordinate/courses/publish", {"course_id": "basics"}),
        "/coordinate/groups": ("/coordinate/groups", {"name": "Evening"}),
        "/coordinate/learners/<user_id>/group": (f"/coordinate/learners/{ids['amina']}/group",
                                                 {"group_id": ids["group"]}),
        "/coordinate/sync/enrol": ("/coordinate/sync/enrol", {
            "hub_url": "http://127.0.0.1:9", "token": "abcd1234.abcdefghijklmnopqrstuvwxyz"}),
        "/coordinate/sync/export": ("/coordinate/sync/export", {"folder": str(tmp_path / "stick")}),
        "/coordinate/sync/import": ("/coordinate/sync/import", {
            "bundle": (io.BytesIO(a_tar("trainer-bundle-x")), "bundle.tar")}),
        "/coordinate/sync/now": ("/coordinate/sync/now", {}),
        "/coordinate/users": ("/coordinate/users", {"username": "made", "password": "pass1234",
                                                    "role": "learner"}),
        "/coordinate/users/<user_id>": (f"/coordinate/users/{ids['amina']}", {
            "username": "amina", "display_name": "Renamed", "role": "learner", "active": "on"}),
        "/coordinate/users/import": ("/coordinate/users/import", {"data": csv_file,
                                                                  "confirm": "1"}),
        "/courses/<course_id>/<lesson_id>/complete": ("/courses/basics/third-lesson/complete",
                                                       {}),
        "/courses/<course_id>/<lesson_id>/questions/<question_id>": (
            "/courses/field/work/questions/unit", {"answer": "ampere"}),
        "/hub/nodes/<node_id>/revoke": (f"/hub/nodes/{ids['node']}/revoke", {}),
        "/hub/sites": ("/hub/sites", {"name": "Lamu"}),
        "/hub/sites/<site_id>/tokens": (f"/hub/sites/{ids['site']}/tokens", {"role": "box"}),
        "/hub/xapi/forward": ("/hub/xapi/forward", {}),
        "/language": ("/language", {"language": "en"}),
        "/login": ("/login", {"username": "amina", "password": "pass1234"}),
        "/logout": ("/logout", {}),
        "/register": ("/register", {"username": "joined", "display_name": "N",
                                    "password": "pass1234", "confirm": "pass1234"}),
        "/teach/signoffs/<answer_id>": (f"/teach/signoffs/{ids['answer']}",
                                        {"verdict": "passed"}),
    }


def posting_rules(app) -> set[str]:
    """Every rule that takes a POST, but the sync API: nodes sign its requests, and send no
    cookie a forged page could ride on."""
    return {rule.rule for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/sync/")}


def fresh(data: dict) -> dict:
    """The form again, with its uploads readable from the start."""
    return {key: (io.BytesIO(value[0].getvalue()), value[1]) if isinstance(value, tuple)
            else value for key, value in data.items()}


def test_every_post_needs_the_sessions_own_token_and_without_it_changes_nothing(
        app, hub_with_everything, tmp_path):
    ids, boss, other = hub_with_everything
    (tmp_path / "stick").mkdir()
    requests = post_requests(ids, tmp_path)
    assert set(requests) == posting_rules(app), "a new POST route needs a row here"
    stolen = csrf_from(other, "/coordinate/")  # a valid token, of another session
    visitor, changed = app.test_client(), set()
    for rule, (path, data) in sorted(requests.items(), key=lambda item: item[0] == "/logout"):
        if rule.endswith("<question_id>"):  # the form key the page issued: a real answer
            data = {**data, "form_key": forms_of(boss, "/courses/field/work")["unit"][
                "form_key"]}
        before, on_stick = snapshot(app), sorted((tmp_path / "stick").iterdir())
        for token in ({}, {"csrf_token": stolen}, {"csrf_token": "x" * 60}):
            refused = boss.post(path, data={**fresh(data), **token})
            assert refused.status_code == 400, (rule, token, refused.status_code)
            assert "Please try again" in refused.get_data(as_text=True)
            assert snapshot(app) == before, (rule, token)
            assert sorted((tmp_path / "stick").iterdir()) == on_stick  # no bundle written
        # With the session's own token the same request goes through: the token alone
        # stopped it.
        browser = visitor if rule in ("/login", "/register") else boss
        token = csrf_from(browser, "/login" if browser is visitor else "/coordinate/")
        with browser.post(path, data={**fresh(data), "csrf_token": token}) as taken:
            assert taken.status_code in (200, 302), (rule, taken.status_code)
        if snapshot(app) != before:
            changed.add(rule)
    # Each wrote, but those whose request asks for nothing to be done here (an upload with
    # nothing in it, a hub that does not answer, no hub or LRS set up): they said so instead.
    assert set(requests) - changed == {
        "/coordinate/courses/import", "/coordinate/sync/enrol", "/coordinate/sync/import",
        "/coordinate/sync/now", "/hub/xapi/forward"}


def test_the_csrf_token_is_renewed_at_sign_in_and_sign_out(app, learner):
    browser = app.test_client()
    before = csrf_from(browser)
    sign_in(browser, learner)
    stale = browser.post("/language", data={"language": "fr", "csrf_token": before})
    assert stale.status_code == 400  # a token planted before sign-in is worth nothing after
    signed_in_token = csrf_from(browser, "/")
    assert browser.post("/logout", data={"csrf_token": signed_in_token}).status_code == 302
    after = browser.post("/language", data={"language": "fr", "csrf_token": signed_in_token})
    assert after.status_code == 400


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";")
            if part.strip()}


def assert_protected(response, kind: str) -> None:
    """The headers every answer carries, whatever it is."""
    policy = directives(response.headers.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, (kind, policy)  # no script source: the default's
    assert scripts == "'none'" or "'unsafe-inline'" not in scripts, (kind, policy)
    assert policy.get("frame-ancestors") == "'none'", (kind, policy)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
    assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), kind


def post(browser, path: str, data: dict | None = None):
    return browser.post(path, data={**(data or {}), "csrf_token": csrf_from(browser, "/")})


def test_every_kind_of_response_carries_the_security_headers(app, hub_with_everything):
    ids, boss, _ = hub_with_everything
    visitor, learner = app.test_client(), app.test_client()
    sign_in(learner, "amina")
    assert post(boss, "/coordinate/courses/publish", {"course_id": "basics"}).status_code == 302
    for _ in range(app.config["SIGNIN_MAX_FAILURES"] + 1):
        limited = sign_in(visitor, "ghost", "wrong")
    answers = {
        "page": boss.get("/coordinate/"),
        "redirect": visitor.get("/"),
        "403": learner.get("/coordinate/"),
        "404": visitor.get("/no-such-page"),
        "400 (no CSRF token)": boss.post("/coordinate/groups", data={"name": "x"}),
        "405": visitor.get("/logout"),
        "413": learner.post("/language", data={"language": "x" * (5 * 1024 * 1024)}),
        "429": limited,
        "static file": visitor.get("/static/style.css"),
        "course media": learner.get("/courses/basics/media/diagram.svg"),
        "CSV download": boss.get(f"/teach/groups/{ids['group']}/progress.csv?course=basics"),
        "content pack .tar": boss.get("/coordinate/courses/pack/basics/1.0.0.tar"),
        "bundle .tar": post(boss, "/coordinate/sync/export", {"target": "download"}),
        "database backup": post(boss, "/coordinate/backup"),
        "health JSON": visitor.get("/healthz"),
        "sync JSON": visitor.post("/sync/v1/hello", json={}),
        "sync JSON refusal": visitor.post("/sync/v1/pull", data=b"{}"),
        "content file refusal": visitor.get("/sync/v1/content/files/" + "0" * 64),
    }
    expected = {"page": 200, "redirect": 302, "403": 403, "404": 404, "400 (no CSRF token)": 400,
                "405": 405, "413": 413, "429": 429, "sync JSON refusal": 401,
                "content file refusal": 401}
    for kind, response in answers.items():
        assert response.status_code == expected.get(kind, 200), (kind, response.status_code)
        assert_protected(response, kind)
        response.close()
