"""Outage memory: give up a fetch early when this session has seen the link stay that low.

The controller's own abandon acts on the fetch under way: it waits while well buffered and
gives up only when this one fetch would run the buffer dry. When the link collapses below
every rung for a minute (a train out of coverage, a broadband line that falls back to its
slow minute), that is too late: the buffer burns on a top-rung segment that lands, and the
next ones stall. What the player could know is that it has been there before: the link stayed
at this rate, earlier in the session, for so many seconds.

So the controller remembers every fetch it completed (when its body ran, at what rate). When
a fetch under way measures rate ``r`` and its rung is not carried at ``r``, each earlier
*episode* at ``r`` (a run of consecutive fetches all at or below ``r / safety``) is a guess
at how long this one lasts. Over those guesses, weighted by their length (a moment falls in a
long episode more often than in a short one), three courses are scored the way the QoE scores
a session (:mod:`kithara_cli.abr.qoe`): keep the fetch, or abandon it for a lower rung, each
followed by bottom-rung segments at ``r`` for the episode's length. A rung scores its utility
``ln(R / R_min)``, less a switch down and back (``2 |ln(R_fetch / R)|``) when it is not the
fetch's own, less ``ln(R_max / R_min)`` per second of stall. The best lower rung replaces the
fetch only if it beats keeping it *and* waiting one rate window would cost stall: while the
buffer can afford it, the controller waits for evidence. No number here is tuned: the rate
margin is the controller's ``safety``, the wait its ``rate_window_s``, the rest is the QoE.

Pure: no clock, no I/O; times are the caller's.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

SWITCH_ROUND_TRIP = 2.0  # an abandon to a lower rung is a switch down and, later, back up


class FetchSpan(NamedTuple):
    """One completed fetch's body: when it ran and at what rate (a thousand are kept)."""

    start: float
    end: float
    bps: float


@dataclass(frozen=True)
class SlowFetch:
    """The fetch under way, as the controller measures it."""

    position: int  # its rung (ladder position)
    rate_bps: float  # its own recent rate
    remaining_s: float  # the rest of its body at that rate
    buffer_s: float


class OutageMemory:
    """The fetches of this session (the newest ``capacity``) and the episodes they make."""

    def __init__(self, capacity: int = 1000) -> None:
        self._spans: deque[FetchSpan] = deque(maxlen=capacity)

    def record(self, start: float, end: float, bps: float) -> None:
        self._spans.append(FetchSpan(start, end, bps))

    def episodes(self, limit_bps: float) -> list[float]:
        """Seconds of each run of consecutive fetches all at or below ``limit_bps``."""
        out: list[float] = []
        start: float | None = None
        end = 0.0
        for span in self._spans:
            if span.bps <= limit_bps:
                if start is None:
                    start = span.start
                end = span.end
            elif start is not None:
                out.append(end - start)
                start = None
        if start is not None:
            out.append(end - start)
        return out


def stall_within(
    buffer_s: float, first_s: float, segment_s: float, bottom_s: float, horizon_s: float
) -> float:
    """Seconds of stall within the next ``horizon_s``: a fetch taking ``first_s``, then
    bottom-rung fetches of ``bottom_s`` each, every one adding ``segment_s`` of media."""
    elapsed = stall = 0.0
    buffer = buffer_s
    took = first_s
    while elapsed < horizon_s:
        # playback runs dry ``buffer`` after the fetch starts and waits for it to land
        stall += max(min(elapsed + took, horizon_s) - (elapsed + buffer), 0.0)
        buffer = max(buffer - took, 0.0) + segment_s
        elapsed += took
        took = bottom_s
    return stall


def outage_abandon(
    bandwidths: Sequence[int],
    segment_s: float,
    ttfb_s: float,
    fetch: SlowFetch,
    episodes: Sequence[float],
    wait_s: float,
) -> int | None:
    """The rung to abandon ``fetch`` for, or None to keep it (see the module docstring)."""
    lengths = [length for length in episodes if length > 0.0]
    if fetch.position == 0 or fetch.rate_bps <= 0.0 or not lengths:
        return None
    total = sum(lengths)
    rate = fetch.rate_bps
    bottom_s = ttfb_s + bandwidths[0] * segment_s / rate
    mu = math.log(bandwidths[-1] / bandwidths[0])

    def utility(pos: int) -> float:
        return math.log(bandwidths[pos] / bandwidths[0])

    def expected_stall(first_s: float, delay_s: float = 0.0) -> float:
        buffer = fetch.buffer_s - delay_s
        return (
            sum(
                length * stall_within(buffer, first_s, segment_s, bottom_s, length - delay_s)
                for length in lengths
            )
            / total
        )

    def whole_s(pos: int) -> float:
        return ttfb_s + bandwidths[pos] * segment_s / rate

    best: int | None = None
    best_score = utility(fetch.position) - mu * expected_stall(fetch.remaining_s)
    for pos in range(fetch.position - 1, -1, -1):
        switch = SWITCH_ROUND_TRIP * (utility(fetch.position) - utility(pos))
        score = utility(pos) - switch - mu * expected_stall(whole_s(pos))
        if score > best_score:
            best, best_score = pos, score
    if best is None:
        return None
    if expected_stall(whole_s(best), wait_s) <= 1e-9:
        return None  # abandoning a rate window later still stalls nowhere: wait for evidence
    return best
