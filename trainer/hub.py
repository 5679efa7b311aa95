"""Pages for the hub's coordinators: every site side by side, the boxes and relays, the
quarantine and username collisions; sites, enrolment tokens and revocations."""

from __future__ import annotations

import io
import math
import time
from functools import wraps

import segno
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from . import charts, i18n
from .accounts import role_required
from .db import get_db
from .i18n import lazy_text as _l
from .sync import dashboard as figures
from .sync import enrolment, revocation
from .sync.http import is_hub

bp = Blueprint("hub", __name__, url_prefix="/hub")

# The reasons events.receive gives for setting an event aside, as people read them.
REASONS = {
    "another event is held under this origin and sequence number":
        _l("another event is held under this origin and sequence number"),
    "its id belongs to another event": _l("its id belongs to another event"),
    "signed by a revoked key after its revocation":
        _l("signed by a revoked key after its revocation"),
}


def hub_only(view):
    """404 on a box or a relay: these pages exist on the hub only."""
    @wraps(view)
    def wrapped(**kwargs):
        if not is_hub(get_db()):
            abort(404)
        return view(**kwargs)

    return wrapped


@bp.get("/")
@role_required("coordinator")
@hub_only
def dashboard():
    db = get_db()
    sites = figures.sites(db)
    shown, quarantined = figures.quarantined(db)
    return render_template(
        "hub/dashboard.html", sites=sites, charts=site_charts(sites), nodes=figures.nodes(db),
        quarantine=shown, quarantined=quarantined, collisions=figures.collisions(db),
        reasons=REASONS)


def site_charts(sites: list[figures.Site]) -> list[Markup]:
    """The sites side by side: pass rate (no bar where nothing was marked), completions."""
    return [
        charts.bar_chart(
            _("Pass rate of each site's answers"),
            [(str(site.name), math.nan if site.pass_rate is None else 100 * site.pass_rate)
             for site in sites], chart_id="site-pass-rate"),
        charts.bar_chart(
            _("Courses completed at each site"),
            [(str(site.name), site.completions) for site in sites], unit="",
            maximum=max([site.completions for site in sites] + [1]), chart_id="site-completions"),
    ]


@bp.get("/sites")
@role_required("coordinator")
@hub_only
def sites_page():
    return render_sites({})


def render_sites(form):
    db = get_db()
    return render_template("hub/sites.html", sites=figures.sites(db), form=form)


@bp.post("/sites")
@role_required("coordinator")
@hub_only
def add_site():
    try:
        enrolment.create_site(get_db(), request.form.get("name", ""))
    except enrolment.EnrolmentRefused as error:
        flash(str(error), "error")
        return render_sites(request.form), 400
    flash(_("The site is created. Make a token for each of its boxes."), "success")
    return redirect(url_for("hub.sites_page"))


@bp.post("/sites/<site_id>/tokens")
@role_required("coordinator")
@hub_only
def make_token(site_id: str):
    """The token is shown on this answer only: it is kept nowhere a later page could read."""
    db = get_db()
    name = figures.site_name(db, site_id)
    if name is None:
        abort(404)
    role = request.form.get("role", "")
    made = time.time()
    try:
        token = enrolment.create_token(db, site_id, role, made)
    except enrolment.EnrolmentRefused as error:
        flash(str(error), "error")
        return render_sites({}), 400
    hub_url = request.url_root.rstrip("/")
    response = make_response(render_template(
        "hub/token.html", token=token, site=name, role=role, hub_url=hub_url,
        expires=made + enrolment.TOKEN_DAYS * 86400,
        qr=qr_code(token, _("The enrolment token as a QR code"))))
    response.headers["Cache-Control"] = "no-store"  # not in the browser's cache either
    return response


@bp.post("/nodes/<node_id>/revoke")
@role_required("coordinator")
@hub_only
def revoke(node_id: str):
    db = get_db()
    revoked_at = figures.revoked_at(db, node_id)
    if revoked_at is not None:
        flash(_("%(node)s was revoked already, on %(when)s. Nothing changed.",
                node=node_id[:8], when=seconds_time(revoked_at)), "error")
        return redirect(url_for("hub.dashboard"))
    try:
        revocation.revoke(db, node_id)
    except revocation.RevocationRefused as error:
        flash(str(error), "error")
    else:
        flash(_("%(node)s is revoked: the hub refuses its requests from now on, and every "
                "node sets aside the events it writes after now.", node=node_id[:8]),
              "success")
    return redirect(url_for("hub.dashboard"))


def qr_code(text: str, title: str) -> Markup:
    """`text` as a QR code in inline SVG: dark on white with its quiet zone, sized by the
    stylesheet, named for screen readers by its title."""
    drawn = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        drawn, kind="svg", xmldecl=False, nl=False, omitsize=True, border=4, light="#fff",
        svgclass="qr-code", lineclass=None, title=title)
    return Markup(drawn.getvalue().decode().replace("<svg ", '<svg role="img" ', 1))


def seconds_time(seconds: float) -> str:
    return i18n.date_time(i18n.from_timestamp(seconds))


def node_is_hub() -> bool:
    """For the menu: whether this node is a hub (asked only for coordinators' pages)."""
    return is_hub(get_db())


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(node_is_hub=node_is_hub)
    app.jinja_env.filters.update(ms_time=lambda ms: seconds_time(ms / 1000))
