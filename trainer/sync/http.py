"""The hub's sync endpoints (/sync/v1/…): JSON in, JSON out, errors in the one JSON shape.
They authenticate by tokens and signatures, never by cookies, so CSRF does not apply."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..db import get_db
from . import enrolment

bp = Blueprint("sync", __name__, url_prefix="/sync/v1")
MAX_REQUEST_BYTES = 64 * 1024


def refuse(status: int, message) -> tuple:
    return jsonify({"ok": False, "error": str(message), "status": status}), status


def is_hub(db) -> bool:
    return db.execute("SELECT role FROM node WHERE id = 1").fetchone()[0] == "hub"


@bp.post("/enrol")
def enrol():
    db = get_db()
    if not is_hub(db):
        return refuse(404, "this node is not a hub")
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return refuse(413, "the enrolment request is too large")
    body = request.get_json(silent=True)
    try:
        answer = enrolment.accept(db, body)
    except enrolment.EnrolmentRefused as error:
        return refuse(403 if body is not None else 400, error)
    return jsonify({"ok": True, **answer})


def init_app(app) -> None:
    app.register_blueprint(bp)
