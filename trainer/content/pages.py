"""The Courses page of a node (/coordinate/courses/): which version of each course runs here
and where it came from. On the hub, trainers and coordinators publish a course as a new
version, see every version published and which version every box runs; on a box or relay, a
coordinator installs a content pack from a USB stick or an upload."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from .. import security, sticks
from ..accounts import role_required
from ..db import get_db
from ..sync import dashboard
from ..sync import pages as sync_pages
from ..sync.http import is_hub
from ..sync.service import Busy
from . import fetch, pack, packages

bp = Blueprint("content_pages", __name__, url_prefix="/coordinate/courses")


def library():
    return current_app.extensions["trainer"].library


@bp.get("/")
@role_required("trainer", "coordinator")
def page():
    db = get_db()
    catalog = library().catalog
    active = packages.active(db)
    published = packages.held(db)
    hub = is_hub(db)
    newest = packages.newest(db)
    running = packages.running_by_node(db)
    nodes = [node for node in dashboard.nodes(db) if node.revoked_at is None] if hub else []
    return render_template(
        "coordinate/courses.html", hub=hub, courses=catalog.ordered(), active=active,
        published=published, newest=newest, sticks=sticks.mounted(), nodes=nodes, running=running,
        course_ids=sorted({*catalog.courses, *newest}))


@bp.post("/publish")
@role_required("trainer", "coordinator")
def publish():
    db = get_db()
    if not is_hub(db):
        abort(404)
    course = library().catalog.courses.get(request.form.get("course_id", ""))
    if course is None:
        flash(_("There is no such course."), "error")
        return redirect(url_for("content_pages.page"))
    try:
        signed, new = packages.publish(db, Path(current_app.instance_path), course.path)
    except packages.PublishRefused as error:
        flash(_("%(course)s is not published: %(reason)s", course=course.title, reason=error),
              "error")
        for problem in error.problems:
            flash(str(problem), "error")
        return redirect(url_for("content_pages.page"))
    if new:
        flash(_("%(course)s %(version)s is published. Boxes take it at their next sync.",
                course=course.title, version=signed.version), "success")
    else:
        flash(_("%(course)s %(version)s was published already, with the same files.",
                course=course.title, version=signed.version), "success")
    return redirect(url_for("content_pages.page"))


@bp.get("/pack/<course_id>/<version>.tar")
@role_required("trainer", "coordinator")
def download(course_id: str, version: str):
    """One package as a content pack in a .tar, for a stick in another device."""
    signed = packages.find(get_db(), course_id, version)
    if signed is None:
        abort(404)
    return sticks.tar_download(
        lambda work: pack.write(Path(current_app.instance_path), work, [signed]),
        f"{course_id}-{version}.tar")


@bp.post("/import")
@role_required("coordinator")
def import_():
    courses = fetch.of_app(current_app)
    with sticks.chosen_folder("pack") as path:
        if path is None:
            return redirect(url_for("content_pages.page"))
        done = pack.import_packs(get_db(), courses.home, path, courses.running)
    if not done.reports:
        flash(_("No course package was found there."), "error")
    for report in done.reports:
        if report.installed:
            flash(_("Installed %(package)s. Learners see it now.", package=report.name),
                  "success")
        elif report.current:
            flash(_("%(package)s runs here already.", package=report.name), "success")
        else:
            flash(_("%(package)s was not installed: %(reason)s", package=report.name,
                    reason=report.message), "error")
    if done.installed:
        courses.changed()
    return redirect(url_for("content_pages.page"))


# A sync of this node is running (it may be installing an update itself): the Sync page
# says so, and shows it going.
bp.register_error_handler(Busy, sync_pages.busy)


def init_app(app) -> None:
    app.register_blueprint(bp)
    security.allow_large_body("content_pages.import_", sticks.LARGEST_UPLOAD)
