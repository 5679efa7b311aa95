"""Pages travel gzipped: on a box's shared Wi-Fi, bytes on the air decide how fast pages come.

A 20 KB lesson page becomes about 6 KB, for about half a millisecond of a Raspberry Pi's time.
The stylesheets are compressed once and kept (browsers then cache them for a year); course
media and streamed responses pass untouched.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from flask import request

COMPRESSED_TYPES = {"text/html", "text/css", "text/csv", "text/plain", "application/json",
                    "image/svg+xml"}
SMALLEST = 1024  # below this, gzip's own header costs more than it saves
LEVEL = 6


def compress(response):
    if response.status_code in (206, 304):  # the answer depends on Accept-Encoding too
        response.vary.add("Accept-Encoding")
        return response
    if (response.status_code != 200 or response.mimetype not in COMPRESSED_TYPES
            or "Content-Encoding" in response.headers
            or not request.accept_encodings["gzip"]):
        return response
    if response.direct_passthrough:  # a file from disk: only the app's own static files
        if request.endpoint != "static":
            return response
        response.direct_passthrough = False
        body = _static_gzip(request.path, response.get_etag()[0], response.get_data())
        response.set_data(body)
    elif response.is_streamed:
        return response
    else:
        body = response.get_data()
        if len(body) < SMALLEST:
            return response
        response.set_data(gzip.compress(body, LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers.pop("Accept-Ranges", None)  # ranges of the plain file would not fit
    etag, weak = response.get_etag()
    if etag:  # the gzipped bytes are another representation: never the plain file's tag
        response.set_etag(f"{etag}-gzip", weak)
    return response


@lru_cache(maxsize=16)
def _static_gzip(path: str, etag: str | None, body: bytes) -> bytes:
    return gzip.compress(body, 9, mtime=0)


def init_app(app) -> None:
    app.after_request(compress)
