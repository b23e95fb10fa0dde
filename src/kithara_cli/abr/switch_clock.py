"""When the next switch may come: the minimum interval, counted in media while well buffered,
and a buffer-based climb that waits for where the buffer is heading.

The interval (``min_switch_interval_s``, 5 s) is a QoE break-even: a switch costs one
segment's quality step, so a move and back pays only after 2.5 segments at the new rung. That
is a count of segments. Measured in wall seconds, it stretches while the buffer fills: segments
then land several times faster than they play, and 5 wall seconds can be 15 segments held on a
rung the estimate and the buffer have left behind. So while well buffered (where a wrong move
cannot stall) the interval counts the media fetched since the last switch, segments x their
duration. Below that, the wall clock keeps it (a thin buffer needs the time, not the count).

Counted in media, a filling buffer would walk BOLA's pick up one rung per 2.5 segments. A
staircase 0 -> 2 -> 4 costs the QoE no more than one switch 0 -> 4 but counts two switches, so
two rules take the staircase out, both from the rules already there (nothing tuned):

* a climb right after a climb needs the wall interval as well (:meth:`SwitchClock.passed`);
* a buffer-based climb waits while BOLA would pick a higher rung still at the buffer the next
  interval leaves, the buffer projected at the rate the estimate heads for
  (:func:`climb_waits`): one switch to where the buffer is going.

Dev set, six segment-size draws (issue 20, BENCHMARKS.md session 15): QoE 0.888 -> 0.894, best
or within 2 % of the best 75 -> 76 % of traces, 5.12 -> 5.10 switches per 100 segments
(throughput-only 5.16); the six original traces 1.375 -> 1.388, no synthetic profile lower.
The media count alone gained as much but switched 5.66 times per 100 segments.
Pure and clock-free: every time is an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SwitchClock:
    """The last switch of the rung that plays: when (wall), after how many segments, which way."""

    interval_s: float
    segment_duration: float
    at: float | None = None
    segments_at: int = 0
    climbed: bool = False

    def start(self, now: float, segments_done: int, climbed: bool) -> None:
        """A switch of the rung that plays (``climbed``: to a higher one) at ``now``."""
        self.at, self.segments_at, self.climbed = now, segments_done, climbed

    def passed(self, now: float, segments_done: int, well_buffered: bool, climb: bool) -> bool:
        """Has the interval passed for a switch (``climb``: an up-switch)? Wall seconds below
        well buffered; media fetched since the last switch at or above; both for a climb
        right after a climb."""
        if self.at is None:
            return True
        wall = now - self.at >= self.interval_s
        if not well_buffered:
            return wall
        media = (segments_done - self.segments_at) * self.segment_duration >= self.interval_s
        return media and (wall or not (climb and self.climbed))


def climb_waits(
    pick: Callable[[float], int],
    target_bps: float,
    target: int,
    buffer_s: float,
    rate_bps: float,
    ttfb_s: float,
    segment_duration: float,
    interval_s: float,
    full_buffer_s: float,
) -> bool:
    """Should a buffer-based climb to ``target`` wait? Yes when the buffer, fetching that rung
    at ``rate_bps`` for one switch interval, grows to a level where ``pick`` (BOLA's up-pick
    for a buffer level) names a higher rung: the next decision would climb again. Never at a
    full buffer (``full_buffer_s``): the player idles there, bandwidth goes spare."""
    if buffer_s >= full_buffer_s:
        return False
    fetch_s = ttfb_s + target_bps * segment_duration / max(rate_bps, 1.0)
    segments = interval_s / segment_duration
    ahead = min(buffer_s + segments * (segment_duration - fetch_s), full_buffer_s)
    return ahead > buffer_s and pick(ahead) > target
