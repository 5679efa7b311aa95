"""One error page for people, one JSON error shape for programs; never a traceback."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError

JSON_PREFIXES = ("/healthz", "/sync/")


def messages() -> dict[int, str]:
    return {
        400: _("Something in that request was not right. Go back and try again."),
        403: _("This page is not for your account."),
        404: _("There is no page at this address."),
        405: _("This page cannot be used that way."),
        413: _("That file is too large."),
        429: _("Too many tries. Wait a few minutes, then try again."),
        500: _("Something went wrong on the box. Try again; if it happens again, tell "
               "your coordinator."),
    }


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def handle_http_error(error: HTTPException):
    code = error.code or 500
    if code == 400 and error.description == "csrf":
        message = _("This form was open too long or came from another page. "
                    "Please try again.")
    else:
        message = messages().get(code, error.name)
    if wants_json():
        return jsonify({"ok": False, "error": message, "status": code}), code
    return render_template("error.html", code=code, message=message), code


def handle_unexpected(error: Exception):
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
