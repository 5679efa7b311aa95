"""A finished course gives a printable certificate whose code anyone can check on the box."""

from __future__ import annotations

import re

from trainer.certificates import code_for
from trainer.db import get_db

from .conftest import html, post_form

CODE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")


def finish_second_course(client):
    client.get("/courses/second/only")
    post_form(client, "/courses/second/only/complete", page="/courses/second/only")


def test_finishing_a_course_gives_a_certificate_with_a_code(app, signed_in):
    assert signed_in.get("/courses/second/certificate").status_code == 404  # not yet
    finish_second_course(signed_in)
    course_page = html(signed_in.get("/courses/second"))
    link = course_page.find("a", string="Open your certificate")
    certificate = html(signed_in.get(link["href"])).find("article", class_="certificate")
    assert certificate.find(class_="certificate-name").text == "amina"
    assert certificate.find(class_="certificate-course").text == "Another course"
    assert "0.1.0" in certificate.text
    code = certificate.find("code").text
    assert CODE.match(code)
    checked = signed_in.get(f"/verify/{code}")
    assert checked.status_code == 200 and "This certificate is genuine." in html(checked).text
    assert "amina" in html(checked).find("dl").text


def test_the_code_stays_the_same_and_is_recorded_once(app, signed_in):
    finish_second_course(signed_in)
    first = html(signed_in.get("/courses/second/certificate")).find("code").text
    finish_second_course(signed_in)
    assert html(signed_in.get("/courses/second/certificate")).find("code").text == first
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM completions").fetchone()[0] == 1


def test_anyone_can_check_a_code_and_wrong_codes_are_refused(app, client, signed_in):
    finish_second_course(signed_in)
    code = html(signed_in.get("/courses/second/certificate")).find("code").text
    stranger = app.test_client()
    assert stranger.get(f"/verify/{code.lower()}").status_code == 200
    response = stranger.get("/verify/AAAA-BBBB-CCCC")
    assert response.status_code == 404 and "No certificate on this box" in html(response).text
    redirected = stranger.get(f"/verify?code={code}")
    assert redirected.status_code == 302 and redirected.headers["Location"].endswith(code)
    assert stranger.get("/verify/ÉTÉ-2024").status_code == 404  # any script: not a crash


def test_codes_depend_on_the_box_secret_and_the_event():
    assert code_for("secret", "event-1") != code_for("other", "event-1")
    assert code_for("secret", "event-1") != code_for("secret", "event-2")
    assert CODE.match(code_for("secret", "event-1"))
