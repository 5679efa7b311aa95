"""Public pages: the health check, and checking a certificate's code."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from . import __version__, certificates
from .db import get_db
from .learn import library, localized_catalog

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok", "version": __version__,
                    "courses": len(library().catalog.courses)})


@bp.get("/verify")
def verify_form():
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("status.verify", code=code))
    return render_template("verify.html", code="", found=None, checked=False)


@bp.get("/verify/<code>")
def verify(code: str):
    found = certificates.find_by_code(get_db(), current_app.config["SECRET_KEY"], code[:40])
    course = localized_catalog().courses.get(found["course_id"]) if found else None
    return render_template("verify.html", code=code[:40], found=found, course=course,
                           checked=True), 200 if found else 404


def init_app(app) -> None:
    app.register_blueprint(bp)
