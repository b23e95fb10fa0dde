"""A slow drift, well buffered: step down one rung before BOLA has to, and do not churn back.

Above ``well_buffered_s`` the controller holds its rung: BOLA steps down only once the buffer
has sunk to its switch point. On a link that carries a little less than the rung, the buffer
then drifts down for minutes and the step comes late, with little buffer left for the next
outage (BBA-0, whose map steps down all the way up the buffer, wins such links).

Both thresholds come from rules the controller already has; nothing here is tuned:

* the window is the long average's half-life (``long_half_life_s``, 60 s): the rung must have
  been held that long, so the fall is evidence about this rung and not an earlier one;
* the fall is two segments: a switch costs one segment's quality step, a round trip two. The
  buffer must have fallen that much over the window, be falling still (below the last
  decision's), and the long average must project the same fall (the rung above it by the
  factor that drains two segments a window).

The step is one rung and marks the rung left. A buffer-based climb back to it (unless the long
average sustains it) waits a window at the lower rung, the mirror of the hold above, and then
needs the current estimate to carry it: else every step down would be followed by BOLA's paid
excursion back up within a minute, two switches for nothing.
"""

from __future__ import annotations

from collections import deque

ROUND_TRIP_SEGMENTS = 2.0  # a switch down and back costs two segments' quality step


class DriftGuard:
    """The buffer's recent history and the mark of the last drift step. Pure: times are
    arguments."""

    def __init__(self, window_s: float, fall_s: float) -> None:
        self.window_s = window_s
        self.fall_s = fall_s
        # the rung must exceed the long average by this factor to drain fall_s per window
        self.drain_factor = 1.0 / max(1.0 - fall_s / window_s, 1e-9)
        self._history: deque[tuple[float, float]] = deque()
        self._last_buffer: float | None = None
        self._prev_buffer: float | None = None
        self._mark: tuple[int, float] | None = None  # (position left, when)

    def observe(self, buffer_s: float, now: float) -> None:
        """One decision's buffer level (call before deciding)."""
        self._prev_buffer, self._last_buffer = self._last_buffer, buffer_s
        history = self._history
        history.append((now, buffer_s))
        # keep the newest sample at least a window old, and everything after it
        while len(history) > 1 and history[1][0] <= now - self.window_s:
            history.popleft()

    def should_step_down(
        self,
        pos: int,
        bandwidth: float,
        long_bps: float,
        buffer_s: float,
        now: float,
        last_switch_at: float | None,
    ) -> bool:
        """Step down from ``pos`` (held, in the well-buffered band, interval passed)? Marks it."""
        prev = self._prev_buffer
        if pos == 0 or prev is None or buffer_s >= prev:
            return False
        if bandwidth <= long_bps * self.drain_factor:
            return False
        if last_switch_at is not None and last_switch_at > now - self.window_s:
            return False  # not held for a whole window
        t0, b0 = self._history[0]
        if t0 > now - self.window_s or b0 - buffer_s < self.fall_s:
            return False
        self._mark = (pos, now)
        return True

    def blocks_climb(self, pos: int, now: float, carried: bool) -> bool:
        """Is a buffer-based climb to ``pos`` held back (the long average not sustaining it)?
        ``carried``: the current estimate carries the rung."""
        mark = self._mark
        if mark is None or pos < mark[0]:
            return False
        return now - mark[1] < self.window_s or not carried
