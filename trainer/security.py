"""What every response needs for safety: CSRF tokens on forms, and security headers."""

from __future__ import annotations

import base64
import hmac
import secrets

from flask import abort, request, session
from markupsafe import Markup

CSRF_FIELD = "csrf_token"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",  # trainer ships no JavaScript, so none may run
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _session_token() -> bytes:
    """This session's secret token; made on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD].encode()


def csrf_token() -> str:
    """The session's token, masked afresh for each form: a page never shows the same bytes
    twice, so compressed pages cannot leak it (the BREACH attack) over HTTPS."""
    token = _session_token()
    mask = secrets.token_bytes(len(token))
    # One XOR of two integers, not a loop over bytes: a lesson page masks it six times or more.
    masked = (int.from_bytes(token) ^ int.from_bytes(mask)).to_bytes(len(token))
    return base64.urlsafe_b64encode(mask + masked).decode()


def unmasked(sent: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(sent.encode())
    except (ValueError, UnicodeEncodeError):
        return b""
    half = len(raw) // 2
    return bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=False))


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


LARGE_BODIES: dict[str, int] = {}  # endpoint -> bytes it takes (more than MAX_CONTENT_LENGTH)


def allow_large_body(endpoint: str, size: int) -> None:
    """Let one form take a bigger body than the app's cap (a bundle uploaded from a stick)."""
    LARGE_BODIES[endpoint] = size


def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint in LARGE_BODIES:  # before the form is read
        request.max_content_length = LARGE_BODIES[request.endpoint]
    if request.routing_exception is not None:
        return  # a 404 or 405 that routing will answer
    if request.path.startswith("/sync/"):
        return  # nodes sign their requests; no cookie, so nothing to forge
    sent = unmasked(request.form.get(CSRF_FIELD, ""))
    expected = session.get(CSRF_FIELD, "").encode()
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


# Course media: shown, never run. A sandbox gives an SVG or PDF opened on its own no access
# to the box's pages or cookies; and no other site may frame it, like any page of the box.
MEDIA_POLICY = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; "
                "frame-ancestors 'none'")


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app) -> None:
    app.before_request(check_csrf)
    app.after_request(add_headers)
    app.jinja_env.globals.update(csrf_field=csrf_field)
