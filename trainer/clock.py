"""Hybrid logical clock: orders last-writer-wins writes, never goes backwards.

An HLC is one integer: wall-clock milliseconds shifted left 16 bits, plus a counter. It is
persisted with every event, so a box that boots with its clock at 1970 still moves forward.
"""

from __future__ import annotations

import time

COUNTER_BITS = 16
WEEK = 7 * 86400 * 1000 << COUNTER_BITS  # a week, as a span of HLC values


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def tick(last: int, wall_ms: int) -> int:
    """The next timestamp for a local event: later than `last`, close to the wall clock."""
    return max(wall_ms << COUNTER_BITS, last + 1)


def receive(last: int, remote: int, wall_ms: int) -> int:
    """The next timestamp after seeing a remote one: later than both."""
    return max(wall_ms << COUNTER_BITS, last + 1, remote + 1)


def to_ms(hlc: int) -> int:
    """The wall-clock part of a timestamp, in milliseconds since 1970."""
    return hlc >> COUNTER_BITS
