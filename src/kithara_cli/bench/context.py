"""What every scenario runs in: the settings of a run (quick, full, tiny), the context
(temp dir, peers, cached media, budget, log) and the loopback server over a media folder.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from kithara_cli.bench.peers import Peers
from kithara_cli.bench.runner import (
    Budget,
    ProcResult,
    child_env,
    run_process,
)

T = TypeVar("T")

MB = 1_000_000
TINY_ENV = "KITHARA_BENCH_TINY"

LADDER_BITRATES = (64_000, 128_000, 256_000)
FULL_LADDER_SECONDS = 600.0
FULL_LADDER_SEGMENTS = 301

HLS_TARGETS = {0.0: 0.6, 0.05: 1.5}
"""Issue 7: the 10-minute, 301-segment ladder fetched in <= 0.6 s at 0 ms, <= 1.5 s at 50 ms."""
HLS_STARTUP_ALLOWANCE = 0.3
"""The part of an HLS target that does not scale with the segment count (process start-up)."""
THROTTLE_RATE = 2_000_000
SEEK_LATENCY = 0.05
SEEK_PROGRESSIVE_RATE = 256_000
"""Per-connection rate for the progressive seek: slow enough that far positions are never
downloaded before the seek asks for them (the seek must be uncached), fast enough to play."""
SEEK_FRACTIONS = (0.85, 0.2, 0.65, 0.4, 0.95, 0.1, 0.75, 0.3, 0.5, 0.9)
SEEK_WARMUP_FRACTION = 0.55
SEEK_DWELL = 0.3

CPU_TARGET = 0.10
RSS_TARGET_MB = 150.0
DASHBOARD_TARGET = 0.03


COVER_ART_BYTES = 1_000_000  # a 3000 px podcast cover (Apple asks for 1400-3000 px)


class Unavailable(Exception):
    """The scenario cannot run here (a function not yet in kithara, a missing data set)."""


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    mode: str  # "full" | "quick" | "tiny"
    runs: int
    progressive_mb: int
    throttled_mb: int
    ladder_seconds: float
    mp3_seconds: float
    hls_peers: tuple[str, ...]
    cpu_seconds: float
    cpu_rounds: int
    dashboard_seconds: float
    dashboard_runs: int
    seeks: int
    single_connection_cases: bool
    decode_speed: bool
    cap: float
    timeout: float
    seek_timeout: float = 10.0
    total: float | None = None
    """Quick modes: seconds for all scenarios together; each scenario's cap is its share of
    what is left (weighted by :attr:`Scenario.weight`), so a slow machine runs fewer rounds
    instead of running over."""

    @property
    def quick(self) -> bool:
        return self.mode != "full"

    def describe(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def make_settings(quick: bool, runs: int, tiny: bool | None = None) -> Settings:
    if tiny is None:
        tiny = os.environ.get(TINY_ENV, "").strip() not in ("", "0")
    if not (quick or tiny):
        return _full_settings(runs)
    settings = Settings(
        mode="quick",
        runs=max(1, min(runs, 3)),
        progressive_mb=50,
        throttled_mb=8,
        ladder_seconds=120.0,
        mp3_seconds=180.0,
        hls_peers=("ffmpeg",),
        cpu_seconds=6.0,
        cpu_rounds=1,
        dashboard_seconds=3.0,
        dashboard_runs=1,
        seeks=max(1, min(runs, 3)),
        single_connection_cases=False,
        decode_speed=False,
        cap=40.0,
        timeout=90.0,
        seek_timeout=5.0,
        total=125.0,
    )
    if not tiny:
        return settings
    # tiny: the quick run made smaller again (the tests' run), with no overall total
    return replace(
        settings,
        mode="tiny",
        progressive_mb=4,
        throttled_mb=1,
        ladder_seconds=20.0,
        mp3_seconds=60.0,
        cpu_seconds=2.0,
        dashboard_seconds=1.0,
        cap=20.0,
        timeout=60.0,
        total=None,
    )


def _full_settings(runs: int) -> Settings:
    return Settings(
        mode="full",
        runs=runs,
        progressive_mb=200,
        throttled_mb=24,
        ladder_seconds=FULL_LADDER_SECONDS,
        mp3_seconds=600.0,
        hls_peers=("ffmpeg", "yt-dlp", "streamlink"),
        cpu_seconds=10.0,
        cpu_rounds=max(1, min(runs, 5)),
        dashboard_seconds=10.0,
        dashboard_runs=max(1, min(runs, 3)),
        seeks=max(1, min(runs, len(SEEK_FRACTIONS))),
        single_connection_cases=True,
        decode_speed=True,
        cap=900.0,
        timeout=240.0,
    )


def shrunk(settings: Settings) -> list[str]:
    """What a quick (or tiny) run left out or made smaller than the full run: said out loud."""
    if settings.mode == "full":
        return []
    full = make_settings(False, 5, tiny=False)
    notes = [
        f"mode {settings.mode}: numbers are not comparable with a full run",
        f"{settings.runs} timed runs per case (full: {full.runs}), one warm-up round per scenario",
        f"progressive file {settings.progressive_mb} MB (full: {full.progressive_mb} MB): "
        "kithara's ~0.5 s start-up weighs more in its throughput",
        f"throttled file {settings.throttled_mb} MB (full: {full.throttled_mb} MB)",
        f"HLS ladder {settings.ladder_seconds:.0f} s (full: {full.ladder_seconds:.0f} s, "
        f"{FULL_LADDER_SEGMENTS} segments); HLS targets scaled as "
        f"{HLS_STARTUP_ALLOWANCE} s + (target - {HLS_STARTUP_ALLOWANCE} s) x segments/"
        f"{FULL_LADDER_SEGMENTS}",
        f"HLS fetch peers: {', '.join(settings.hls_peers)} only "
        f"(full: {', '.join(full.hls_peers)})",
        f"playback CPU over {settings.cpu_seconds:.0f} s x {settings.cpu_rounds} "
        f"(full: {full.cpu_seconds:.0f} s x {full.cpu_rounds}); no decode-speed case",
        f"dashboard CPU over {settings.dashboard_seconds:.0f} s (full: "
        f"{full.dashboard_seconds:.0f} s x {full.dashboard_runs})",
        "no -c 1 cases",
        f"MP3 {settings.mp3_seconds:.0f} s (full: {full.mp3_seconds:.0f} s)",
        f"each scenario capped at {settings.cap:.0f} s"
        + (f", all of them at ~{settings.total:.0f} s" if settings.total else "")
        + " (fewer runs if exceeded, noted)",
    ]
    if settings.mode == "tiny":
        notes.insert(1, f"{TINY_ENV} is set: tiny media for tests")
    return notes


# --- the context -------------------------------------------------------------------------------


@dataclass
class Context:
    settings: Settings
    tmp: Path
    peers: Peers
    log: Callable[[str], None] = lambda line: None
    notes: list[str] = field(default_factory=list)
    _warm: set[str] = field(default_factory=set)
    _media: dict[str, Any] = field(default_factory=dict)
    _env: dict[str, str] = field(default_factory=child_env)
    started: float = field(default_factory=time.monotonic)
    weight_left: float = 1.0
    """Weights of this scenario and those still to run (set by the runner)."""
    weight: float = 1.0
    """This scenario's weight."""

    def __post_init__(self) -> None:
        # Children's temp files land in this run's temp dir, so even a child killed on its
        # timeout leaves nothing behind once the run removes that dir.
        child_tmp = self.tmp / "child-tmp"
        child_tmp.mkdir(parents=True, exist_ok=True)
        self._env["TMPDIR"] = str(child_tmp)

    @property
    def env(self) -> dict[str, str]:
        return self._env

    def budget(self) -> Budget:
        cap = self.settings.cap
        total = self.settings.total
        if total is not None:
            left = max(0.0, total - (time.monotonic() - self.started))
            cap = min(cap, left * self.weight / max(self.weight_left, 1e-9))
        return Budget(cap)

    def first_use(self, *keys: str) -> bool:
        """True when any of ``keys`` is used for the first time (then a warm-up is due)."""
        new = [k for k in keys if k not in self._warm]
        self._warm.update(keys)
        return bool(new)

    def out_dir(self) -> Path:
        path = self.tmp / "out"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clear_out(self) -> None:
        shutil.rmtree(self.tmp / "out", ignore_errors=True)

    # media

    def once(self, key: str, build: Callable[[], T]) -> T:
        """``build()``'s value, built on the first call for ``key`` and kept for the run (media
        files, a measurement several scenarios share)."""
        if key not in self._media:
            self._media[key] = build()
        value: T = self._media[key]
        return value

    def blob(self, megabytes: int) -> Path:
        """A file of random bytes (incompressible, no cache to hit) in this run's temp dir."""

        def write() -> Path:
            root = self.tmp / "blobs"
            root.mkdir(parents=True, exist_ok=True)
            path = root / f"random-{megabytes}MB.bin"
            rng = random.Random(megabytes)
            left = megabytes * MB
            with open(path, "wb") as f:
                while left > 0:
                    n = min(left, 8 * MB)
                    f.write(rng.randbytes(n))
                    left -= n
            return path

        return self.once(f"blob-{megabytes}", write)

    def ladder(self) -> Any:
        from kithara_cli.media import cached_ladder

        seconds = self.settings.ladder_seconds

        def build() -> Any:
            name = f"bench-ladder-{seconds:.0f}s-64k-128k-256k-ts-2s"
            t0 = time.monotonic()
            ladder = cached_ladder(name, seconds, bitrates=LADDER_BITRATES)
            took = time.monotonic() - t0
            if took > 2:
                self.log(f"built the {seconds:.0f} s HLS ladder in {took:.0f} s (cached now)")
            return ladder

        return self.once(f"ladder-{seconds:.0f}", build)

    def mp3(self) -> Path:
        from kithara_cli.media import cached, encode_file

        seconds = self.settings.mp3_seconds
        name = f"bench-mp3-{seconds:.0f}s-128k"

        def encode(folder: Path) -> None:
            encode_file(folder / "tone.mp3", seconds, "mp3")

        return self.once(f"mp3-{seconds:.0f}", lambda: cached(name, encode) / "tone.mp3")

    def podcast_mp3(self) -> Path:
        """The run's MP3 behind a podcast's leading ID3 tag with ``COVER_ART_BYTES`` of cover
        art (FFmpeg reads such a tag whole before the first frame)."""
        from kithara_cli.media import cached
        from kithara_cli.media.titles import cover_art_tag

        mp3 = self.mp3()
        name = f"bench-podcast-{self.settings.mp3_seconds:.0f}s-art-{COVER_ART_BYTES}"

        def write(folder: Path) -> None:
            tag = cover_art_tag("Episode 1", COVER_ART_BYTES)
            (folder / "episode.mp3").write_bytes(tag + mp3.read_bytes())

        return self.once(name, lambda: cached(name, write) / "episode.mp3")

    def podcast_m4a(self) -> Path:
        """The run's length of tone as a faststart M4A with ``COVER_ART_BYTES`` of cover art
        in its ``moov`` (FFmpeg's mov demuxer reads the picture whole before the first
        frame)."""
        from kithara_cli.media import cached, encode_file
        from kithara_cli.media.mp4_art import with_cover_art

        seconds = self.settings.mp3_seconds
        name = f"bench-podcast-m4a-{seconds:.0f}s-art-{COVER_ART_BYTES}"

        def write(folder: Path) -> None:
            plain = encode_file(folder / "plain.m4a", seconds, "m4a")
            (folder / "episode.m4a").write_bytes(
                with_cover_art(plain.read_bytes(), COVER_ART_BYTES)
            )
            plain.unlink()

        return self.once(name, lambda: cached(name, write) / "episode.m4a")

    # running

    def run(self, argv: Sequence[str], terminal: bool = False) -> ProcResult:
        """One successful run of ``argv`` with the run's timeout and environment, its stderr
        kept in the temp dir; RunFailed otherwise."""
        return run_process(
            argv,
            timeout=self.settings.timeout,
            env=self.env,
            stderr_path=self.tmp / "stderr.txt",
            terminal=terminal,
        ).check()

    def timed(self, argv: list[str], label: str) -> float:
        """Wall seconds of one successful run of ``argv``; RunFailed otherwise."""
        result = self.run(argv)
        self.log(f"  {label}: {result.wall:.3f} s")
        return result.wall


@contextmanager
def serving(root: Path) -> Iterator[Any]:
    from kithara_cli.server import MediaServer

    server = MediaServer(root).start()
    try:
        yield server
    finally:
        server.stop()
