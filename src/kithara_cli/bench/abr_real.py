"""The ABR's real tier: the whole player against a loopback server whose bandwidth follows a
profile over time, in real time (the simulator's profiles, compressed into ``seconds``).

The simulator judges the controller alone; this judges the controller inside the real player:
downloader events feeding the estimator, LoadSlow and abandons cancelling real requests,
variant switches in the byte stream, a paced null sink draining the ring.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kithara_cli.abr.profiles import AUDIO_LADDER, SYNTHETIC_PROFILES
from kithara_cli.events import EventBus
from kithara_cli.events.types import (
    AbrDecision,
    Event,
    PlaybackStarted,
    RebufferEnded,
    RebufferStarted,
    RequestCancelled,
    SegmentLoaded,
)

SEGMENT_SECONDS = 2.0


@dataclass(frozen=True)
class RealTierResult:
    profile: str
    seconds: float
    startup_s: float
    rebuffers: int
    rebuffer_s: float
    switches: int
    mean_kbps: float
    qoe_per_segment: float
    abandons: int


def _ladder(seconds: float) -> Path:
    from kithara_cli.media.cache import cached_ladder

    ladder = cached_ladder(
        f"abr-real-{int(seconds)}s",
        seconds,
        bitrates=AUDIO_LADDER,
        segment_seconds=SEGMENT_SECONDS,
    )
    return ladder.master


def run_profile(name: str, seconds: float = 60.0, seed: int = 1) -> RealTierResult:
    """Play ``seconds`` of the ladder while the server follows profile ``name``."""
    from kithara_cli.dl import Downloader
    from kithara_cli.play import Player, PlayerSettings
    from kithara_cli.server import Faults, MediaServer

    trace = SYNTHETIC_PROFILES[name](seed)
    # The whole profile's shape, compressed into ``seconds`` of playback (a 300 s profile in
    # 60 s changes 5x faster: the controller's reaction time counts for more, not less).
    squeeze = seconds / trace.duration_s
    steps = [(p.duration_s * squeeze, p.bps / 8) for p in trace.periods]
    steps.append((3600.0, trace.periods[-1].bps / 8))
    master = _ladder(seconds + 10)
    bus = EventBus()
    seen: list[Event] = []
    lock = threading.Lock()

    def keep(event: Event) -> None:
        if isinstance(
            event,
            AbrDecision
            | PlaybackStarted
            | RebufferStarted
            | RebufferEnded
            | SegmentLoaded
            | RequestCancelled,
        ):
            with lock:
                seen.append(event)

    bus.subscribe(keep)
    with MediaServer(master.parent) as server:
        server.set_faults("*.ts", Faults(bandwidth_profile=steps, latency=0.05))
        with Downloader(bus, max_concurrent=4) as dl:
            player = Player(bus, PlayerSettings(output="null", buffer=2.0, length=seconds), dl)
            opened = time.monotonic()
            player.open(server.url(master.name))
            player.wait(seconds * 3 + 30)
            player.close()
    return _metrics(name, seconds, opened, seen)


def _metrics(name: str, seconds: float, opened: float, seen: list[Event]) -> RealTierResult:
    started = next((e for e in seen if isinstance(e, PlaybackStarted)), None)
    startup = (started.ts - opened) if started else math.inf
    rebuffer_s = sum(e.duration for e in seen if isinstance(e, RebufferEnded))
    rebuffers = sum(1 for e in seen if isinstance(e, RebufferStarted))
    switches = sum(
        1
        for e in seen
        if isinstance(e, AbrDecision)
        and e.from_variant is not None
        and e.from_variant != e.to_variant
    )
    # The ladder's variant indices are in AUDIO_LADDER order (the master lists them so).
    rates = [
        AUDIO_LADDER[min(e.variant, len(AUDIO_LADDER) - 1)]
        for e in seen
        if isinstance(e, SegmentLoaded)
    ]
    rates = rates[: int(seconds / SEGMENT_SECONDS) + 1] or [AUDIO_LADDER[0]]
    r_min, r_max = AUDIO_LADDER[0], AUDIO_LADDER[-1]
    quality = sum(math.log(r / r_min) for r in rates)
    smooth = sum(abs(math.log(b / a)) for a, b in itertools.pairwise(rates))
    qoe = (quality - smooth - math.log(r_max / r_min) * rebuffer_s) / len(rates)
    abandons = sum(1 for e in seen if isinstance(e, RequestCancelled) and e.reason == "abandon")
    return RealTierResult(
        profile=name,
        seconds=seconds,
        startup_s=startup,
        rebuffers=rebuffers,
        rebuffer_s=rebuffer_s,
        switches=switches,
        mean_kbps=sum(rates) / len(rates) / 1000,
        qoe_per_segment=qoe,
        abandons=abandons,
    )


def run_real_tier(
    profiles: tuple[str, ...] = ("steady", "step_down", "step_up", "oscillating", "outage"),
    seconds: float = 60.0,
    seed: int = 1,
) -> list[RealTierResult]:
    return [run_profile(name, seconds, seed) for name in profiles]


if __name__ == "__main__":
    import sys

    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    names = tuple(sys.argv[2:]) or ("steady", "step_down")
    for result in run_real_tier(names, secs):
        print(result)
