"""How fast the running body arrives, and so how far ahead of it a read is worth waiting for.

A read a little past what the running request has written is cheaper to wait for than to
serve with a new request (a round trip, and the old body's bytes between are left for later).
How little is a question of time, not bytes: on loopback 256 KB is ~1 RTT of data, but on a
40 KB/s link it is six seconds of a seek waiting while a request from the target would take
one round trip. So the span waited for is what the body brings in ``NEAR_SECONDS`` at the
rate it has been arriving, within [``NEAR_FLOOR``, ``NEAR_AHEAD``] (the floor: ffmpeg's
short-seek threshold; before any rate is measured: ``NEAR_AHEAD``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

NEAR_AHEAD = 256 * 1024
NEAR_SECONDS = 0.5
NEAR_FLOOR = 32 * 1024
RATE_AFTER = 0.25  # seconds of a body before the rate it arrives at is believed


class BodyRate:
    """The arrival rate of the running body (``arrived``), kept across ``restart`` (a new
    request on the same link arrives at much the same rate)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rate: float | None = None  # bytes/s, once measured
        self._t0: float | None = None
        self._bytes = 0

    def restart(self) -> None:
        """A new body: its first bytes start the clock (they came after the round trip)."""
        self._t0, self._bytes = None, 0

    def arrived(self, size: int) -> None:
        now = self.clock()
        if self._t0 is None:
            self._t0 = now
            return
        self._bytes += size
        elapsed = now - self._t0
        if elapsed >= RATE_AFTER:
            self.rate = self._bytes / elapsed

    def near(self) -> int:
        """How many bytes past the body's frontier a read waits for it."""
        rate = self.rate
        if rate is None:
            return NEAR_AHEAD
        return int(min(NEAR_AHEAD, max(NEAR_FLOOR, rate * NEAR_SECONDS)))
