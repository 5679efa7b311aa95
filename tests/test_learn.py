"""What a learner sees: catalogue, courses, lessons, progress, media."""

from __future__ import annotations

import os
import time

from trainer.db import get_db

from .conftest import add_user, html, post_form, sign_in


def test_pages_need_sign_in(client):
    for path in ("/", "/courses/basics", "/courses/basics/first-steps"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_home_lists_courses_with_facts_and_progress(signed_in):
    soup = html(signed_in.get("/"))
    cards = soup.select(".course-card")
    assert [c.h3.text for c in cards] == ["Another course", "Basics of the fixture"]
    basics = cards[1]
    assert "A small course the tests rely on." in basics.text
    assert "Beginner" in basics.text and "1h" in basics.text
    assert "0 of 3 lessons completed" in basics.text  # its rule: all-lessons-completed
    assert soup.find(id="resume-title") is None  # nothing to continue yet


def test_course_page_lists_lessons_with_status(signed_in):
    soup = html(signed_in.get("/courses/basics"))
    items = soup.select(".lesson-list li")
    assert [i.a.text for i in items] == ["First steps", "Second lesson", "Third lesson"]
    assert all("Not started" in i.text for i in items)
    assert soup.find("img")["src"].startswith("/courses/basics/media/diagram.svg?v=")


def test_reading_a_lesson_marks_it_viewed_once(app, signed_in):
    page = html(signed_in.get("/courses/basics/first-steps"))
    assert page.find("h1").text == "First steps"
    signed_in.get("/courses/basics/first-steps")
    items = html(signed_in.get("/courses/basics")).select(".lesson-list li")
    assert "Viewed" in items[0].text and "Not started" in items[1].text
    with app.app_context():
        count = get_db().execute(
            "SELECT count(*) FROM event WHERE type = 'lesson_viewed'").fetchone()[0]
    assert count == 1


def test_lesson_page_has_toc_pager_and_its_question(signed_in):
    soup = html(signed_in.get("/courses/basics/first-steps"))
    toc = soup.find("nav", class_="toc")
    assert [a.text for a in toc.find_all("a")] == ["A table", "Some code", "Notes", "Check"]
    assert soup.find(id="some-code") is not None
    assert soup.find("a", rel="next")["href"] == "/courses/basics/second-lesson"
    assert soup.find("a", rel="prev") is None
    assert soup.find("link", href=lambda h: h and h.startswith("/static/code.css"))
    assert soup.find("fieldset").legend.text.strip() == "Which SECRETSTEM is right?"
    assert soup.find("button", string="Mark as complete") is None  # the quiz completes it


def test_short_lesson_has_no_toc_and_no_code_stylesheet(signed_in):
    soup = html(signed_in.get("/courses/basics/third-lesson"))
    assert soup.find("nav", class_="toc") is None
    assert soup.find("link", href=lambda h: h and "code.css" in h) is None
    assert soup.find("a", rel="prev")["href"] == "/courses/basics/second-lesson"


def test_lesson_page_never_contains_quiz_markup_feedback_or_explanation(signed_in):
    page = signed_in.get("/courses/basics/first-steps").get_data(as_text=True)
    for secret in ("RIGHTFEEDBACKTEXT", "EXPLANATIONTEXT", "(x)", "```", "id: first-single"):
        assert secret not in page


def test_mark_complete_moves_on_and_shows_progress(signed_in):
    response = post_form(signed_in, "/courses/second/only/complete", page="/courses/second/only")
    assert response.headers["Location"] == "/courses/second"
    next_page = html(signed_in.get(response.headers["Location"]))
    assert "Lesson completed: Only lesson" in next_page.find(class_="flashes").text
    soup = html(signed_in.get("/courses/second"))
    assert "Passed" in soup.select(".lesson-list li")[0].text
    assert soup.find(class_="flashes") is None  # a flash is shown once
    home = html(signed_in.get("/"))
    assert "1 of 1 lessons passed" in home.select(".course-card")[0].text


def test_completing_twice_records_one_event(app, signed_in):
    for _ in range(2):
        post_form(signed_in, "/courses/basics/third-lesson/complete",
                  page="/courses/basics/third-lesson")
    with app.app_context():
        assert get_db().execute(
            "SELECT count(*) FROM event WHERE type = 'lesson_completed'").fetchone()[0] == 1


def test_last_lesson_completion_returns_to_the_course(signed_in):
    response = post_form(signed_in, "/courses/basics/third-lesson/complete",
                         page="/courses/basics/third-lesson")
    assert response.headers["Location"] == "/courses/basics"


def test_continue_where_you_left_off(signed_in):
    signed_in.get("/courses/basics/third-lesson")
    resume = html(signed_in.get("/")).find(id="resume-title").parent
    assert resume.a["href"] == "/courses/basics/third-lesson"
    post_form(signed_in, "/courses/basics/third-lesson/complete",
              page="/courses/basics/third-lesson")
    resume = html(signed_in.get("/")).find(id="resume-title").parent
    assert resume.a["href"] == "/courses/basics/first-steps"  # the first one not done


def test_finished_course_is_shown_complete(signed_in):
    signed_in.get("/courses/second/only")
    post_form(signed_in, "/courses/second/only/complete", page="/courses/second/only")
    soup = html(signed_in.get("/courses/second"))
    assert "You have completed this course." in soup.text
    assert "1 of 1 lessons passed" in html(signed_in.get("/")).select(".course-card")[0].text


def test_learners_see_only_their_own_progress(app, client, signed_in):
    post_form(signed_in, "/courses/second/only/complete", page="/courses/second/only")
    add_user(app, "baraka")
    other = app.test_client()
    sign_in(other, "baraka")
    card = html(other.get("/")).select(".course-card")[0]
    assert "0 of 1 lessons passed" in card.text
    assert "Not started" in html(other.get("/courses/second")).text


def test_unknown_course_and_lesson_are_404(signed_in):
    assert signed_in.get("/courses/nope").status_code == 404
    response = signed_in.get("/courses/basics/nope")
    assert response.status_code == 404
    assert "There is no page at this address." in response.get_data(as_text=True)


def test_media_is_served_with_type_and_long_cache(signed_in):
    src = html(signed_in.get("/courses/basics")).find("img")["src"]
    with signed_in.get(src) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.get_data().startswith(b"<svg")


def test_media_paths_cannot_leave_the_media_folder(client, courses_dir):
    (courses_dir / "secret.txt").write_text("secret")
    for path in ("/courses/basics/media/../course.md", "/courses/basics/media/..%2fcourse.md",
                 "/courses/basics/media/%2e%2e/course.md", "/courses/basics/media//etc/passwd",
                 "/courses/basics/media/../../secret.txt"):
        with client.get(path, follow_redirects=True) as response:
            assert response.status_code == 404, path


def test_changed_lesson_shows_without_restart(signed_in, courses_dir):
    path = courses_dir / "basics" / "03-third-lesson.md"
    assert "The last lesson." in signed_in.get("/courses/basics/third-lesson").get_data(
        as_text=True)
    path.write_text("# Third lesson\n\nFreshly edited text.\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    page = signed_in.get("/courses/basics/third-lesson").get_data(as_text=True)
    assert "Freshly edited text." in page and "The last lesson." not in page


def test_lessons_are_rendered_once_per_content(app, signed_in, monkeypatch):
    from trainer.courses import library as library_module

    calls = []
    real = library_module.render_lesson
    monkeypatch.setattr(library_module, "render_lesson",
                        lambda *args: calls.append(1) or real(*args))
    for _ in range(3):
        signed_in.get("/courses/basics/second-lesson")
    assert len(calls) == 1


def test_static_files_are_versioned_and_cached(client):
    href = html(client.get("/login")).find("link", rel="stylesheet")["href"]
    assert "?v=" in href
    with client.get(href) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_media_cannot_run_scripts_and_unknown_types_download(signed_in, courses_dir):
    media = courses_dir / "basics" / "media"
    (media / "page.html").write_text("<script src='x.js'></script>")
    (media / "x.js").write_text("alert(1)")
    with signed_in.get("/courses/basics/media/page.html") as response:
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in response.headers["Content-Security-Policy"]
    with signed_in.get("/courses/basics/media/diagram.svg") as response:
        assert response.headers["Content-Disposition"].startswith("inline")
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "script-src" not in policy and "default-src 'none'" in policy
    assert "script-src 'none'" in signed_in.get("/").headers["Content-Security-Policy"]
