"""``kithara play --demo``: a generated HLS ladder on loopback, behind a scripted network.

Unthrottled, loopback is so fast that the ABR starts on the top variant and stays there: the
one thing kithara does that its peers do not (switching while playing, reacting to LoadSlow)
would never show. So the server's segments follow a bandwidth profile over time, and the
dashboard's caption says which phase is being simulated now.

The ladder is 64k/128k/256k AAC in 2 s TS segments. In the default profile (``story``) the
dip (100 kbit/s) is below the top variant's 256 kbit/s: its segments take over the
downloader's 2 s soft timeout (LoadSlow), and the ABR has to switch down; the outage is
short enough for the buffer built up before it to ride out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEMO_SECONDS = 60.0
DEMO_BITRATES = (64_000, 128_000, 256_000)
DEMO_SEGMENT_SECONDS = 2.0
DEFAULT_PROFILE = "story"


@dataclass(frozen=True)
class Phase:
    """``seconds`` of ``kbit`` kbit/s (0: an outage), described by ``caption``."""

    seconds: float
    kbit: float
    caption: str


@dataclass(frozen=True)
class DemoProfile:
    name: str
    summary: str
    phases: tuple[Phase, ...]  # the last one holds for ever

    def steps(self) -> list[tuple[float, float]]:
        """The server's ``bandwidth_profile``: (seconds, bytes per second)."""
        return [(p.seconds, p.kbit * 1000.0 / 8.0) for p in self.phases]

    def phase_at(self, elapsed: float) -> Phase:
        t = 0.0
        for phase in self.phases:
            t += phase.seconds
            if elapsed < t:
                return phase
        return self.phases[-1]


def _fast(seconds: float, what: str = "fast", kbit: float = 600.0) -> Phase:
    return Phase(seconds, kbit, f"network: {what} ({kbit:g} kbit/s)")


PROFILES: dict[str, DemoProfile] = {
    p.name: p
    for p in (
        DemoProfile(
            "story",
            "fast, a dip to 100 kbit/s (switch down, LoadSlow), recovery, a 3 s outage",
            (
                _fast(2.0, kbit=1500.0),  # a quick first sound, then the story
                _fast(4.0),
                Phase(12.0, 100.0, "network: dip to 100 kbit/s (less than any variant needs)"),
                _fast(8.0, "recovered", 800.0),
                Phase(3.0, 0.0, "network: outage (nothing gets through)"),
                _fast(1e9, "back", 800.0),
            ),
        ),
        DemoProfile("fast", "1 Mbit/s throughout", (_fast(1e9, kbit=1000.0),)),
        DemoProfile(
            "slow",
            "170 kbit/s throughout: only the lowest variant keeps up",
            (Phase(1e9, 170.0, "network: slow (170 kbit/s)"),),
        ),
        DemoProfile(
            "flaky",
            "500 / 150 kbit/s, 8 s each: the ABR follows the swings",
            tuple(
                Phase(8.0, kbit, f"network: {what} ({kbit:g} kbit/s)")
                for _ in range(8)
                for kbit, what in ((500.0, "good"), (150.0, "poor"))
            ),
        ),
    )
}


def profile_names() -> str:
    """For --help: each profile's name and what it simulates."""
    return "; ".join(f"{p.name}: {p.summary}" for p in PROFILES.values())


def get_profile(name: str) -> DemoProfile:
    from kithara_cli.errors import UsageError

    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown --demo-profile {name!r}: choose from {', '.join(PROFILES)}"
        ) from None


@dataclass
class Demo:
    """A running demo: where to point the player, and the caption for the dashboard."""

    url: str
    profile: DemoProfile
    started_at: float
    clock: Callable[[], float] = time.monotonic

    def caption(self) -> str:
        return self.profile.phase_at(self.clock() - self.started_at).caption


def demo_ladder_master() -> str:
    """The demo's ladder (built once, then cached): its master playlist's path."""
    from kithara_cli.media.cache import cached_ladder

    name = f"demo-story-{DEMO_SECONDS:g}s-64k-128k-256k-ts-2s"
    ladder = cached_ladder(
        name, DEMO_SECONDS, bitrates=DEMO_BITRATES, segment_seconds=DEMO_SEGMENT_SECONDS
    )
    return str(ladder.master)


@contextlib.contextmanager
def demo_server(profile: DemoProfile) -> Iterator[Demo]:
    """Serve the ladder on loopback; its segments follow ``profile`` from now on."""
    from pathlib import Path

    from kithara_cli.server import Faults, MediaServer

    master = Path(demo_ladder_master())
    with MediaServer(master.parent) as server:
        server.set_faults("*.ts", Faults(bandwidth_profile=profile.steps()))
        started = time.monotonic()  # the route's profile started a moment ago: same clock
        yield Demo(server.url(master.name), profile, started)
