"""Pages for coordinators (and trainers, where they share the need)."""

from __future__ import annotations

import base64
import binascii
import shutil
import tempfile
import time
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
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext

from . import accounts, backup, box, charts, clock, queries, roster
from .accounts import STAFF, role_required
from .courses.catalog import type_changes
from .db import get_db
from .i18n import available_languages
from .learn import library, localized_catalog

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")
LEARNERS_PAGE = 40  # learners per page on the Groups page
LARGEST_IMPORT = 200  # accounts per import: each password takes ~50 ms to hash


@bp.get("/")
@role_required("coordinator")
def dashboard():
    db = get_db()
    now = clock.tick(0, clock.now_ms())
    catalog = localized_catalog()
    courses = queries.course_figures(db, catalog)
    activity = queries.weekly_activity(db, now)
    completion_chart = charts.bar_chart(
        _("Learners who completed each course, of those who started it"),
        [(item["course"].title, 100 * (item["rate"] or 0)) for item in courses],
        chart_id="completion")
    activity_chart = charts.column_chart(
        _("Actions on the box per week"),
        [(_("now") if ago == 1 else _("%(n)d w", n=ago - 1), count) for ago, count in activity],
        chart_id="activity")
    return render_template(
        "coordinate/dashboard.html", active=queries.active_learners(db, now - clock.WEEK),
        courses=courses, activity=activity, completion_chart=completion_chart,
        activity_chart=activity_chart, last_backup=backup.last_backup(db),
        problems=len(catalog.problems), learners=sum(
            1 for user in accounts.list_users(db) if user.role == "learner" and user.active))


@bp.get("/problems")
@role_required(*STAFF)
def problems():
    catalog = library().catalog
    found = catalog.problems + type_changes(catalog, queries.answered_types(get_db()))
    ordered = sorted(found, key=lambda p: (not p.is_error, str(p.path), p.line))
    return render_template("coordinate/problems.html", problems=ordered,
                           loaded=catalog.ordered())


@bp.route("/box", methods=["GET", "POST"])
@role_required("coordinator")
def box_page():
    db = get_db()
    languages = available_languages()
    if request.method != "POST":  # GET or HEAD: show the form, change nothing
        return render_box_page(db, box.box_settings(db), {}, languages)
    values, errors = box.read_settings_form(request.form, languages)
    if errors:
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
        return render_box_page(db, values, errors, languages), 400
    box.change_settings(db, **values)
    flash(_("The box settings are saved."), "success")
    return redirect(url_for("coordinate.box_page"))


def render_box_page(db, values: dict, errors: dict, languages: list[str]):
    return render_template("coordinate/box.html", values=values, errors=errors,
                           languages=languages, last_backup=backup.last_backup(db))


@bp.post("/backup")
@role_required("coordinator")
def download_backup():
    """A consistent copy of the live database, as a download."""
    folder = Path(tempfile.mkdtemp(prefix="download-", dir=current_app.instance_path))
    try:
        made = backup.copy_database(get_db(), folder / "trainer.db")
        copy = open(made.path, "rb")  # noqa: SIM115 (the server closes it after sending)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open file stays readable (POSIX)
    day = time.strftime("%Y-%m-%d", time.localtime(made.at))
    return send_file(copy, as_attachment=True, max_age=0, download_name=f"trainer-backup-{day}.db",
                     mimetype="application/vnd.sqlite3")


@bp.route("/groups", methods=["GET", "POST"])
@role_required("coordinator")
def groups_page():
    db = get_db()
    if request.method == "POST":
        trainer = request.form.get("trainer_id") or ""
        try:
            accounts.create_group(db, request.form.get("name", ""),
                                  [trainer] if trainer else [], g.user.id)
        except accounts.AccountError as error:
            flash(str(error), "error")
            return render_groups(db, request.form), 400
        flash(_("The group is created."), "success")
        return redirect(url_for("coordinate.groups_page"))
    return render_groups(db, {})


def render_groups(db, form):
    people = accounts.list_users(db)
    learners = [u for u in people if u.role == "learner"]
    pages = max(1, -(-len(learners) // LEARNERS_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    return render_template("coordinate/groups.html", groups=queries.groups(db), form=form,
                           trainers=[u for u in people if u.is_staff and u.active],
                           learners=learners[(page - 1) * LEARNERS_PAGE: page * LEARNERS_PAGE],
                           page=page, pages=pages, names={u.id: u.name for u in people},
                           group_of=queries.group_memberships(db))


@bp.post("/learners/<user_id>/group")
@role_required("coordinator")
def move_learner(user_id: str):
    db = get_db()
    try:
        accounts.move_to_group(db, user_id, request.form.get("group_id") or None, g.user.id)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return render_groups(db, {}), 400
    flash(_("The learner's group is saved."), "success")
    return redirect(url_for("coordinate.groups_page"))


@bp.get("/users")
@role_required("coordinator")
def users():
    db = get_db()
    return render_template("coordinate/users.html", people=accounts.list_users(db),
                           groups=queries.groups(db), group_of=queries.group_memberships(db),
                           form={}, shared=accounts.shared_usernames(db))


@bp.post("/users")
@role_required("coordinator")
def add_user():
    db = get_db()
    form = request.form
    try:
        accounts.create_user(db, form.get("username", ""), form.get("password", ""),
                             form.get("role", ""), form.get("display_name", ""), by=g.user.id,
                             group_id=form.get("group_id") or None)
    except accounts.AccountError as error:
        flash(str(error), "error")
        return render_template("coordinate/users.html", people=accounts.list_users(db),
                               groups=queries.groups(db), form=form,
                               group_of=queries.group_memberships(db),
                               shared=accounts.shared_usernames(db)), 400
    flash(_("The account is created."), "success")
    return redirect(url_for("coordinate.users"))


@bp.route("/users/<user_id>", methods=["GET", "POST"])
@role_required("coordinator")
def edit_user(user_id: str):
    db = get_db()
    person = accounts.find_by_id(db, user_id)
    if person is None:
        abort(404)
    if request.method == "POST":
        changes = {"username": request.form.get("username", ""),
                   "display_name": request.form.get("display_name", ""),
                   "role": request.form.get("role", ""),
                   "active": request.form.get("active") == "on",
                   "password": request.form.get("password", ""),
                   "group_id": request.form.get("group_id") or None}
        try:
            accounts.update_user(db, person, changes, g.user)
        except accounts.AccountError as error:
            flash(str(error), "error")
            return render_edit(db, person), 400
        flash(_("The account is saved."), "success")
        return redirect(url_for("coordinate.users"))
    return render_edit(db, person)


def render_edit(db, person):
    return render_template("coordinate/edit_user.html", person=person, groups=queries.groups(db),
                           group_id=queries.group_memberships(db).get(person.id))


@bp.route("/users/import", methods=["GET", "POST"])
@role_required("coordinator")
def import_users():
    """Step 1: upload, and see every row checked. Step 2 (confirm): write them all at once."""
    if request.method != "POST":  # GET or HEAD: show the form, change nothing
        return render_template("coordinate/import.html", preview=None, data="")
    db = get_db()
    upload = request.files.get("file")
    try:
        data = upload.read() if upload else base64.b64decode(request.form.get("data", ""),
                                                             validate=True)
    except (binascii.Error, ValueError):
        flash(_("The file could not be read. Please upload it again."), "error")
        return render_template("coordinate/import.html", preview=None, data=""), 400
    taken = {user.username for user in accounts.list_users(db)}
    preview = roster.read_roster(data, taken)
    if len(preview.rows) > LARGEST_IMPORT:
        flash(_("Import at most %(n)d learners at a time: split the file into parts.",
                n=LARGEST_IMPORT), "error")
        return render_template("coordinate/import.html", preview=preview, data=""), 400
    if request.form.get("confirm") and preview.ok:
        people = [{"username": r.username, "password": r.password, "role": r.role,
                   "name": r.name, "group": r.group} for r in preview.rows]
        try:
            count = accounts.create_users(db, people, g.user.id)
        except accounts.AccountError as error:
            flash(str(error), "error")
        else:
            flash(ngettext("%(num)d account created.", "%(num)d accounts created.", count),
                  "success")
            return redirect(url_for("coordinate.users"))
    return render_template("coordinate/import.html", preview=preview,
                           data=base64.b64encode(data).decode() if preview.ok else ""), \
        200 if preview.ok else 400


def init_app(app) -> None:
    app.register_blueprint(bp)
