"""Pacing of response bodies: rate schedules and shared send timelines.

A :class:`Pacer` hands out consecutive send slots on one virtual timeline, so every connection
that shares a pacer shares its rate, and turns come round in request order (fair by
construction). Slots are computed from absolute times, so late wake-ups do not accumulate into
a slower rate.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

# How far behind "now" a timeline may run and still continue from where it was. Without it
# every late wake-up of ``asyncio.sleep`` (about a millisecond) would be lost and throttled
# rates would drift low.
PACER_SLACK_S = 0.05

MIN_SLICE = 256
MAX_SLICE = 256 * 1024
SLICES_PER_SECOND = 50


class RateSchedule:
    """Bytes per second as a step function of time, starting at ``t0``; the last step holds."""

    def __init__(self, steps: Sequence[tuple[float, float]], t0: float) -> None:
        if not steps:
            raise ValueError("a rate schedule needs at least one step")
        self._steps = [(float(d), float(r)) for d, r in steps]
        self.t0 = t0

    @classmethod
    def constant(cls, rate: float) -> RateSchedule:
        return cls([(math.inf, rate)], 0.0)

    def _bounds(self) -> list[tuple[float, float, float]]:
        """(start, end, rate) of each step in absolute time; the last step never ends."""
        out: list[tuple[float, float, float]] = []
        t = self.t0
        last = len(self._steps) - 1
        for i, (dur, rate) in enumerate(self._steps):
            end = math.inf if i == last else t + dur
            out.append((t, end, rate))
            t = end
        return out

    def rate_at(self, t: float) -> float:
        for _, end, rate in self._bounds():
            if t < end:
                return rate
        return self._steps[-1][1]

    def finish_time(self, start: float, nbytes: int) -> float:
        """The time by which ``nbytes`` sent from ``start`` at this schedule's rate are out."""
        t = max(start, self.t0)
        remaining = float(nbytes)
        if remaining <= 0:
            return t
        for _, end, rate in self._bounds():
            if t >= end:
                continue
            if rate <= 0:
                if end == math.inf:
                    return math.inf
                t = end
                continue
            if end == math.inf or (end - t) * rate >= remaining:
                return t + remaining / rate
            remaining -= (end - t) * rate
            t = end
        return math.inf  # unreachable: the last step is unbounded


class Pacer:
    """One shared send timeline at the rate of a :class:`RateSchedule`."""

    def __init__(self, schedule: RateSchedule) -> None:
        self.schedule = schedule
        self._next = -math.inf

    def reserve(self, nbytes: int, now: float) -> float:
        """Book ``nbytes`` after everything booked before; return when they may have been sent."""
        # A timeline that fell behind by less than the slack keeps its cadence (absorbing late
        # wake-ups); one left idle longer restarts now, so idleness never turns into a burst.
        start = self._next if self._next >= now - PACER_SLACK_S else now
        end = self.schedule.finish_time(start, nbytes)
        self._next = end
        return end


def slice_size(rate: float | None) -> int:
    """Write size for a paced body: about 1/50 s of data, so turns interleave finely.

    Below MIN_SLICE bytes/s, a second's worth: a 1 byte/s trickle sends a byte a second.
    """
    if rate is None or rate <= 0:
        return 16 * 1024
    floor = min(MIN_SLICE, max(1, int(rate)))
    return int(min(MAX_SLICE, max(floor, rate / SLICES_PER_SECOND)))


async def sleep_until(deadline: float, now: float) -> None:
    """Sleep until ``deadline`` (monotonic); an infinite deadline sleeps until cancelled."""
    if deadline == math.inf:
        await asyncio.Event().wait()
    delay = deadline - now
    if delay > 0:
        await asyncio.sleep(delay)
