"""Pages for learners: the catalogue, courses, lessons and their media."""

from __future__ import annotations

import re
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from . import answers, certificates, events, progress, queries
from .accounts import login_required
from .courses.grading import match_choices
from .courses.library import lesson_key
from .db import get_db
from .i18n import page_language
from .security import MEDIA_POLICY, csrf_token

bp = Blueprint("learn", __name__)
MEDIA_MAX_AGE = 365 * 86400
SHOWN_INLINE = {".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp3", ".ogg", ".oga", ".mp4",
                ".webm", ".pdf"}  # anything else in media/ is offered as a download
QUESTION_SLOT = re.compile(r"<!--question-slot-(\d+)-->")
SEARCH_LENGTH = 200  # characters of a search kept: enough for any question a learner asks


def library():
    """The running app's courses (reloaded when files change, rendered once)."""
    return current_app.extensions["trainer"].library


def localized_catalog():
    """The courses, each in the page's language where it is translated."""
    return library().catalog.in_language(page_language())


def rendered_lesson(course, lesson):
    """A lesson rendered for this page's language (made once, then cached)."""
    return library().rendered(course, lesson, page_language())


def course_or_404(course_id: str):
    course = library().catalog.courses.get(course_id)
    if course is None:
        abort(404)
    return course.in_language(page_language())


def lesson_or_404(course_id: str, lesson_id: str, language: str | None = None):
    """The lesson as read in the page's language, or in `language` when the course has it
    (a search result in another language links there)."""
    course = course_or_404(course_id)
    if language and language in course.original_or_self.languages:
        course = course.original_or_self.in_language(language)
    lesson = course.lesson(lesson_id)
    if lesson is None:
        abort(404)
    return course, lesson


def media_url(course, relative: str) -> str:
    """Where a file below a course's (or a translation's) media/ folder is served."""
    if course.original is not None:
        return (f"/courses/{course.id}/translations/{course.language}/media/{relative}"
                f"?v={course.media_version}")
    return f"/courses/{course.id}/media/{relative}?v={course.media_version}"


@bp.get("/")
@login_required
def home():
    courses, db = localized_catalog(), get_db()
    marks, answered = queries.lesson_marks(db, g.user.id), queries.attempts(db, g.user.id)
    results = {course.id: queries.course_results(course, marks, answered.get(course.id, {}))
               for course in courses.ordered()}
    cards = [(course, queries.course_progress(course, results[course.id]))
             for course in courses.ordered()]
    activity = {key: mark.last_active_hlc for key, mark in marks.items()}
    for key, hlc in queries.last_answer_hlc(db, g.user.id).items():
        activity[key] = max(activity.get(key, 0), hlc)
    return render_template("learn/home.html", cards=cards,
                           resume=queries.continue_point(courses, activity, results))


@bp.get("/courses/<course_id>")
@login_required
def course(course_id: str):
    course = course_or_404(course_id)
    db = get_db()
    results = queries.course_results(course, queries.lesson_marks(db, g.user.id),
                                     queries.attempts(db, g.user.id, course.id)[course.id])
    welcome = library().rendered_text(course, course.welcome, page_language())
    summary = queries.course_progress(course, results)
    certified = certificates.completion(db, g.user.id, course.id)
    if summary["complete"] and certified is None:  # finished before certificates existed
        certificates.record_if_complete(db, g.user.id, course)
        certified = certificates.completion(db, g.user.id, course.id)
    return render_template("learn/course.html", course=course, results=results,
                           progress=summary, welcome=welcome, certified=certified)


@bp.get("/courses/<course_id>/<lesson_id>")
@login_required
def lesson(course_id: str, lesson_id: str):
    course, lesson = lesson_or_404(course_id, lesson_id, request.args.get("read"))
    return show_lesson(course, lesson)


def show_lesson(course, lesson, errors: dict | None = None, submitted: dict | None = None,
                status: int = 200):
    """The lesson page; with `errors`, the learner's answers come back with a message."""
    db = get_db()
    mark = queries.lesson_mark(db, g.user.id, course.id, lesson.id)
    if not mark.viewed:
        events.lesson_viewed(db, g.user.id, course.id, course.version, lesson.id)
    rendered = rendered_lesson(course, lesson)
    pieces, pager = lesson_fragments(course, lesson, rendered)
    tries = queries.attempts(db, g.user.id, course.id, lesson.id)[course.id]
    results = progress.question_results(course, lesson, tries)
    return render_template(
        "learn/lesson.html", course=course, lesson=lesson, rendered=rendered, pieces=pieces,
        pager=pager, summary=progress.summarise(course, lesson, results, mark.completed, True),
        pass_mark=lesson.meta.get("pass_mark", course.pass_mark), results=results,
        errors=errors or {}, submitted=submitted or {}, shuffle=lesson.meta.get("shuffle", False)
    ), status


CSRF_SLOT, KEY_SLOT = "\x00csrf\x00", "\x00form-key\x00"


def question_html(rq, result, error, submitted, course, lesson, shuffle: bool) -> Markup:
    """A question as this learner sees it. An open, untouched form is the same for everyone
    with the same option order but for its two tokens, so it is made once and filled in."""
    macro = current_app.jinja_env.globals["quiz"].question
    form_key = answers.new_form_key(current_app.config["SECRET_KEY"], g.user.id)
    if result.answered or error or submitted:
        return macro(rq, result, error, submitted, form_key, csrf_token(), course, lesson,
                     g.user.id, shuffle)
    order = tuple(o.id for o in answers.display_order(rq.question, g.user.id, shuffle))
    key = ("question-form", lesson_key(course, lesson), rq.id, order, page_language(),
           request.script_root)
    blank = library().memo(key, lambda: str(macro(rq, result, None, None, KEY_SLOT, CSRF_SLOT,
                                                  course, lesson, g.user.id, shuffle)))
    return Markup(blank.replace(CSRF_SLOT, csrf_token()).replace(KEY_SLOT, form_key))


def lesson_fragments(course, lesson, rendered) -> tuple[list, Markup]:
    """The parts of a lesson page that are the same for every reader, made once per language:
    the article as HTML pieces with its questions between them, and the pager."""
    previous, following = course.neighbours(lesson.id)
    context = {"course": course, "lesson": lesson, "rendered": rendered,
               "previous": previous, "following": following}
    key = ("lesson-page", lesson_key(course, lesson), course.title, lesson.title,
           previous and (previous.id, previous.title), following and (following.id,
                                                                      following.title),
           page_language(), request.script_root)

    def make():
        article = render_template("learn/_lesson_article.html", **context)
        pieces = QUESTION_SLOT.split(article)
        return ([Markup(piece) if index % 2 == 0 else rendered.questions[int(piece)]
                 for index, piece in enumerate(pieces)],
                Markup(render_template("learn/_lesson_pager.html", **context)))

    return library().memo(key, make)


@bp.post("/courses/<course_id>/<lesson_id>/complete")
@login_required
def complete(course_id: str, lesson_id: str):
    course, lesson = lesson_or_404(course_id, lesson_id)
    db = get_db()
    if not queries.lesson_mark(db, g.user.id, course.id, lesson.id).completed:
        events.lesson_completed(db, g.user.id, course.id, course.version, lesson.id)
        certificates.record_if_complete(db, g.user.id, course, lesson)
    flash(_("Lesson completed: %(title)s", title=lesson.title), "success")
    following = course.neighbours(lesson.id)[1]
    if following is not None:
        return redirect(url_for("learn.lesson", course_id=course.id, lesson_id=following.id))
    return redirect(url_for("learn.course", course_id=course.id))


@bp.post("/courses/<course_id>/<lesson_id>/questions/<question_id>")
@login_required
def answer(course_id: str, lesson_id: str, question_id: str):
    course, lesson = lesson_or_404(course_id, lesson_id)
    found = rendered_lesson(course, lesson).question(question_id)
    if found is None:
        abort(404)
    question = found.question
    outcome = answers.submit(get_db(), g.user.id, course, lesson, question, request.form,
                             current_app.config["SECRET_KEY"])
    if outcome.error is not None:
        return show_lesson(course, lesson, errors={question.id: outcome.error},
                           submitted={question.id: request.form.to_dict(flat=False)},
                           status=400)
    if outcome.message:
        flash(outcome.message, "info")
    certificates.record_if_complete(get_db(), g.user.id, course, lesson)
    return redirect(url_for("learn.lesson", course_id=course.id, lesson_id=lesson.id,
                            _anchor=f"q-{question.id}"))


@bp.get("/search")
@login_required
def search():
    """Lesson sections matching the words asked for: in the courses as this learner reads
    them, or with all=1 in every language they are written in."""
    text = " ".join(request.args.get("q", "").split())[:SEARCH_LENGTH]
    everything = request.args.get("all") == "1"
    reading = {course.id: course.language for course in localized_catalog().courses.values()}
    results = None
    if text:
        results = current_app.extensions["trainer"].search.search(
            text, None if everything else reading, request.args.get("page", 1, type=int) or 1)
    return render_template("learn/search.html", q=text, everything=everything,
                           results=results, reading=reading)


@bp.get("/courses/<course_id>/certificate")
@login_required
def certificate(course_id: str):
    course = course_or_404(course_id)
    done = certificates.completion(get_db(), g.user.id, course.id)
    if done is None:
        abort(404)
    code = certificates.code_for(current_app.config["SECRET_KEY"], done["event_id"])
    return render_template("learn/certificate.html", course=course, done=done, code=code)


@bp.get("/courses/<course_id>/media/<path:filename>")
def media(course_id: str, filename: str):
    course = library().catalog.courses.get(course_id)
    if course is None:
        abort(404)
    return send_media(course, filename)


@bp.get("/courses/<course_id>/translations/<language>/media/<path:filename>")
def translated_media(course_id: str, language: str, filename: str):
    course = library().catalog.courses.get(course_id)
    translation = course and course.translations.get(language)
    if not translation:
        abort(404)
    return send_media(translation, filename)


def send_media(course, filename: str):
    fresh = request.args.get("v") == course.media_version
    # send_from_directory refuses any path that would leave the media folder, but follows
    # links: a link in a course folder must not hand out the box's own files.
    if not inside(course.path / "media", filename):
        abort(404)
    response = send_from_directory(
        course.path / "media", filename, max_age=MEDIA_MAX_AGE if fresh else 60,
        as_attachment=Path(filename).suffix.lower() not in SHOWN_INLINE)
    response.headers["Content-Security-Policy"] = MEDIA_POLICY
    return response


def inside(folder: Path, filename: str) -> bool:
    """Whether the file named lies inside `folder` once every link is followed."""
    try:
        return (folder / filename).resolve().is_relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):  # a NUL byte, a name too long, a link loop
        return False


def init_app(app) -> None:
    app.jinja_env.globals.update(display_order=answers.display_order,
                                 match_choices=match_choices, question_html=question_html)
    app.register_blueprint(bp)
