"""Coordinators manage accounts: create, edit, deactivate, reset, and import from CSV."""

from __future__ import annotations

import io

import pytest

from trainer.db import get_db

from .conftest import PASSWORD, add_user, csrf_from, html, post_form, sign_in


@pytest.fixture
def boss(coordinator):
    return coordinator


def user_id(app, username: str) -> str:
    with app.app_context():
        return get_db().execute("SELECT id FROM users WHERE username = ?",
                                [username]).fetchone()[0]


def test_coordinator_adds_an_account(app, boss):
    response = post_form(boss, "/coordinate/users", {
        "username": "wanjiru", "display_name": "Wanjiru K", "password": "4321",
        "role": "trainer"}, page="/coordinate/users")
    assert response.status_code == 302
    rows = [row.th.text for row in html(boss.get("/coordinate/users")).select("tbody tr")]
    assert "Wanjiru K" in rows
    bad = post_form(boss, "/coordinate/users", {"username": "w", "password": "1",
                                                "role": "learner"}, page="/coordinate/users")
    assert bad.status_code == 400 and "2 to 32 letters" in html(bad).text


def test_deactivating_an_account_ends_its_sessions(app, boss):
    add_user(app, "amina")
    learner = app.test_client()
    sign_in(learner, "amina")
    assert learner.get("/").status_code == 200
    uid = user_id(app, "amina")
    post_form(boss, f"/coordinate/users/{uid}", {"display_name": "Amina", "role": "learner"},
              page=f"/coordinate/users/{uid}")
    assert learner.get("/").status_code == 302  # signed out for good
    assert sign_in(app.test_client(), "amina").status_code == 401


def test_resetting_a_password(app, boss):
    add_user(app, "amina")
    uid = user_id(app, "amina")
    post_form(boss, f"/coordinate/users/{uid}", {"role": "learner", "active": "on",
                                                  "password": "9876"},
              page=f"/coordinate/users/{uid}")
    assert sign_in(app.test_client(), "amina", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "amina", "9876").status_code == 302


def test_a_coordinator_cannot_lock_themselves_out(app, boss):
    uid = user_id(app, "boss")
    response = post_form(boss, f"/coordinate/users/{uid}", {"role": "learner", "active": "on"},
                         page=f"/coordinate/users/{uid}")
    assert response.status_code == 400 and "cannot deactivate your own" in html(response).text
    assert boss.get("/coordinate/users").status_code == 200


def upload(client, text: str, name: str = "learners.csv"):
    token = csrf_from(client, "/coordinate/users/import")
    return client.post("/coordinate/users/import", data={
        "csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data")


GOOD = "username,name,password,group\namina,Amina K,1234,Morning\njuma,Juma O,5678,Morning\n"


def test_import_previews_then_creates_everyone_at_once(app, boss):
    preview = upload(boss, GOOD)
    assert preview.status_code == 200
    page = html(preview)
    assert [tr.find_all("td")[1].text for tr in page.select("tbody tr")] == ["amina", "juma"]
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM users").fetchone()[0] == 1  # not yet
    confirm = page.find("input", attrs={"name": "confirm"}).find_parent("form")
    data = {i["name"]: i["value"] for i in confirm.find_all("input")}
    response = boss.post("/coordinate/users/import", data=data)
    assert response.status_code == 302
    assert sign_in(app.test_client(), "juma", "5678").status_code == 302
    juma = user_id(app, "juma")
    select = html(boss.get("/coordinate/groups")).find(id=f"group-{juma}")
    assert select.find("option", selected=True).text == "Morning"  # the group was made


def test_a_bad_row_blocks_the_whole_import_and_says_where(app, boss):
    add_user(app, "taken")
    text = GOOD + "taken,Someone,1234,\nbad name,X,12,\n"
    response = upload(boss, text)
    assert response.status_code == 400
    page = html(response)
    errors = {tr.find_all("td")[0].text: tr.find_all("td")[4].text
              for tr in page.select("tr.row-error")}
    assert set(errors) == {"4", "5"}
    assert "taken" in errors["4"]
    assert page.find("input", attrs={"name": "confirm"}) is None
    assert "Nothing was imported" in page.text
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM users").fetchone()[0] == 2


def test_a_file_that_is_not_utf8_is_explained(app, boss):
    token = csrf_from(boss, "/coordinate/users/import")
    response = boss.post("/coordinate/users/import", data={
        "csrf_token": token,
        "file": (io.BytesIO("username,password\nélodie,1234\n".encode("latin-1")), "x.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "UTF-8" in html(response).text


def test_a_tampered_confirmation_is_checked_again(app, boss):
    import base64

    data = {"csrf_token": csrf_from(boss, "/coordinate/users/import"), "confirm": "1",
            "data": base64.b64encode(b"username,password\nx y,1\n").decode()}
    response = boss.post("/coordinate/users/import", data=data)
    assert response.status_code == 400
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM users").fetchone()[0] == 1
