"""Every role against every page and action: allowed, or refused (403, or sign in first)."""

from __future__ import annotations

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import PASSWORD, add_user, post_form, sign_in

ROLES = ["anonymous", "learner", "trainer", "coordinator"]
# (method, path, who may) — every route of the app appears here; a test checks that.
MATRIX = [
    ("GET", "/healthz", set(ROLES)),
    ("GET", "/login", set(ROLES)),
    ("POST", "/login", set(ROLES)),
    ("GET", "/register", set(ROLES)),
    ("POST", "/register", set(ROLES)),
    ("GET", "/", {"learner", "trainer", "coordinator"}),
    ("GET", "/courses/basics", {"learner", "trainer", "coordinator"}),
    ("GET", "/search?q=battery", {"learner", "trainer", "coordinator"}),
    ("GET", "/courses/basics/first-steps", {"learner", "trainer", "coordinator"}),
    ("POST", "/courses/basics/third-lesson/complete", {"learner", "trainer", "coordinator"}),
    ("POST", "/courses/basics/first-steps/questions/first-single",
     {"learner", "trainer", "coordinator"}),
    ("GET", "/courses/basics/media/diagram.svg", set(ROLES)),
    ("GET", "/courses/basics/translations/fr/media/diagram.svg", set(ROLES)),
    ("GET", "/static/style.css", set(ROLES)),
    ("GET", "/courses/basics/certificate", {"learner", "trainer", "coordinator"}),
    ("GET", "/verify", set(ROLES)),
    ("GET", "/verify/AAAA-BBBB-CCCC", set(ROLES)),
    ("GET", "/coordinate/problems", {"trainer", "coordinator"}),
    ("GET", "/teach/signoffs", {"trainer", "coordinator"}),
    ("GET", "/teach/", {"trainer", "coordinator"}),
    ("GET", "/teach/groups/no-such-group", {"trainer", "coordinator"}),
    ("GET", "/teach/groups/no-such-group/progress.csv", {"trainer", "coordinator"}),
    ("GET", "/teach/groups/no-such-group/answers.csv", {"trainer", "coordinator"}),
    ("GET", "/teach/groups/no-such-group/courses/basics/first-steps", {"trainer", "coordinator"}),
    ("GET", "/teach/learners/no-such-user", {"trainer", "coordinator"}),
    ("GET", "/teach/preview/basics/first-steps", {"trainer", "coordinator"}),
    ("POST", "/teach/signoffs/no-such-answer", {"trainer", "coordinator"}),
    ("GET", "/coordinate/groups", {"coordinator"}),
    ("GET", "/coordinate/", {"coordinator"}),
    ("GET", "/coordinate/users", {"coordinator"}),
    ("POST", "/coordinate/users", {"coordinator"}),
    ("GET", "/coordinate/users/no-such-user", {"coordinator"}),
    ("POST", "/coordinate/users/no-such-user", {"coordinator"}),
    ("GET", "/coordinate/users/import", {"coordinator"}),
    ("POST", "/coordinate/users/import", {"coordinator"}),
    ("POST", "/coordinate/groups", {"coordinator"}),
    ("POST", "/coordinate/learners/no-such-user/group", {"coordinator"}),
    ("GET", "/coordinate/box", {"coordinator"}),
    ("POST", "/coordinate/box", {"coordinator"}),
    ("POST", "/coordinate/backup", {"coordinator"}),
    ("GET", "/coordinate/sync/", {"coordinator"}),
    ("POST", "/coordinate/sync/now", {"coordinator"}),
    ("POST", "/coordinate/sync/enrol", {"coordinator"}),
    ("POST", "/coordinate/sync/export", {"coordinator"}),
    ("POST", "/coordinate/sync/import", {"coordinator"}),
    ("GET", "/hub/", {"coordinator"}),  # on a hub; a box answers 404 to its coordinator
    ("GET", "/hub/sites", {"coordinator"}),
    ("POST", "/hub/sites", {"coordinator"}),
    ("POST", "/hub/sites/no-such-site/tokens", {"coordinator"}),
    ("POST", "/hub/nodes/no-such-node/revoke", {"coordinator"}),
    ("GET", "/coordinate/courses/", {"trainer", "coordinator"}),
    ("POST", "/coordinate/courses/publish", {"trainer", "coordinator"}),  # a box: 404
    ("GET", "/coordinate/courses/pack/basics/1.0.0.tar", {"trainer", "coordinator"}),
    ("POST", "/coordinate/courses/import", {"coordinator"}),
    ("GET", "/hub/xapi/", {"coordinator"}),
    ("POST", "/hub/xapi/forward", {"coordinator"}),
    ("POST", "/logout", set(ROLES)),
    ("POST", "/language", set(ROLES)),
    ("POST", "/sync/v1/enrol", set(ROLES)),  # no cookies: a token proves who asks
    ("POST", "/sync/v1/hello", set(ROLES)),  # says nothing but what anyone may know
    ("POST", "/sync/v1/events", set(ROLES)),  # a signature proves who asks (a box: 404)
    ("POST", "/sync/v1/pull", set(ROLES)),
    ("POST", "/sync/v1/content", set(ROLES)),  # a signature proves who asks
    ("GET", "/sync/v1/content/files/" + "0" * 64, set(ROLES)),  # a ticket does
]


def as_role(app, role: str):
    """A fresh browser, signed in as the role's account (made on first use)."""
    browser = app.test_client()
    if role != "anonymous":
        with app.app_context():
            if accounts.find_by_username(get_db(), f"a-{role}") is None:
                add_user(app, f"a-{role}", role)
        sign_in(browser, f"a-{role}")
    return browser


def refusal(role: str, method: str, path: str, allowed: set, response) -> str:
    """What is wrong with this answer for this role, or ""."""
    status, location = response.status_code, response.headers.get("Location", "")
    if role in allowed:
        if status in (401, 403):
            return f"refused with {status}"
        if location.startswith("/login") and path != "/logout":  # signing out ends there
            return "sent to sign in"
    elif role == "anonymous":
        if status != 302 or not location.startswith("/login"):
            return f"answered {status}, not sent to sign in"
    elif status != 403:
        return f"answered {status}, not 403"
    return ""


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, role, monkeypatch):
    """Each row in a browser of its own (a row may sign it out, or in as someone else), on
    one app per role: 60 apps fewer than a test per row, for the same answers."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1")  # not what is tested
    add_user(app, "someone")  # signing in with the right password (a 401 says it is wrong)
    wrong = []
    for method, path, allowed in MATRIX:
        browser = as_role(app, role)
        if method == "GET":
            response = browser.get(path)
        else:
            response = post_form(browser, path, {"box_name": "Box", "default_language": "en",
                                                 "username": "someone", "password": PASSWORD},
                                 page="/login")
        response.close()
        problem = refusal(role, method, path, allowed, response)
        if problem:
            wrong.append((method, path, problem))
    assert wrong == [], role


def test_the_matrix_names_every_route(app):
    """Every rule of the app with each of its methods has one row, and every row is a rule."""
    urls = app.url_map.bind("localhost")
    listed = [(method, urls.match(path.split("?")[0], method, return_rule=True)[0].rule)
              for method, path, _ in MATRIX]
    assert len(listed) == len(set(listed)), "a rule is listed twice"
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert set(listed) == routes, "a new route needs a row in MATRIX"
