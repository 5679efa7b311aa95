"""Pages for learners: the catalogue, courses, lessons and their media."""

from __future__ import annotations

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

from . import events, queries
from .accounts import login_required
from .db import get_db
from .i18n import page_language

bp = Blueprint("learn", __name__)
MEDIA_MAX_AGE = 365 * 86400


def library():
    return current_app.extensions["trainer"].library


def course_or_404(course_id: str):
    course = library().catalog.courses.get(course_id)
    if course is None:
        abort(404)
    return course


def lesson_or_404(course_id: str, lesson_id: str):
    course = course_or_404(course_id)
    lesson = course.lesson(lesson_id)
    if lesson is None:
        abort(404)
    return course, lesson


def media_url(course_id: str, relative: str, version: str) -> str:
    return f"/courses/{course_id}/media/{relative}?v={version}"


@bp.get("/")
@login_required
def home():
    catalog = library().catalog
    states = queries.lesson_states(get_db(), g.user.id)
    cards = [(course, queries.course_progress(course, states)) for course in catalog.ordered()]
    return render_template("learn/home.html", cards=cards,
                           resume=queries.continue_point(catalog, states))


@bp.get("/courses/<course_id>")
@login_required
def course(course_id: str):
    course = course_or_404(course_id)
    states = queries.lesson_states(get_db(), g.user.id, course.id)
    welcome = library().rendered_text(course, course.welcome)
    return render_template("learn/course.html", course=course, states=states,
                           progress=queries.course_progress(course, states), welcome=welcome)


@bp.get("/courses/<course_id>/<lesson_id>")
@login_required
def lesson(course_id: str, lesson_id: str):
    course, lesson = lesson_or_404(course_id, lesson_id)
    db = get_db()
    state = queries.lesson_state(db, g.user.id, course.id, lesson.id)
    if state.status == queries.NOT_STARTED:
        events.lesson_viewed(db, g.user.id, course.id, course.version, lesson.id)
    rendered = library().rendered(course, lesson)
    article, pager = lesson_fragments(course, lesson, rendered)
    return render_template("learn/lesson.html", course=course, lesson=lesson, rendered=rendered,
                           state=state, article=article, pager=pager)


def lesson_fragments(course, lesson, rendered) -> tuple[Markup, Markup]:
    """The parts of a lesson page that are the same for every reader, made once per language."""
    previous, following = course.neighbours(lesson.id)
    context = {"course": course, "lesson": lesson, "rendered": rendered,
               "previous": previous, "following": following}
    key = ("lesson-page", course.id, course.title, lesson.hash, course.media_version,
           previous and (previous.id, previous.title), following and (following.id,
                                                                      following.title),
           page_language(), request.script_root)
    return library().memo(key, lambda: (
        Markup(render_template("learn/_lesson_article.html", **context)),
        Markup(render_template("learn/_lesson_pager.html", **context))))


@bp.post("/courses/<course_id>/<lesson_id>/complete")
@login_required
def complete(course_id: str, lesson_id: str):
    course, lesson = lesson_or_404(course_id, lesson_id)
    db = get_db()
    if queries.lesson_state(db, g.user.id, course.id, lesson.id).status != queries.COMPLETED:
        events.lesson_completed(db, g.user.id, course.id, course.version, lesson.id)
    flash(_("Lesson completed: %(title)s", title=lesson.title), "success")
    following = course.neighbours(lesson.id)[1]
    if following is not None:
        return redirect(url_for("learn.lesson", course_id=course.id, lesson_id=following.id))
    return redirect(url_for("learn.course", course_id=course.id))


@bp.get("/courses/<course_id>/media/<path:filename>")
def media(course_id: str, filename: str):
    course = course_or_404(course_id)
    fresh = request.args.get("v") == course.media_version
    # send_from_directory refuses any path that would leave the media folder.
    return send_from_directory(course.path / "media", filename,
                               max_age=MEDIA_MAX_AGE if fresh else 60)


def init_app(app) -> None:
    app.register_blueprint(bp)
