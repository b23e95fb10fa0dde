"""BOLA (the buffer-based rule of Spiteri et al.) as the controller uses it above the throughput
rule's region: the score argmax, with its two knobs set from buffer levels."""

from __future__ import annotations

import math
from collections.abc import Sequence


class _Bola:
    """BOLA's score argmax, with its two knobs set from buffer levels rather than by hand.

    Utilities are u_i = ln(b_i / b_0); BOLA picks argmax (V (u_i + gp) - Q) / b_i. The switch
    point between rungs a < b is Q = V (gp + c_ab), c_ab = (b_b u_a - b_a u_b) / (b_b - b_a);
    solving for the first switch at ``low_s`` and the last at ``high_s`` gives gp and V.
    """

    def __init__(self, bandwidths: Sequence[int], low_s: float, high_s: float) -> None:
        # The controller hands a strictly rising ladder; clamp anyway so that a zero or
        # repeated rate can never divide by zero or take the log of zero here.
        rates: list[float] = []
        for b in bandwidths:
            rates.append(max(float(b), rates[-1] * (1 + 1e-6) if rates else 1.0))
        self._rel = [r / rates[0] for r in rates]
        self._u = [math.log(r) for r in self._rel]
        self._low = low_s
        self._high = high_s
        n = len(bandwidths)
        self._gp = 0.0
        self._v = 0.0
        if n >= 3:
            c_first = self._c(0, 1)
            c_last = self._c(n - 2, n - 1)
            span = max(high_s - low_s, 1e-6)
            self._gp = (low_s * c_last - high_s * c_first) / span
            self._v = low_s / max(self._gp + c_first, 1e-9)
        self._thresholds = self._scan_thresholds()

    def _c(self, a: int, b: int) -> float:
        ra, rb, ua, ub = self._rel[a], self._rel[b], self._u[a], self._u[b]
        if rb <= ra:  # cannot happen after the clamp above; never divide by zero
            return ua
        return (rb * ua - ra * ub) / (rb - ra)

    def threshold(self, pos: int) -> float:
        """The buffer level from which BOLA picks ``pos`` or higher (0 for the lowest)."""
        if pos <= 0:
            return 0.0
        if pos >= len(self._thresholds) + 1:
            return math.inf
        return self._thresholds[pos - 1]

    def _scan_thresholds(self) -> list[float]:
        n = len(self._rel)
        out: list[float] = []
        for pos in range(1, n):
            lo, hi = 0.0, 1000.0
            for _ in range(40):  # the pick is monotonic in the buffer: bisect
                mid = (lo + hi) / 2
                if self.pick(mid) >= pos:
                    hi = mid
                else:
                    lo = mid
            out.append(hi)
        return out

    def pick(self, buffer_s: float) -> int:
        """Position (0 = lowest) in the ladder given to the constructor."""
        n = len(self._rel)
        if n == 1:
            return 0
        if n == 2:
            return 1 if buffer_s >= (self._low + self._high) / 2 else 0
        best, best_score = 0, -math.inf
        for i in range(n):
            score = (self._v * (self._u[i] + self._gp) - buffer_s) / self._rel[i]
            if score > best_score:
                best, best_score = i, score
        if best_score < 0:  # BOLA would wait; the player's max buffer already does that
            return n - 1
        return best
