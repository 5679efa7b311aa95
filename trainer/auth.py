"""Signing in, signing out and registering."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from . import accounts, box, i18n
from .db import get_db

bp = Blueprint("auth", __name__)
PICKED_LANGUAGE = "picked_language"  # in the session: chosen from the menu while signed out


def safe_next(target: str | None) -> str:
    """Only a plain path on this box: never another site, however the URL is dressed up."""
    home = url_for("learn.home")
    if not target or not target.startswith("/") or "\\" in target:
        return home
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return home  # browsers drop tabs and newlines: "/\t/evil" would become "//evil"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return home
    return target


def limiter() -> accounts.SignInLimiter:
    return current_app.extensions["trainer"].signin_limiter


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method != "POST":  # GET or HEAD: show the form, change nothing
        return render_template("auth/login.html", username="")
    username = accounts.normalise_username(request.form.get("username", ""))
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    if limiter().blocked(username, address):
        flash(_("Too many failed tries. Wait a few minutes, then try again."), "error")
        return render_template("auth/login.html", username=username), 429
    db = get_db()
    user = accounts.authenticate(db, username, password)
    if user is None:
        limiter().failed(username, address)
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", username=username), 401
    limiter().succeeded(username)
    # A language picked from the menu on this visit, before signing in, is their latest
    # choice: it becomes their own. (A cookie left by someone else on a shared phone is not.)
    picked = session.get(PICKED_LANGUAGE)
    accounts.start_session(db, user)
    if picked in i18n.available_languages() and picked != user.language:
        accounts.set_language(db, user, picked)
    response = redirect(safe_next(request.args.get("next")))
    if picked or user.language:  # kept after signing out, on this phone
        i18n.remember_language(response, picked or user.language)
    return response


@bp.post("/language")
def choose_language():
    """The language menu: remembered in a cookie, and in the account when signed in."""
    language = request.form.get("language", "")
    target = safe_next(request.form.get("next"))
    if language not in i18n.available_languages():
        flash(_("Choose one of the languages in the list."), "error")
        return redirect(target)
    if g.user is None:
        session[PICKED_LANGUAGE] = language  # adopted by the account that signs in next
    elif g.user.language != language:
        accounts.set_language(get_db(), g.user, language)
    response = redirect(target)
    i18n.remember_language(response, language)
    return response


@bp.post("/logout")
def logout():
    accounts.end_session(get_db())
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if not g.box["self_registration"]:
        abort(404)
    form = {k: request.form.get(k, "") for k in ("username", "display_name")}
    if request.method != "POST":  # GET or HEAD: show the form, change nothing
        return render_template("auth/register.html", form=form)
    db = get_db()
    password = request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        flash(_("The two passwords are not the same."), "error")
        return render_template("auth/register.html", form=form), 400
    try:
        user_id = accounts.create_user(db, form["username"], password, "learner",
                                       form["display_name"])
    except accounts.AccountError as error:
        flash(str(error), "error")
        return render_template("auth/register.html", form=form), 400
    user = accounts.find_by_id(db, user_id)
    accounts.start_session(db, user)
    picked = request.cookies.get(i18n.LANGUAGE_COOKIE)
    if picked in i18n.available_languages():
        accounts.set_language(db, user, picked)  # the language they registered in is theirs
    flash(_("Welcome! Your account is ready."), "info")
    current_app.logger.info("learner %s registered", user_id)
    return redirect(url_for("learn.home"))


def load_user() -> None:
    if request.endpoint == "static":
        return
    db = get_db()
    g.box = box.box_settings(db)
    g.user = accounts.load_signed_in_user(db)


def page_context() -> dict:
    """The signed-in user and the box settings, handed to templates once per render."""
    return {"user": g.get("user"), "box": g.get("box") or box.DEFAULTS}


def init_app(app) -> None:
    app.context_processor(page_context)
    app.extensions["trainer"].signin_limiter = accounts.SignInLimiter(
        app.config["SIGNIN_MAX_FAILURES"], app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"],
        app.config["SIGNIN_WINDOW_SECONDS"])
    app.before_request(load_user)
    app.register_blueprint(bp)
