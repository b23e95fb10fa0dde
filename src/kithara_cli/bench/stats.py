"""The arithmetic of sound numbers: min/median/max of repeated runs, and paired A/B ratios.

Kept free of I/O so that it is tested directly (``tests/test_bench.py``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Repeated measurements of one quantity."""

    runs: int
    min: float
    median: float
    max: float
    values: tuple[float, ...]

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the runs were (0 for one run)."""
        if self.runs < 2 or self.median == 0:
            return 0.0
        return (self.max - self.min) / abs(self.median)


def summarize(values: Sequence[float]) -> Summary:
    """min / median / max of ``values`` (at least one)."""
    if not values:
        raise ValueError("summarize() needs at least one value")
    vals = tuple(float(v) for v in values)
    return Summary(
        runs=len(vals),
        min=min(vals),
        median=statistics.median(vals),
        max=max(vals),
        values=vals,
    )


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """``numerators[i] / denominators[i]`` pair by pair.

    The pairs come from alternating runs (A B A B ...), so a slow patch of the machine slows
    both members of a pair and cancels out of their ratio; the median of these ratios is
    therefore steadier than the ratio of the two medians. Pairs with a zero denominator are
    dropped. Lengths must match.
    """
    if len(numerators) != len(denominators):
        raise ValueError(
            f"paired_ratios needs pairs: {len(numerators)} vs {len(denominators)} values"
        )
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d != 0]


def pair_summary(numerators: Sequence[float], denominators: Sequence[float]) -> Summary | None:
    """Summary of :func:`paired_ratios`; None when no usable pair exists."""
    ratios = paired_ratios(numerators, denominators)
    return summarize(ratios) if ratios else None
