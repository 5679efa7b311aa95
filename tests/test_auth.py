"""Signing in and out, registering, and the protections around them."""

from __future__ import annotations

from trainer.box import change_settings
from trainer.db import get_db

from .conftest import PASSWORD, add_user, csrf_from, html, post_form, sign_in


def test_sign_in_form_has_labelled_username_and_password(client):
    soup = html(client.get("/login"))
    labels = {label.text.strip(): label["for"] for label in soup.find_all("label")}
    assert soup.find(id=labels["Username"])["name"] == "username"
    assert soup.find(id=labels["Password"])["type"] == "password"


def test_learner_signs_in_and_out(client, learner):
    response = sign_in(client, learner)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Hello, amina" in client.get("/").get_data(as_text=True)
    response = post_form(client, "/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_wrong_password_is_refused_with_a_message(client, learner):
    response = sign_in(client, learner, "wrong-password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_username_is_case_insensitive(client, learner):
    assert sign_in(client, "AMINA").status_code == 302


def test_unknown_user_gets_the_same_message(client):
    response = sign_in(client, "nobody")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_username(app, client, learner):
    for _ in range(app.config["SIGNIN_MAX_FAILURES"]):
        assert sign_in(client, learner, "bad").status_code == 401
    response = sign_in(client, learner)  # even the right password waits now
    assert response.status_code == 429
    assert "Wait a few minutes" in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_address(app, client):
    app.extensions["trainer"].signin_limiter.limits["address"] = 3
    for name in ("a1", "a2", "a3"):
        sign_in(client, name, "bad")
    add_user(app, "fresh")
    assert sign_in(client, "fresh").status_code == 429


def test_session_id_is_renewed_at_sign_in(app, client, learner):
    client.get("/login")
    before = client.get_cookie("trainer_session").value
    sign_in(client, learner)
    after = client.get_cookie("trainer_session").value
    assert before != after
    with app.app_context():
        sids = [row[0] for row in get_db().execute("SELECT id FROM sessions").fetchall()]
    assert len(sids) == 1


def test_sign_out_ends_the_session_on_the_server(app, client, learner):
    sign_in(client, learner)
    stolen = client.get_cookie("trainer_session").value
    post_form(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("trainer_session", stolen)
    assert thief.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, learner):
    token = csrf_from(client)
    response = client.post("/login", data={"username": learner, "password": PASSWORD,
                                           "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_post_without_csrf_token_is_refused(client, learner):
    response = client.post("/login", data={"username": learner, "password": PASSWORD})
    assert response.status_code == 400
    assert "Please try again" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in


def test_post_with_another_sessions_token_is_refused(app, client, learner):
    other = app.test_client()
    token = csrf_from(other)
    response = client.post("/login", data={"username": learner, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 400


def test_next_only_leads_to_this_box(client, learner):
    token = csrf_from(client)
    data = {"username": learner, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login?next=//evil.example/", data=data).headers["Location"] == "/"
    sign_in(client, learner)
    token = csrf_from(client, "/courses/basics")
    post_form(client, "/logout")
    token = csrf_from(client)
    data["csrf_token"] = token
    response = client.post("/login?next=/courses/basics", data=data)
    assert response.headers["Location"] == "/courses/basics"


def register(client, username="newbie", password="1234", confirm=None, name="New Person"):
    token = csrf_from(client, "/register")
    return client.post("/register", data={
        "username": username, "display_name": name, "password": password,
        "confirm": password if confirm is None else confirm, "csrf_token": token})


def test_learner_registers_and_is_signed_in(client):
    response = register(client)
    assert response.status_code == 302
    assert "Hello, New Person" in client.get("/").get_data(as_text=True)


def test_registration_errors_keep_the_values_and_change_nothing(app, client):
    response = register(client, username="x y", name="Kept Name")
    assert response.status_code == 400
    soup = html(response)
    assert soup.find("input", attrs={"name": "display_name"})["value"] == "Kept Name"
    assert "2 to 32 letters" in soup.text
    assert register(client, confirm="9999").status_code == 400
    assert register(client, password="12").status_code == 400
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM event").fetchone()[0] == 0


def test_a_taken_username_is_refused(client, learner):
    response = register(client, username="Amina")
    assert response.status_code == 400
    assert "is taken" in response.get_data(as_text=True)


def test_registration_can_be_switched_off(app, client):
    with app.app_context():
        change_settings(get_db(), self_registration=False)
    assert client.get("/register").status_code == 404
    assert html(client.get("/login")).find("a", string="Create an account") is None


def test_password_is_stored_as_scrypt_hash(app, learner):
    with app.app_context():
        stored = get_db().execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt:") and PASSWORD not in stored
