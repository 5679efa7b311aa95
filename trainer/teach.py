"""Pages for trainers: signing off the practical tasks of the learners they follow."""

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
    url_for,
)
from flask_babel import gettext as _

from . import events, queries
from .accounts import STAFF, role_required
from .db import get_db

bp = Blueprint("teach", __name__, url_prefix="/teach")
VERDICTS = ("passed", "redo")
LONGEST_COMMENT = 1000


def library():
    return current_app.extensions["trainer"].library


def task_of(item: dict):
    """(course, lesson, rendered question) of a pending task, or None if it left the course."""
    course = library().catalog.courses.get(item["course_id"])
    lesson = course.lesson(item["lesson_id"]) if course else None
    if lesson is None:
        return None
    rendered = library().rendered(course, lesson)
    question = next((q for q in rendered.questions if q.id == item["question_id"]), None)
    return (course, lesson, question) if question else None


@bp.get("/signoffs")
@role_required(*STAFF)
def signoffs(errors: dict | None = None, status: int = 200):
    items = [(item, task) for item in queries.pending_signoffs(get_db(), g.user)
             if (task := task_of(item)) is not None]
    return render_template("teach/signoffs.html", items=items, errors=errors or {},
                           form=request.form), status


@bp.post("/signoffs/<answer_id>")
@role_required(*STAFF)
def sign_off(answer_id: str):
    db = get_db()
    answer = queries.answer_event(db, answer_id)
    followed = queries.learners_of(db, g.user)
    if answer is None or answer["question_type"] != "task":
        abort(404)
    if followed is not None and answer["user_id"] not in followed:
        abort(403)
    verdict = request.form.get("verdict", "")
    comment = " ".join(request.form.get("comment", "").split())
    if verdict not in VERDICTS:
        return signoffs(errors={answer_id: _("Choose passed or redo.")}, status=400)
    if verdict == "redo" and not comment:
        return signoffs(errors={answer_id: _("Say what to do again, so the learner knows.")},
                        status=400)
    if len(comment) > LONGEST_COMMENT:
        return signoffs(errors={answer_id: _("The comment is too long.")}, status=400)
    events.task_signed_off(db, answer, verdict, comment, g.user.id)
    flash(_("Signed off.") if verdict == "passed" else _("Sent back to redo."), "success")
    return redirect(url_for("teach.signoffs"))


def init_app(app) -> None:
    app.register_blueprint(bp)
