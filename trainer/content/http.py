"""Course packages over sync (/sync/v1/content/…), served by a hub and by a relay: a signed
request lists the newest package of each course held, with a ticket that lets the node
download the files it lacks. A file is fetched by its SHA-256 with HTTP Range, so a download
cut part-way resumes where it stopped."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..db import get_db
from ..sync import requests
from ..sync.http import MAX_REQUEST_BYTES, refuse, serves_sync, signed_by
from . import package, packages
from .store import Store

bp = Blueprint("content_sync", __name__, url_prefix="/sync/v1/content")
TICKET_SECONDS = 6 * 3600  # long enough for a big course over a slow link


def tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="content-files")


@bp.before_request
def only_where_sync_is_served():
    if not serves_sync(get_db()):
        return refuse(404, "this node does not serve sync")
    return None


@bp.post("")
def offer():
    """The newest package of each course this node holds, and a ticket for its files."""
    db = get_db()
    body = request.get_data(cache=False)
    if len(body) > MAX_REQUEST_BYTES:
        return refuse(413, "the request is too large")
    sender, refused = signed_by(db, body)
    if refused:
        return refused
    return jsonify({"ok": True, "packages": [p.as_json() for p in packages.newest(db).values()],
                    "ticket": tickets().dumps(sender), "nonce": requests.new_nonce(db)})


@bp.get("/files/<sha256>")
def file(sha256: str):
    """One file of a package, by its SHA-256; a Range header resumes a cut download."""
    try:
        holder = tickets().loads(request.args.get("ticket", ""), max_age=TICKET_SECONDS)
    except BadSignature:
        holder = None
    if holder is None or not enrolled(get_db(), holder):  # revoked since: refused at once
        return refuse(401, "this download needs a fresh ticket from a signed request")
    if not package.SHA256.match(sha256):
        return refuse(404, "no such file")
    path = Store(Path(current_app.instance_path)).blob(sha256)
    if not path.is_file():
        return refuse(404, "no such file")
    response = send_file(path, mimetype="application/octet-stream", conditional=True,
                         etag=sha256, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def enrolled(db, node_id) -> bool:
    """Whether the node a ticket was made for still holds a certificate not revoked."""
    return db.execute("SELECT 1 FROM certificate WHERE node_id = ? AND revoked_at IS NULL",
                      [str(node_id)]).fetchone() is not None


def init_app(app) -> None:
    app.register_blueprint(bp)
