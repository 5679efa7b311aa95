"""Talking to a hub over HTTP, with the standard library only (no Flask here)."""

from __future__ import annotations

import base64
import http.client
import json
import queue
import threading
import time
import urllib.error
import urllib.request

TIMEOUT = 30


class HubUnreachable(OSError):
    """The hub did not answer, or answered with an error; the message says which."""


def post_json(url: str, body: dict, timeout: float = TIMEOUT) -> dict:
    return post(url, json.dumps(body).encode(), {"Content-Type": "application/json"}, timeout)


def post(url: str, data: bytes, headers: dict, timeout: float = TIMEOUT) -> dict:
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            message = error.reason
        raise HubUnreachable(f"{message} ({error.code})") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        # (a link that drops before or in the middle of the answer lands here too)
        reason = getattr(error, "reason", None) or error or type(error).__name__
        raise HubUnreachable(f"no answer from {url}: {reason}") from None


def hello(hub_url: str, body: dict) -> dict:
    """Say who we are and what we hold; the answer has the hub's version vector, its epoch
    (origin), its clock, a nonce and its revocation list."""
    return post_json(hub_url.rstrip("/") + "/sync/v1/hello", body)


def push(hub_url: str, node_id: str, seed_hex: str, hub_vv: dict[str, int], nonce: str,
         chunks_for, sign, on_chunk=None) -> dict:
    """Send the hub what it lacks, chunk by chunk, each acknowledged by the hub's new version
    vector; `chunks_for(hub_vv)` gives the chunks, `sign(...)` the headers of a request,
    `on_chunk(answer)` hears of each acknowledgement. Returns the totals and the last nonce.
    An interrupted push costs nothing: the next one starts from what the hub holds."""
    base = hub_url.rstrip("/") + "/sync/v1"
    sent = {"chunks": 0, "inserted": 0, "duplicates": 0}
    for chunk in ahead(chunks_for(hub_vv)):
        path = "/sync/v1/events"
        headers = {"Content-Type": "application/gzip",
                   **sign(seed_hex, node_id, "POST", path, chunk, nonce)}
        answer = post(base + "/events", chunk, headers)
        nonce = answer["nonce"]
        sent["chunks"] += 1
        sent["inserted"] += answer["inserted"]
        sent["duplicates"] += answer["duplicates"]
        if on_chunk:
            on_chunk(answer)
    return {**sent, "nonce": nonce}


def ahead(items, depth: int = 2):
    """The items of an iterator, made in a thread up to `depth` ahead of their use: the next
    chunk is encoded while the hub stores the one before. The thread ends with the loop,
    however it ends."""
    made: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in items:
                if not offer(item):
                    return
            offer(end)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            offer(error)
        finally:
            getattr(items, "close", lambda: None)()  # (a generator's own cleanup runs now)

    worker = threading.Thread(target=produce, name="chunks", daemon=True)
    worker.start()
    try:
        while (item := made.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def pull(hub_url: str, node_id: str, seed_hex: str, nonce: str, vv, take,
         sign) -> tuple[int, str]:
    """Fetch, chunk by chunk, the events of this node's site that it lacks: `vv()` says what
    it holds now (and what was sent already: each pull asks past the one before, so it never
    loops), `take(answer)` stores the answer's chunk and says how many events were new.
    Stops when the hub has no more; returns how many were new, and the next nonce."""
    base = hub_url.rstrip("/") + "/sync/v1"
    taken = 0
    while True:
        body = json.dumps({"vv": vv(), "clock": time.time_ns() // 1_000_000}).encode()
        headers = {"Content-Type": "application/json",
                   **sign(seed_hex, node_id, "POST", "/sync/v1/pull", body, nonce)}
        answer = post(base + "/pull", body, headers)
        nonce = answer["nonce"]
        answer["chunk"] = base64.b64decode(answer["chunk"])
        new = take(answer) if answer["chunk"] else 0
        taken += new
        if not answer["more"] or not answer["chunk"]:
            return taken, nonce
