"""Pages for trainers: their groups' progress, question analysis, learners, CSV exports and
the sign-off of practical tasks."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from . import accounts, certificates, charts, events, exports, progress, queries
from .accounts import STAFF, role_required
from .db import get_db
from .learn import lesson_fragments, lesson_or_404, localized_catalog, rendered_lesson

bp = Blueprint("teach", __name__, url_prefix="/teach")
VERDICTS = ("passed", "redo")
MATRIX_PAGE = 30  # learners per page of the group matrix: light enough for a phone
SIGNOFF_PAGE = 20  # the oldest tasks first; each verdict brings the next one up
LONGEST_COMMENT = 1000


def task_of(item: dict):
    """(course, lesson, rendered question) of a pending task, or None if it left the course."""
    course = localized_catalog().courses.get(item["course_id"])
    lesson = course.lesson(item["lesson_id"]) if course else None
    question = rendered_lesson(course, lesson).question(item["question_id"]) \
        if lesson else None
    return (course, lesson, question) if question else None


@bp.get("/signoffs")
@role_required(*STAFF)
def signoffs(errors: dict | None = None, status: int = 200):
    waiting = queries.pending_signoffs(get_db(), g.user)
    items = [(item, task) for item in waiting[:SIGNOFF_PAGE]
             if (task := task_of(item)) is not None]
    return render_template("teach/signoffs.html", items=items, errors=errors or {},
                           form=request.form, more=max(0, len(waiting) - SIGNOFF_PAGE)), status


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
    if not events.task_signed_off(db, answer, verdict, comment, g.user.id):
        flash(_("This task was already signed off, or the learner has done it again since."),
              "info")
        return redirect(url_for("teach.signoffs"))
    course = localized_catalog().courses.get(answer["course_id"])
    lesson = course.lesson(answer["lesson_id"]) if course else None
    if lesson is not None:
        certificates.record_if_complete(db, answer["user_id"], course, lesson)
    flash(_("Signed off.") if verdict == "passed" else _("Sent back to redo."), "success")
    return redirect(url_for("teach.signoffs"))


def followed_group_or_404(group_id: str) -> dict:
    group = next((x for x in queries.followed_groups(get_db(), g.user) if x["id"] == group_id),
                 None)
    if group is None:
        abort(404)  # not one of this trainer's groups, or no such group
    return group


def course_from_args(learners: list | None = None):
    """The course asked for; else the one the group is busy with; else the first."""
    catalog = localized_catalog()
    courses = catalog.ordered()
    wanted = request.args.get("course") or (
        queries.busiest_course(get_db(), [x.id for x in learners]) if learners else None)
    chosen = catalog.courses.get(wanted or "")
    return chosen or (courses[0] if courses else None), courses


@bp.get("/")
@role_required(*STAFF)
def index():
    db = get_db()
    mine = queries.followed_groups(db, g.user)
    sizes = {group["id"]: len(queries.group_learners(db, group["id"])) for group in mine}
    return render_template("teach/index.html", groups=mine, sizes=sizes,
                           waiting=len(queries.pending_signoffs(db, g.user)))


@bp.get("/groups/<group_id>")
@role_required(*STAFF)
def group(group_id: str):
    group = followed_group_or_404(group_id)
    everyone = queries.group_learners(get_db(), group_id)
    course, courses = course_from_args(everyone)
    pages = max(1, -(-len(everyone) // MATRIX_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    learners = everyone[(page - 1) * MATRIX_PAGE: page * MATRIX_PAGE]
    matrix = queries.group_matrix(get_db(), course, learners) if course else {}
    return render_template("teach/group.html", group=group, course=course, courses=courses,
                           learners=learners, matrix=matrix, page=page, pages=pages,
                           total=len(everyone))


def export_scope(group_id: str):
    """(group, course, learners) of a CSV export, or 404."""
    group = followed_group_or_404(group_id)
    course, _ = course_from_args()
    if course is None:
        abort(404)
    return group, course, queries.group_learners(get_db(), group_id)


@bp.get("/groups/<group_id>/progress.csv")
@role_required(*STAFF)
def progress_csv(group_id: str):
    group, course, learners = export_scope(group_id)
    matrix = queries.group_matrix(get_db(), course, learners)
    return csv_download(f"{group['name']}-{course.id}-progress.csv",
                        exports.progress_rows(course, learners, matrix))


@bp.get("/groups/<group_id>/answers.csv")
@role_required(*STAFF)
def answers_csv(group_id: str):
    group, course, learners = export_scope(group_id)
    records = queries.answer_records(get_db(), course.id, [x.id for x in learners])
    return csv_download(f"{group['name']}-{course.id}-answers.csv",
                        exports.answer_rows(records, learners))


def csv_download(name: str, rows) -> Response:
    response = Response(exports.to_csv(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = exports.attachment(name)
    return response


@bp.get("/groups/<group_id>/courses/<course_id>/<lesson_id>")
@role_required(*STAFF)
def analysis(group_id: str, course_id: str, lesson_id: str):
    group = followed_group_or_404(group_id)
    course, lesson = lesson_or_404(course_id, lesson_id)
    learners = {x.id for x in queries.group_learners(get_db(), group_id)}
    found = queries.question_analysis(get_db(), course, lesson, learners)
    chart = charts.bar_chart(_("Share of right answers per question"),
                             [(item["question"].id, 100 * item["right_share"])
                              for item in found], chart_id="right-share")
    return render_template("teach/analysis.html", group=group, course=course, lesson=lesson,
                           found=found, chart=chart)


@bp.get("/learners/<user_id>")
@role_required(*STAFF)
def learner(user_id: str):
    db = get_db()
    followed = queries.learners_of(db, g.user)
    person = accounts.find_by_id(db, user_id)
    if person is None or person.role != "learner" or (followed is not None
                                                       and user_id not in followed):
        abort(404)
    return render_template("teach/learner.html", person=person,
                           timeline=queries.learner_timeline(db, user_id),
                           catalog=localized_catalog())


@bp.get("/preview/<course_id>/<lesson_id>")
@role_required(*STAFF)
def preview(course_id: str, lesson_id: str):
    """A lesson as learners see it, read from disk as it is now; with ?keys=1, the keys."""
    course, lesson = lesson_or_404(course_id, lesson_id)
    rendered = rendered_lesson(course, lesson)
    pieces, pager = lesson_fragments(course, lesson, rendered)
    return render_template("teach/preview.html", course=course, lesson=lesson,
                           rendered=rendered, pieces=pieces, keys=request.args.get("keys") == "1",
                           results=progress.question_results(course, lesson, {}))


def init_app(app) -> None:
    app.register_blueprint(bp)
