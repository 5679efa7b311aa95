"""Messages that carry someone's text (a CSV cell, a line of a course file) are shown as text:
translated messages never let that text into a page as HTML."""

from __future__ import annotations

from .test_coordinate_users import upload

ATTACK = "<img src=x onerror=alert(1)>"


def test_a_csv_cell_in_an_import_error_is_escaped(coordinator):
    page = upload(coordinator, f"username,password,role\nzawadi,pass1234,{ATTACK}\n") \
        .get_data(as_text=True)
    assert "Unknown role" in page
    assert ATTACK not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_course_text_in_a_problem_message_is_escaped(coordinator, courses_dir):
    (courses_dir / "basics" / "course.md").write_text(
        (courses_dir / "basics" / "course.md").read_text().replace(
            "license:", f'"{ATTACK}": 1\nlicense:'), encoding="utf-8")
    page = coordinator.get("/coordinate/problems").get_data(as_text=True)
    assert "C014" in page
    assert ATTACK not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
