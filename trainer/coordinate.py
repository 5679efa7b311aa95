"""Pages for coordinators (and trainers, where they share the need)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from . import queries
from .accounts import STAFF, role_required
from .courses.catalog import type_changes
from .db import get_db

bp = Blueprint("coordinate", __name__, url_prefix="/coordinate")


@bp.get("/problems")
@role_required(*STAFF)
def problems():
    catalog = current_app.extensions["trainer"].library.catalog
    found = catalog.problems + type_changes(catalog, queries.answered_types(get_db()))
    ordered = sorted(found, key=lambda p: (not p.is_error, str(p.path), p.line))
    return render_template("coordinate/problems.html", problems=ordered,
                           loaded=catalog.ordered())


def init_app(app) -> None:
    app.register_blueprint(bp)
