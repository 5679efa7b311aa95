"""The courses shipped in courses/: clean, complete, and safe to serve."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from trainer import create_app
from trainer.courses.catalog import load_catalog

from .conftest import add_user, sign_in

COURSES = Path(__file__).parent.parent / "courses"
SVG = "{http://www.w3.org/2000/svg}"


def test_bundled_courses_pass_check_without_warnings():
    catalog = load_catalog(COURSES)
    assert [str(p) for p in catalog.problems] == []
    assert set(catalog.courses) == {"community-wifi", "solar-power"}


def test_each_course_has_five_or_more_lessons_each_ending_with_a_quiz():
    for course in load_catalog(COURSES).courses.values():
        assert len(course.lessons) >= 5, course.id
        for lesson in course.lessons:
            assert lesson.questions, lesson.id
            assert len(lesson.body.split()) > 500, lesson.id


def test_every_question_type_appears_and_each_course_has_a_practical_task():
    catalog = load_catalog(COURSES)
    types = {q.type for c in catalog.courses.values() for lesson in c.lessons
             for q in lesson.questions}
    assert types == {"single", "multiple", "truefalse", "text", "numeric", "order", "match",
                     "task"}
    for course in catalog.courses.values():
        assert any(q.type == "task" for lesson in course.lessons for q in lesson.questions)


def test_every_lesson_ends_with_its_quiz():
    for course in load_catalog(COURSES).courses.values():
        for lesson in course.lessons:
            last_line = lesson.body.rstrip().splitlines()[-1]
            assert last_line.startswith("```"), (lesson.id, last_line)


def test_each_bundled_question_accepts_its_authors_answer():
    from trainer.courses.grading import grade, right_answer

    for course in load_catalog(COURSES).courses.values():
        for lesson in course.lessons:
            for question in lesson.questions:
                result = grade(question, right_answer(question), course.language)
                assert result.score in (1, None), (lesson.id, question.id)


@pytest.mark.parametrize("svg", sorted(COURSES.glob("*/media/*.svg")), ids=lambda p: p.name)
def test_diagrams_are_accessible_self_contained_svg(svg):
    root = ElementTree.parse(svg).getroot()
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text.strip()
    for element in root.iter():
        assert element.tag.split("}")[-1] not in ("script", "foreignObject", "image"), svg
        for name, value in element.attrib.items():
            assert not name.startswith("on"), svg
            assert "http" not in value or name == "xmlns", (svg, name)


def test_every_media_file_is_used_by_a_lesson():
    for course in COURSES.iterdir():
        text = "".join(p.read_text() for p in course.glob("*.md"))
        for media in (course / "media").iterdir():
            assert f"media/{media.name}" in text, media


@pytest.fixture(scope="module")
def bundled_client(tmp_path_factory):
    app = create_app({"TRAINER_HOME": str(tmp_path_factory.mktemp("home")),
                      "COURSES_DIR": str(COURSES), "SECRET_KEY": "x", "TESTING": True})
    add_user(app, "reader")
    client = app.test_client()
    sign_in(client, "reader")
    yield client
    app.extensions["trainer"].pool.close()


def test_every_bundled_lesson_serves_light_html_without_answers(bundled_client):
    """SPEC: a later lesson page is at most 20 KB on the air (pages travel gzipped), and what
    the page adds around the lesson's own text stays small; in every language of the course."""
    for course in load_catalog(COURSES).courses.values():
        for language in course.languages:
            read = course.in_language(language)
            for lesson in read.lessons:
                response = bundled_client.get(f"/courses/{course.id}/{lesson.id}", headers={
                    "Accept-Language": language, "Accept-Encoding": "gzip"})
                assert response.status_code == 200
                assert response.headers["Content-Encoding"] == "gzip"
                assert len(response.data) <= 20 * 1024, (lesson.id, len(response.data))
                page = gzip.decompress(response.data).decode()
                article = re.search(r"<article.*</article>", page, re.S).group(0)
                assert len(page) - len(article) <= 4 * 1024, (lesson.id, language)
                for question in lesson.questions:
                    assert f'id="q-{question.id}"' in page
                    for text in [question.explanation] + [o.feedback for o in question.options]:
                        assert not text or text[:40] not in page, (lesson.id, text)
