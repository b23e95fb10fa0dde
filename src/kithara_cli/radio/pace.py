"""Is a live stream arriving fast enough to play? Arrival rate against playback rate.

A live stream never ends, so "slow" cannot mean "outlived a soft timeout" as it does for a
file's request: it means the audio bytes arrive more slowly than playback spends them, and
the buffer will run dry. :class:`PaceJudge` is that decision and nothing else: it is fed
arrivals and asked for a verdict with the stream's byte rate; it does no I/O and reads time
only from the ``now`` it is given (or its injectable clock), so it is tested without sleeping.

The arrival rate is averaged over a sliding ``window`` (a connection is judged only once it
has been up that long: the first seconds are a burst or a ramp). Hysteresis keeps a rate
near the line from flapping: slow once the ratio stays under ``slow_below`` for ``hold``
seconds, recovered once it stays at or over ``recover_at`` for ``hold`` seconds. A stream
held back by our own bounded window (``held_back``: the reader is far behind what came) is
as fast as we let it be, never slow.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PaceConfig:
    window: float = 4.0  # seconds of arrivals averaged
    slow_below: float = 0.9  # arrival / playback under this is slow...
    recover_at: float = 1.0  # ...and at or over this, fast enough again
    hold: float = 1.5  # seconds a ratio must last past its threshold to change the verdict


@dataclass(frozen=True)
class PaceChange:
    """The verdict changed: ``slow`` now (or recovered), at ``ratio`` of the playback rate."""

    slow: bool
    ratio: float
    arrival_bps: float  # bytes per second over the window
    since_connect: float  # seconds since the connection's first byte was expected
    bytes_done: int  # audio bytes on this connection


class PaceJudge:
    def __init__(
        self, config: PaceConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or PaceConfig()
        self.clock = clock
        self.slow = False
        self.ratio: float | None = None  # the last ratio judged (None: not judged yet)
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._in_window = 0
        self._connected = clock()
        self._bytes = 0
        self._past_since: float | None = None  # when the ratio crossed the other threshold

    def connected(self, now: float | None = None) -> None:
        """A new connection: judge it afresh (the verdict stands until it is judged)."""
        self._connected = self.clock() if now is None else now
        self._samples.clear()
        self._in_window = 0
        self._bytes = 0
        self._past_since = None

    def arrived(self, nbytes: int, now: float | None = None) -> None:
        t = self.clock() if now is None else now
        self._samples.append((t, nbytes))
        self._in_window += nbytes
        self._bytes += nbytes

    def _expire(self, now: float) -> None:
        floor = now - self.config.window
        while self._samples and self._samples[0][0] <= floor:
            self._in_window -= self._samples.popleft()[1]

    def arrival_rate(self, now: float | None = None) -> float | None:
        """Bytes per second over the window; None until the connection is a window old."""
        t = self.clock() if now is None else now
        if t - self._connected < self.config.window:
            return None
        self._expire(t)
        return self._in_window / self.config.window

    def judge(
        self, byterate: float | None, *, held_back: bool = False, now: float | None = None
    ) -> PaceChange | None:
        """The change of verdict, if this moment makes one; None when it stands."""
        t = self.clock() if now is None else now
        rate = self.arrival_rate(t)
        if rate is None or not byterate or byterate <= 0:
            self._past_since = None
            return None
        ratio = rate / byterate
        self.ratio = ratio
        cfg = self.config
        crossing = (
            (held_back or ratio >= cfg.recover_at)
            if self.slow
            else (not held_back and ratio < cfg.slow_below)
        )
        if not crossing:
            self._past_since = None
            return None
        if self._past_since is None:
            self._past_since = t
        if t - self._past_since < cfg.hold:
            return None
        self._past_since = None
        self.slow = not self.slow
        return PaceChange(self.slow, ratio, rate, t - self._connected, self._bytes)


def measured_byterate(
    bytes_read: int, seconds_decoded: float, *, least: float = 2.0
) -> float | None:
    """A stream's byte rate from its decoder: bytes it read over the seconds they decoded to
    (for a stream that does not say its bit rate); None until ``least`` seconds decoded."""
    if seconds_decoded < least or bytes_read <= 0:
        return None
    return bytes_read / seconds_decoded
