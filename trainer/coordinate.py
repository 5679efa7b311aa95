"""Pages for coordinators (and trainers, where they share the need)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .accounts import STAFF, role_required

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")


@bp.get("/problems")
@role_required(*STAFF)
def problems():
    catalog = current_app.extensions["trainer"].library.catalog
    ordered = sorted(catalog.problems, key=lambda p: (not p.is_error, str(p.path), p.line))
    return render_template("coordinate/problems.html", problems=ordered,
                           loaded=catalog.ordered())


def init_app(app) -> None:
    app.register_blueprint(bp)
