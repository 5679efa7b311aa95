"""Baselines for the benchmarks, served by waitress: a fixed HTML page (load.py) and a POST
that makes one durable SQLite insert, WAL and synchronous=FULL like trainer (quiz_answers.py)."""

from __future__ import annotations

import argparse
import sqlite3
import threading

import waitress
from flask import Flask, request

PARAGRAPH = ("<p>A directional antenna focuses the radio energy in one direction, so a link "
             "between two roofs can reach further with the same transmit power.</p>\n")
CONNECTION_LIMIT = 500  # as trainer serve sets it (trainer/server.py); waitress's default is 100


def fixed_page(size: int) -> str:
    """An HTML page of about `size` bytes."""
    head = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" \
           "<title>Bare page</title></head><body><main>\n"
    tail = "</main></body></html>\n"
    repeats = max(1, (size - len(head) - len(tail)) // len(PARAGRAPH))
    return head + PARAGRAPH * repeats + tail


def durable_connection(path: str) -> sqlite3.Connection:
    """A connection set up as trainer's are: WAL, synchronous=FULL."""
    connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE IF NOT EXISTS answer (id INTEGER PRIMARY KEY, body TEXT)")
    return connection


def create_app(size: int, database: str | None = None) -> Flask:
    """A Flask app that answers the fixed page, and with a database, POST /answer."""
    app = Flask(__name__)
    page = fixed_page(size)
    local = threading.local()

    @app.get("/")
    def index():
        return page

    @app.post("/answer")
    def answer():
        if not hasattr(local, "db"):
            local.db = durable_connection(database)
        with local.db:  # one transaction, committed (and synced) before the reply
            local.db.execute("INSERT INTO answer (body) VALUES (?)", [str(dict(request.form))])
        return "", 303, {"Location": "/"}

    return app


def main() -> None:
    """Serve the bare page with waitress, like `trainer serve` does."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--size", type=int, default=11000, help="page size in bytes")
    parser.add_argument("--database", help="SQLite file for POST /answer")
    args = parser.parse_args()
    try:
        waitress.serve(create_app(args.size, args.database), host=args.host, port=args.port,
                       threads=args.threads, connection_limit=CONNECTION_LIMIT, _quiet=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
