"""A rung's rate replaced while playing, the ladder's order kept.

An audio rendition the master gives no rate for enters the ladder at its video variant's
BANDWIDTH (2-8 Mbit/s for 64-256 kbit/s of audio); once its segments have been fetched, the
HLS layer knows what it costs (``hls.rerate``) and the controller judges it by that. Positions
are the controller's state (its current rung, BOLA's thresholds, the drift guard's rung), so
the ladder keeps its order: a rate that would pass the rung below's is raised to it. Raising
is the safe side: a rung judged dearer than it is costs quality, one judged cheaper stalls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from kithara_cli.abr.decision import VariantInfo

__all__ = ["rerated"]


def rerated(
    by_index: Mapping[int, VariantInfo], ladder: Sequence[VariantInfo], rates: Mapping[int, int]
) -> tuple[dict[int, VariantInfo], list[VariantInfo]]:
    """Every variant with its new rate (``rates``: index -> bit/s, others kept), and the auto
    ladder in its order, each rung at least the one below."""
    every = {
        i: replace(v, bandwidth=rates[i]) if rates.get(i, 0) > 0 else v for i, v in by_index.items()
    }
    out: list[VariantInfo] = []
    for rung in ladder:
        bps = every[rung.index].bandwidth
        out.append(replace(rung, bandwidth=max(bps, out[-1].bandwidth) if out else bps))
    return every, out
