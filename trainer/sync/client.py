"""Talking to a hub over HTTP, with the standard library only (no Flask here)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

TIMEOUT = 30


class HubUnreachable(OSError):
    """The hub did not answer, or answered with an error; the message says which."""


def post_json(url: str, body: dict, timeout: float = TIMEOUT) -> dict:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error", error.reason)
        except ValueError:
            message = error.reason
        raise HubUnreachable(f"{message} ({error.code})") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise HubUnreachable(f"no answer from {url}: {reason}") from None
