"""Health check for people and monitoring scripts."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from . import __version__

bp = Blueprint("status", __name__)


@bp.get("/healthz")
def healthz():
    catalog = current_app.extensions["trainer"].library.catalog
    return jsonify({"status": "ok", "version": __version__, "courses": len(catalog.courses)})


def init_app(app) -> None:
    app.register_blueprint(bp)
