"""Baseline for load.py: one Flask route with a fixed HTML page, served by waitress."""

from __future__ import annotations

import argparse

import waitress
from flask import Flask

PARAGRAPH = ("<p>A directional antenna focuses the radio energy in one direction, so a link "
             "between two roofs can reach further with the same transmit power.</p>\n")


def fixed_page(size: int) -> str:
    """An HTML page of about `size` bytes."""
    head = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" \
           "<title>Bare page</title></head><body><main>\n"
    tail = "</main></body></html>\n"
    repeats = max(1, (size - len(head) - len(tail)) // len(PARAGRAPH))
    return head + PARAGRAPH * repeats + tail


def create_app(size: int) -> Flask:
    """A Flask app whose only route answers the fixed page."""
    app = Flask(__name__)
    page = fixed_page(size)

    @app.get("/")
    def index():
        return page

    return app


def main() -> None:
    """Serve the bare page with waitress, like `trainer serve` does."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--size", type=int, default=11000, help="page size in bytes")
    args = parser.parse_args()
    try:
        waitress.serve(create_app(args.size), host=args.host, port=args.port,
                       threads=args.threads, _quiet=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
