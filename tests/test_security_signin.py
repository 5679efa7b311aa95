"""Signing in, beyond tests/test_auth.py: a username's lock holds from every address and in
every spelling, an address's lock leaves the other phones alone and cannot be dodged with a
forwarded-for header, a lock lifts after its window; a session planted before sign-in or
opened before a password reset is worth nothing after; the cookies' flags."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trainer import accounts
from trainer.db import get_db

from .conftest import PASSWORD, add_user, csrf_from, post_form, sign_in


def sign_in_from(app, address: str, username: str, password: str = PASSWORD, **headers):
    """A sign-in from a phone at `address` (its own client: its own cookies)."""
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = address
    token = csrf_from(phone)
    return phone.post("/login", data={"username": username, "password": password,
                                      "csrf_token": token}, headers=headers)


def sessions(app) -> int:
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM sessions").fetchone()[0]


def test_a_usernames_lock_holds_from_every_address_and_every_spelling(app, learner):
    spellings = ["amina", "AMINA", " Amina ", "aMiNa"]
    for attempt in range(app.config["SIGNIN_MAX_FAILURES"]):
        refused = sign_in_from(app, f"10.0.0.{attempt}", spellings[attempt % 4], "wrong")
        assert refused.status_code == 401
    locked = sign_in_from(app, "10.0.1.1", "Amina")  # the right password, a new address
    assert locked.status_code == 429 and sessions(app) == 0
    assert sign_in_from(app, "10.0.1.2", "baraka-is-not-locked", "wrong").status_code == 401


def test_one_addresss_lock_leaves_the_other_phones_alone(app):
    app.extensions["trainer"].signin_limiter.limits["address"] = 3
    add_user(app, "fresh")
    for name in ("a1", "a2", "a3"):
        assert sign_in_from(app, "10.0.0.9", name, "wrong").status_code == 401
    assert sign_in_from(app, "10.0.0.9", "fresh").status_code == 429
    assert sign_in_from(app, "10.0.0.10", "fresh").status_code == 302


def test_a_forwarded_for_header_does_not_change_the_address(app):
    """Behind no proxy the box trusts no header: the address is the connection's."""
    app.extensions["trainer"].signin_limiter.limits["address"] = 3
    add_user(app, "fresh")
    for number, name in enumerate(("a1", "a2", "a3")):
        assert sign_in_from(app, "10.0.0.9", name, "wrong",
                            **{"X-Forwarded-For": f"192.0.2.{number}",
                               "X-Real-IP": f"198.51.100.{number}"}).status_code == 401
    assert sign_in_from(app, "10.0.0.9", "fresh", **{"X-Forwarded-For": "192.0.2.99"}
                        ).status_code == 429


def test_a_lock_lifts_after_its_window(app, learner, monkeypatch):
    now = [1000.0]
    clock = SimpleNamespace(monotonic=lambda: now[0], time=accounts.time.time)
    monkeypatch.setattr(accounts, "time", clock)  # the limiter's clock, and only its
    for _ in range(app.config["SIGNIN_MAX_FAILURES"]):
        sign_in_from(app, "10.0.0.1", learner, "wrong")
    assert sign_in_from(app, "10.0.0.1", learner).status_code == 429
    now[0] += app.config["SIGNIN_WINDOW_SECONDS"] - 1
    assert sign_in_from(app, "10.0.0.1", learner).status_code == 429
    now[0] += 2
    assert sign_in_from(app, "10.0.0.1", learner).status_code == 302


def test_a_session_cookie_planted_before_sign_in_is_worth_nothing_after(app, learner):
    attacker = app.test_client()
    csrf_from(attacker)  # a session of its own, not signed in
    planted = attacker.get_cookie("trainer_session").value
    victim = app.test_client()
    victim.set_cookie("trainer_session", planted)
    assert sign_in(victim, learner).status_code == 302
    assert victim.get_cookie("trainer_session").value != planted
    assert victim.get("/").status_code == 200
    assert attacker.get("/").status_code == 302  # the planted copy signs no one in


@pytest.fixture
def boss(app, coordinator):
    return coordinator


def test_a_password_reset_ends_the_accounts_other_sessions(app, boss, learner):
    phone = app.test_client()
    sign_in(phone, learner)
    with app.app_context():
        uid = accounts.find_by_username(get_db(), learner).id
        own = accounts.find_by_username(get_db(), "boss").id
    post_form(boss, f"/coordinate/users/{uid}", {"username": learner, "role": "learner",
                                                 "active": "on", "password": "n3w-pass"},
              page=f"/coordinate/users/{uid}")
    assert phone.get("/").status_code == 302  # whoever knew the old password is out
    assert sign_in(app.test_client(), learner, "n3w-pass").status_code == 302
    laptop = app.test_client()
    sign_in(laptop, "boss")
    saved = post_form(boss, f"/coordinate/users/{own}", {
        "username": "boss", "role": "coordinator", "active": "on", "password": "b0ss-new"},
        page=f"/coordinate/users/{own}")
    assert saved.status_code == 302
    assert boss.get("/coordinate/").status_code == 200  # who changed it stays signed in
    assert laptop.get("/coordinate/").status_code == 302
    renamed = post_form(boss, f"/coordinate/users/{uid}", {
        "username": learner, "display_name": "Amina K", "role": "learner", "active": "on"},
        page=f"/coordinate/users/{uid}")
    assert renamed.status_code == 302 and sessions(app) == 2  # other changes end nothing


def test_cookies_are_httponly_samesite_and_not_secure_on_a_plain_http_box(client, learner):
    token = csrf_from(client)
    client.post("/language", data={"language": "fr", "csrf_token": token})
    signed = client.post("/login", data={"username": learner, "password": PASSWORD,
                                         "csrf_token": token})
    cookies = signed.headers.getlist("Set-Cookie")
    assert {cookie.split("=")[0] for cookie in cookies} >= {"trainer_session"}
    language = client.post("/language", data={"language": "en",
                                              "csrf_token": csrf_from(client, "/")})
    for cookie in cookies + language.headers.getlist("Set-Cookie"):
        flags = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert "httponly" in flags and "samesite=lax" in flags, cookie
        # A box serves plain HTTP on its own Wi-Fi: a Secure cookie would never come back.
        assert "secure" not in flags, cookie
        assert "path=/" in flags, cookie
