"""Pages for trainers and coordinators, and the health check."""

from __future__ import annotations

import pytest

from .conftest import add_user, html, sign_in


@pytest.mark.parametrize("role,status", [("learner", 403), ("trainer", 200),
                                         ("coordinator", 200)])
def test_course_problems_page_is_for_staff(app, client, role, status):
    add_user(app, "someone", role)
    sign_in(client, "someone")
    assert client.get("/coordinate/problems").status_code == status


def test_course_problems_page_needs_sign_in(client):
    assert client.get("/coordinate/problems").headers["Location"].startswith("/login")


def test_a_broken_course_is_listed_and_the_others_still_served(app, client, courses_dir):
    broken = courses_dir / "broken"
    broken.mkdir()
    (broken / "course.md").write_text("---\nid: broken\ntitle: B\nversion: one\n---\n")
    (courses_dir / "basics" / "04-bad.md").write_text(
        "# Bad\n\n```quiz\nid: nope\n\nQ?\n\n- ( ) a\n- ( ) b\n```\n")
    add_user(app, "boss", "coordinator")
    sign_in(client, "boss")
    soup = html(client.get("/coordinate/problems"))
    items = soup.select(".problem")
    assert [i.strong.text for i in items] == ["Error Q210", "Error C006"]
    assert "broken/course.md:4:10" in items[1].code.text
    assert "write three numbers like 1.2.0" in items[1].text
    assert client.get("/courses/basics/bad").status_code == 200
    assert client.get("/courses/broken").status_code == 404
    assert client.get("/healthz").json["courses"] == 2


def test_clean_courses_show_no_problems(app, client):
    add_user(app, "boss", "coordinator")
    sign_in(client, "boss")
    assert "No problems" in html(client.get("/coordinate/problems")).text


def test_healthz_answers_status_version_and_course_count(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "version": "0.1.0", "courses": 2}


def test_json_errors_have_one_shape(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json == {"ok": False, "error": response.json["error"], "status": 405}
    assert response.json["error"]


def test_unexpected_error_is_a_calm_page_not_a_traceback(app, client, monkeypatch):
    from trainer import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    add_user(app, "amina")
    sign_in(client, "amina")
    monkeypatch.setattr(queries, "lesson_marks", broken)
    app.logger.disabled = True
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "database on fire" not in page
