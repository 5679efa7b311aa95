"""The hub's xAPI page: which LRS statements go to, how many went, what waits, what the LRS
refused and why, and "Forward now"."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..accounts import role_required
from ..config import ConfigError
from ..db import get_db
from ..hub import hub_only
from ..i18n import lazy_text as _l
from . import forward, service

bp = Blueprint("xapi", __name__, url_prefix="/hub/xapi")

# The reasons forwarding gives for holding a statement back, as people read them.
REASONS = {forward.CLASH: _l("the LRS holds another statement under this id"),
           forward.UNWRITABLE: _l("this event cannot be written as a statement")}


def reason(error: str) -> str:
    """Why a statement was set aside, in the reader's language when the words are ours (the
    LRS's own are shown as it wrote them)."""
    ours, _, detail = error.partition(": ")
    if error in REASONS or ours in REASONS:
        return str(REASONS[error]) if error in REASONS else f"{REASONS[ours]}: {detail}"
    return error


def forwarder() -> service.Forwarder:
    return current_app.extensions["trainer"].xapi


@bp.get("/")
@role_required("coordinator")
@hub_only
def status():
    return render_template("hub/xapi.html", view=service.overview(get_db(), current_app.config),
                           forwarding=forwarder().status, reason=reason)


@bp.post("/forward")
@role_required("coordinator")
@hub_only
def forward_now():
    if forward.Lrs.from_config(current_app.config) is None:
        flash(_("No LRS is set: set LRS_URL in the hub's settings first."), "error")
    else:
        forwarder().now()
        flash(_("Forwarding started. This page shows how it goes."), "success")
    return redirect(url_for("xapi.status"))


def check_settings(config) -> None:
    """The xAPI settings are usable, or a clear ConfigError at start."""
    for key, may_be_empty in (("XAPI_BASE", False), ("LRS_URL", True)):
        value = str(config.get(key) or "").strip().rstrip("/")
        parts = urlsplit(value)
        if not (value or may_be_empty) or value and not (
                parts.scheme in ("http", "https") and parts.netloc):
            raise ConfigError(f"TRAINER_{key}={value!r}: expected an absolute http:// or "
                              "https:// address")
        if parts.username or parts.password:  # it would be shown with the address
            raise ConfigError(f"TRAINER_{key}: give the credentials in TRAINER_LRS_USERNAME "
                              "and TRAINER_LRS_PASSWORD, not in the address")
        config[key] = value
    if int(config.get("LRS_BATCH_SIZE") or 0) < 1:
        raise ConfigError("TRAINER_LRS_BATCH_SIZE: expected 1 or more")


def init_app(app) -> None:
    check_settings(app.config)
    app.extensions["trainer"].xapi = service.Forwarder(app)
    app.register_blueprint(bp)
