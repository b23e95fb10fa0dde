"""Quality of experience, the MPC / Pensieve way, and the other benchmark metrics.

QoE = sum_k ln(R_k / R_min) - sum_k |ln R_k+1 - ln R_k| - ln(R_max / R_min) x (rebuffer seconds
+ startup seconds), reported per segment (divided by the segment count) so profiles of different
lengths compare. A second of stalling costs as much as one segment at the top rung gains over
the bottom one; a second of waiting for the first audio costs the same (mu_s = mu, as in Yin et
al.'s MPC QoE): left out, a player could sleep through a bad start by fetching a huge first
segment for free.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from kithara_cli.abr.sim import SimResult


def qoe_total(
    bitrates: Sequence[int],
    rebuffer_s: float,
    r_min: float,
    r_max: float,
    startup_s: float = 0.0,
) -> float:
    """The summed QoE of one session."""
    quality = sum(math.log(r / r_min) for r in bitrates)
    smooth = sum(abs(math.log(b / a)) for a, b in itertools.pairwise(bitrates))
    return quality - smooth - math.log(r_max / r_min) * (rebuffer_s + startup_s)


def switch_count(variants: Sequence[int]) -> int:
    return sum(1 for a, b in itertools.pairwise(variants) if a != b)


@dataclass(frozen=True)
class Metrics:
    startup_delay_s: float
    rebuffer_count: int
    rebuffer_s: float
    bitrate_bps: float  # time-weighted over the media played
    switches: int
    utilisation: float  # mean chosen bitrate / mean bandwidth offered while downloading
    wasted_bytes: int  # bytes of abandoned fetches
    qoe: float  # per segment
    qoe_total: float
    segments: int


def compute_metrics(result: SimResult, r_min: float, r_max: float) -> Metrics:
    n = len(result.bitrates)
    total = qoe_total(result.bitrates, result.rebuffer_s, r_min, r_max, result.startup_delay_s)
    mean_rate = sum(result.bitrates) / n if n else 0.0
    offered = result.available_bits / result.download_end_s if result.download_end_s > 0 else 0.0
    return Metrics(
        startup_delay_s=result.startup_delay_s,
        rebuffer_count=result.rebuffer_count,
        rebuffer_s=result.rebuffer_s,
        bitrate_bps=mean_rate,
        switches=switch_count(result.variants),
        utilisation=mean_rate / offered if offered > 0 else 0.0,
        wasted_bytes=result.wasted_bytes,
        qoe=total / n if n else 0.0,
        qoe_total=total,
        segments=n,
    )
