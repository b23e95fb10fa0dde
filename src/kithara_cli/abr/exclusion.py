"""Variants sitting out after a failed segment: which, until when, and what to use instead."""

from __future__ import annotations

import math
from collections.abc import Sequence


class Exclusions:
    """A variant whose segment failed after its retries sits out ``duration_s`` (shaka's
    streaming.maxDisabledTime): the next segments do not each pay the retries. Pure: times
    are arguments."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self._until: dict[int, float] = {}

    def __bool__(self) -> bool:
        return bool(self._until)

    def exclude(self, variant: int, now: float) -> bool:
        """Leave ``variant`` out from ``now``; False when it was already out."""
        was_out = self._until.get(variant, -math.inf) > now
        self._until[variant] = now + self.duration_s
        return not was_out

    def excluded(self, now: float) -> list[int]:
        """The variants sitting out at ``now``."""
        return sorted(v for v, until in self._until.items() if until > now)

    def usable(self, ladder: Sequence[int], position: int, index: int, now: float) -> int:
        """``index`` (at ``position`` in ``ladder``, the allowed variants lowest first), or
        while it sits out the nearest one below it (else above) that does not; ``index``
        itself when every one sits out."""
        until = self._until
        if until.get(index, -math.inf) <= now:
            return index
        for p in [*range(position - 1, -1, -1), *range(position + 1, len(ladder))]:
            if until.get(ladder[p], -math.inf) <= now:
                return ladder[p]
        return index
