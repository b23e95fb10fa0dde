"""``kithara play --demo``: a generated HLS ladder on loopback, behind a scripted network.

Unthrottled, loopback is so fast that the ABR starts on the top variant and stays there: the
one thing kithara does that its peers do not (switching while playing, reacting to LoadSlow)
would never show. So the server's segments follow a bandwidth profile over time, and the
dashboard's caption says which phase is being simulated now.

The ladder is 64k/128k/256k AAC in 2 s TS segments. In the default profile (``story``) the
dip (100 kbit/s) is below the top variant's 256 kbit/s: its segments take over the
downloader's 2 s soft timeout (LoadSlow), and the ABR has to switch down; the outage is
short enough for the buffer built up before it to ride out.

First audio is quick because nothing on its way waits for the story: the first segments of
each variant come at loopback speed (``WARM_SEGMENTS``), and the server starts on a
background thread behind a socket that already listens (``prestart``, called by the CLI
before the player's modules load), so its imports overlap the player's. The story's buffer
before the dip is then what the 600 kbit/s opening builds (~8-10 s): under the ABR's 12 s
"well buffered" line, so it must switch down, and enough to come through the dip without a
stall.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kithara_cli.server import MediaServer

DEMO_SECONDS = 60.0
DEMO_BITRATES = (64_000, 128_000, 256_000)
DEMO_SEGMENT_SECONDS = 2.0
DEFAULT_PROFILE = "story"
LADDER_NAME = f"demo-story-{DEMO_SECONDS:g}s-64k-128k-256k-ts-2s"
MASTER_NAME = "master.m3u8"  # media.ladder's MASTER_NAME (a test holds them equal)
# The first segments of every variant come at loopback speed, whatever the profile: the
# demo is about switching while playing, and a first sound that waits on the simulated
# network only made it slow to start (the story's first segment took 0.7 s).
WARM_SEGMENTS = 2


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
                _fast(7.0),
                Phase(9.0, 100.0, "network: dip to 100 kbit/s (less than any variant needs)"),
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
    started_at: float  # when the profile's first phase began (the server's clock)
    clock: Callable[[], float] = time.monotonic

    def caption(self) -> str:
        return self.profile.phase_at(self.clock() - self.started_at).caption


def demo_ladder_dir() -> Path:
    """The demo's ladder directory: found by a ``stat`` when cached (no PyAV, no numpy),
    built (seconds, once per user; ``scripts/quickstart.sh play`` does it before kithara
    starts, so the first-audio figure is about playing) when not."""
    from kithara_cli.media.cache import cached_path

    found = cached_path(LADDER_NAME)
    if found is not None:
        return found
    from kithara_cli.ui.console import print_note

    print_note("building the demo's media (a generated HLS ladder): once, a few seconds")
    # Built on a thread and waited on in slices: on the main thread, Ctrl-C (whose handler
    # only sets a flag, ``interrupt``) was noticed once the build had finished, seconds
    # later. A build cut short leaves its temp folder, swept by the next one.
    import concurrent.futures
    import threading

    from kithara_cli import interrupt

    built: concurrent.futures.Future[str] = concurrent.futures.Future()

    def build() -> None:
        try:
            built.set_result(demo_ladder_master())
        except BaseException as exc:  # handed to the waiting thread, raised there
            built.set_exception(exc)

    threading.Thread(target=build, name="kithara-demo-build", daemon=True).start()
    return Path(interrupt.result(built)).parent


def demo_ladder_master() -> str:
    """The demo's ladder (built once, then cached): its master playlist's path."""
    from kithara_cli.media.cache import cached_ladder

    ladder = cached_ladder(
        LADDER_NAME, DEMO_SECONDS, bitrates=DEMO_BITRATES, segment_seconds=DEMO_SEGMENT_SECONDS
    )
    return str(ladder.master)


class _Starting:
    """The demo's server, starting on a background thread behind a socket that already listens.

    The URL is known (and connections queue in the socket's backlog) before aiohttp is even
    imported, so the player loads and opens meanwhile: the server's ~0.2 s of imports and
    start-up overlap the player's instead of preceding them.
    """

    def __init__(self, root: Path, profile: DemoProfile) -> None:
        # Loaded on this thread first, not by both at once: the player needs them too, and a
        # package whose modules import each other, loaded by two threads together, can
        # deadlock (the server's own modules and aiohttp's are the other thread's alone).
        import asyncio  # noqa: F401
        import concurrent.futures  # noqa: F401

        self.profile = profile
        self.sock = socket.create_server(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        self.demo = Demo(f"http://127.0.0.1:{port}/{MASTER_NAME}", profile, time.monotonic())
        self.server: MediaServer | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(root,), name="kithara-demo-server", daemon=True
        )
        self._thread.start()

    def _run(self, root: Path) -> None:
        try:
            from kithara_cli.server import Faults, MediaServer

            server = MediaServer(root, sock=self.sock)
            # Set before start (which starts the profile's clock): nothing goes out unshaped.
            server.set_faults("*.ts", Faults(bandwidth_profile=self.profile.steps()))
            for index in range(WARM_SEGMENTS):  # segment names: media.ladder's <name>_%05d.ts
                server.set_faults(f"*_{index:05d}.ts", Faults())
            self.server = server.start()
            self.demo.started_at = time.monotonic()  # the profile started a moment ago
        except BaseException as exc:  # reported by stop(); the player sees a refused connection
            self.error = exc
            self.sock.close()

    def stop(self) -> None:
        self._thread.join()
        if self.server is not None:
            self.server.stop()
        self.sock.close()
        if self.error is not None:
            raise self.error


_pending: _Starting | None = None


def prestart(profile_name: str) -> None:
    """Start serving the demo now, in the background: ``kithara play`` calls this before its
    heavy imports when it is going to play the demo. A profile that does not exist, or a
    ladder not built yet, waits for :func:`demo_server` (which reports or builds it)."""
    global _pending
    profile = PROFILES.get(profile_name)
    if _pending is not None or profile is None:
        return
    from kithara_cli.media.cache import cached_path

    root = cached_path(LADDER_NAME)
    if root is not None:
        _pending = _Starting(root, profile)


@contextlib.contextmanager
def demo_server(profile: DemoProfile) -> Iterator[Demo]:
    """Serve the ladder on loopback; its segments follow ``profile`` from the server's start.

    Yields at once: the server may still be starting (see :class:`_Starting`).
    """
    global _pending
    starting, _pending = _pending, None
    if starting is not None and starting.profile != profile:
        starting.stop()
        starting = None
    if starting is None:
        starting = _Starting(demo_ladder_dir(), profile)
    try:
        yield starting.demo
    finally:
        starting.stop()
