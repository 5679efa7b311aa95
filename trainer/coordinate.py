"""Pages for coordinators (and trainers, where they share the need)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from flask import (
    Blueprint,
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

from . import accounts, backup, box, queries
from .accounts import STAFF, role_required
from .courses.catalog import type_changes
from .db import get_db
from .i18n import available_languages

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")


@bp.get("/problems")
@role_required(*STAFF)
def problems():
    catalog = current_app.extensions["trainer"].library.catalog
    found = catalog.problems + type_changes(catalog, queries.answered_types(get_db()))
    ordered = sorted(found, key=lambda p: (not p.is_error, str(p.path), p.line))
    return render_template("coordinate/problems.html", problems=ordered,
                           loaded=catalog.ordered())


@bp.route("/box", methods=["GET", "POST"])
@role_required("coordinator")
def box_page():
    db = get_db()
    languages = available_languages()
    if request.method == "GET":
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
    return render_template("coordinate/groups.html", groups=queries.groups(db), form=form,
                           trainers=[u for u in people if u.is_staff and u.active],
                           learners=[u for u in people if u.role == "learner"],
                           names={u.id: u.name for u in people},
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


def backup_time(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def init_app(app) -> None:
    app.jinja_env.filters["backup_time"] = backup_time
    app.register_blueprint(bp)
