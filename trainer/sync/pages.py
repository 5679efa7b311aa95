"""The coordinator's sync page: enrol with a hub, sync now and watch it go, see what is still
waiting and what went wrong, and carry results by USB stick (or as a download and an upload,
when the stick is in the coordinator's phone or laptop rather than in the box)."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
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
from ..content import fetch
from ..db import get_db
from . import client, enrolment, service

bp = Blueprint("sync_pages", __name__, url_prefix="/coordinate/sync")
CLOCK_TOLERANCE_MS = 5 * 60 * 1000


def schedule():
    return current_app.extensions["trainer"].sync


@bp.get("/")
@role_required("coordinator")
def page():
    db = get_db()
    recent = service.recent_syncs(db, 50)  # the table shows 10; the last success may be older
    return render_template(
        "coordinate/sync.html", hub=enrolment.enrolled(db), status=schedule().status,
        role=db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0],
        pending=service.pending(db), recent=recent[:10], sticks=sticks.mounted(),
        clock_hours=_clock_hours(service.clock_offset_ms(db)),
        last_ok=next((item for item in recent if item["ok"] and item["way"] == "online"),
                     None))


def _clock_hours(offset_ms: int | None) -> float | None:
    """The box's clock error in hours when it is more than a few minutes (None otherwise):
    results still sync, but dates shown on the box are wrong."""
    if offset_ms is None or abs(offset_ms) < CLOCK_TOLERANCE_MS:
        return None
    return round(offset_ms / 3_600_000, 1)


@bp.post("/now")
@role_required("coordinator")
def sync_now():
    if enrolment.enrolled(get_db()) is None:
        flash(_("This box is not enrolled with a hub yet: enrol it first."), "error")
        return redirect(url_for("sync_pages.page"))
    schedule().now()
    flash(_("Sync started. This page shows how it goes."), "success")
    return redirect(url_for("sync_pages.page"))


@bp.post("/enrol")
@role_required("coordinator")
def enrol():
    db = get_db()
    hub_url = request.form.get("hub_url", "").strip()
    token = request.form.get("token", "").strip()
    if not hub_url.startswith(("http://", "https://")):
        flash(_("Give the hub's address, starting with http:// or https://."), "error")
        return redirect(url_for("sync_pages.page"))
    try:
        certificate = service.enrol_online(db, hub_url, token)
    except (enrolment.EnrolmentRefused, client.HubUnreachable) as error:
        flash(_("The box is not enrolled: %(reason)s", reason=error), "error")
        return redirect(url_for("sync_pages.page"))
    flash(_("Enrolled with the hub as a %(role)s. It syncs by itself from now on.",
            role=certificate["role"]), "success")
    schedule().now()
    return redirect(url_for("sync_pages.page"))


@bp.post("/export")
@role_required("coordinator")
def export():
    db = get_db()
    if request.form.get("target") == "download":
        return _download(db)
    folder = Path(request.form.get("folder", "").strip() or "/nonexistent")
    if not folder.is_absolute() or not folder.is_dir():
        flash(_("There is no folder %(folder)s on the box. Is the stick plugged in?",
                folder=folder), "error")
        return redirect(url_for("sync_pages.page"))
    try:
        made = service.export_for_hub(db, folder, fetch.of_app(current_app))
    except OSError as error:
        flash(_("Cannot write to %(folder)s: %(reason)s", folder=folder,
                reason=error.strerror or error), "error")
    else:
        flash(_("Bundle written to %(folder)s. Take the stick to the hub, or to a relay.",
                folder=made), "success")
    return redirect(url_for("sync_pages.page"))


def _download(db):
    """The bundle as one .tar file, for a stick in another device."""
    return sticks.tar_download(
        lambda work: service.export_for_hub(db, work, fetch.of_app(current_app)))


@bp.post("/import")
@role_required("coordinator")
def import_():
    with sticks.chosen_folder("bundle") as folder:
        if folder is None:
            return redirect(url_for("sync_pages.page"))
        reports = service.import_from(get_db(), folder)
    if not reports:
        flash(_("No trainer bundle was found there."), "error")
    for report in reports:
        if report.refused:
            flash(f"{report.bundle}: {report.refused}", "error")
            continue
        done = report.imported
        flash(_("%(bundle)s: %(new)d new events, %(known)d already here, %(aside)d set aside.",
                bundle=report.bundle, new=done.inserted, known=done.duplicates,
                aside=done.quarantined), "error" if done.refused_chunks else "success")
        for reason in done.refused_chunks:
            flash(f"{report.bundle}: {reason}", "error")
    return redirect(url_for("sync_pages.page"))


@bp.errorhandler(service.Busy)
def busy(_error):
    """Another sync of this node holds the lock (the schedule, or the command line)."""
    flash(_("A sync is running. Try again when it has finished."), "error")
    return redirect(url_for("sync_pages.page"))


def init_app(app) -> None:
    app.register_blueprint(bp)
    security.allow_large_body("sync_pages.import_", sticks.LARGEST_UPLOAD)
