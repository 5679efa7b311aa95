"""trainer: an offline-first training platform for technical skills."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import Flask

__version__ = "0.1.0"


def create_app(config: dict | None = None) -> Flask:
    """The single entry point: build a configured app for one instance folder."""
    from . import (
        auth,
        compression,
        coordinate,
        db,
        errors,
        hub,
        i18n,
        learn,
        search,
        security,
        status,
        teach,
        templating,
    )
    from . import config as settings
    from .content import http as content_http
    from .content import packages
    from .content import pages as content_pages
    from .courses.library import CourseLibrary
    from .sync import http as sync_http
    from .sync import pages as sync_pages
    from .xapi import pages as xapi_pages

    values = settings.resolve(config)
    app = Flask(__name__, instance_path=values["TRAINER_HOME"], instance_relative_config=True)
    app.config.update(values)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.secret_key(Path(app.instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="trainer_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=app.config["SESSION_DAYS"]),
        SESSION_REFRESH_EACH_REQUEST=False,  # expiry is kept on the server, in sessions
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=365),  # static URLs carry a version
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,  # a 2 MB learner list, sent back once as base64
    )
    app.extensions["trainer"] = SimpleNamespace()
    db.init_app(app)
    pool, home = app.extensions["trainer"].pool, Path(app.instance_path)
    app.extensions["trainer"].library = CourseLibrary(
        Path(app.config["COURSES_DIR"]), app.config["COURSE_RELOAD_SECONDS"],
        url_for_media=learn.media_url,
        installed=lambda: packages.installed_folders(pool.get(), home),
    )
    for module in (templating, i18n, security, compression, errors, auth, learn, teach,
                   coordinate, hub, status, search, sync_http, sync_pages, content_http,
                   content_pages, xapi_pages):
        module.init_app(app)
    templating.load_macros(app)
    return app
