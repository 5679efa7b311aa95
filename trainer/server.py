"""Running the production server (waitress) in a way that suits a small box."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import signal
import sys

import waitress

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameter numbers
MMAP_THRESHOLD = 128 * 1024
ARENAS = 2  # glibc's default is 8 per core, each keeping freed blocks of its own threads
MAX_BODY = 64 * 1024 * 1024  # waitress refuses bigger bodies before the app reads them
# Each phone's browser keeps its connection open between pages: waitress's default of 100
# would leave the 101st learner of a class waiting until someone's connection times out.
# 500 stays well under the 1024 open files a service gets by default (and select()'s limit).
CONNECTION_LIMIT = 500


def return_large_blocks_to_the_system() -> bool:
    """Pin glibc's mmap threshold, so big buffers (scrypt's 16 MB) go back to the system when
    freed. Left dynamic, glibc raises the threshold after the first such buffer and keeps every
    later one in a per-thread arena: ~130 MB after a few sign-ins instead of ~50 MB. And share
    two arenas among the server's threads: each arena of its own held ~1 MB more under load
    (bench/load.py: peak RSS 3 MB lower with 4 threads). Call before the threads start."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                    and libc.mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False


def serve(app, host: str, port: int, threads: int) -> None:
    # A few requests waiting for a thread is what a class's load looks like on a small box,
    # not a warning: waitress would log a line for each one, holding its task queue's lock.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    gc.collect()
    gc.freeze()  # start-up objects (catalog, templates) are never collected: skip them
    # SIGTERM (systemd, kill) ends the server as Ctrl+C does: waitress lets the requests under
    # way finish, and the search index's child process stops with it instead of running on.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="trainer",
                       clear_untrusted_proxy_headers=True, max_request_body_size=MAX_BODY,
                       connection_limit=CONNECTION_LIMIT, _quiet=True)
    finally:
        app.extensions["trainer"].search.close()
