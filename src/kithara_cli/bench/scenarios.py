"""The scenarios: what is measured, on which media, against which peers.

Each scenario is a function ``(ctx) -> list[Record]`` registered in :data:`SCENARIOS`. It
starts its own loopback :class:`~kithara_cli.server.MediaServer` over media from the cache (or
the run's temp dir), runs kithara and the peers alternately, and stops the server before it
returns. Raising :class:`Unavailable` marks the scenario unavailable (not failed);
:class:`~kithara_cli.bench.runner.RunFailed` from kithara marks it failed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kithara_cli.bench.peers import Peers, curl_fetch, ffmpeg_pcm, hls_fetch
from kithara_cli.bench.report import Better, Record
from kithara_cli.bench.runner import (
    Budget,
    RunFailed,
    Series,
    alternate,
    child_env,
    kithara_argv,
    pairs,
    repeat,
    run_process,
    time_to_first_stdout_byte,
)
from kithara_cli.bench.stats import pair_summary, summarize

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
    if tiny:
        return Settings(
            mode="tiny",
            runs=max(1, min(runs, 3)),
            progressive_mb=4,
            throttled_mb=1,
            ladder_seconds=20.0,
            mp3_seconds=60.0,
            hls_peers=("ffmpeg",),
            cpu_seconds=2.0,
            cpu_rounds=1,
            dashboard_seconds=1.0,
            dashboard_runs=1,
            seeks=max(1, min(runs, 3)),
            single_connection_cases=False,
            decode_speed=False,
            cap=20.0,
            timeout=60.0,
            seek_timeout=5.0,
        )
    if quick:
        return Settings(
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

    def blob(self, megabytes: int) -> Path:
        """A file of random bytes (incompressible, no cache to hit) in this run's temp dir."""
        key = f"blob-{megabytes}"
        if key not in self._media:
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
            self._media[key] = path
        return self._media[key]

    def ladder(self) -> Any:
        from kithara_cli.media import cached_ladder

        seconds = self.settings.ladder_seconds
        key = f"ladder-{seconds:.0f}"
        if key not in self._media:
            name = f"bench-ladder-{seconds:.0f}s-64k-128k-256k-ts-2s"
            t0 = time.monotonic()
            self._media[key] = cached_ladder(name, seconds, bitrates=LADDER_BITRATES)
            took = time.monotonic() - t0
            if took > 2:
                self.log(f"built the {seconds:.0f} s HLS ladder in {took:.0f} s (cached now)")
        return self._media[key]

    def mp3(self) -> Path:
        from kithara_cli.media import cached, encode_file

        seconds = self.settings.mp3_seconds
        key = f"mp3-{seconds:.0f}"
        if key not in self._media:
            name = f"bench-mp3-{seconds:.0f}s-128k"
            folder = cached(name, lambda d: encode_file(d / "tone.mp3", seconds, "mp3"))
            self._media[key] = folder / "tone.mp3"
        return self._media[key]

    # running

    def timed(self, argv: list[str], label: str) -> float:
        """Wall seconds of one successful run of ``argv``; RunFailed otherwise."""
        result = run_process(
            argv, timeout=self.settings.timeout, env=self.env, stderr_path=self.tmp / "stderr.txt"
        ).check()
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


# --- record helpers ------------------------------------------------------------------------------


def comparison(
    scenario: str,
    case: str,
    metric: str,
    unit: str,
    better: Better,
    kithara: Series,
    peers: dict[str, Series],
    errors: dict[str, str],
    missing: list[str],
    *,
    convert: Callable[[float], float] = lambda seconds: seconds,
    note: str = "",
) -> list[Record]:
    """kithara's record for a metric plus one per peer (ratio pair by pair, or why not)."""
    k_values = [convert(v) for v in kithara.values]
    notes = [n for n in (note, kithara.stopped_early) if n]
    records = [
        Record.of(scenario, case, metric, unit, better, summarize(k_values), "; ".join(notes))
    ]
    for name, series in peers.items():
        a, b = pairs(kithara, series)
        ka, pb = [convert(v) for v in a], [convert(v) for v in b]
        ratio = pair_summary(ka, pb)
        rec = Record(scenario=scenario, case=case, metric=metric, unit=unit, better=better)
        rec.peer = name
        if ratio is None:
            rec.status = "peer-error"
            rec.note = errors.get(name, "no paired runs")
        else:
            k = summarize(ka)
            rec.value, rec.runs, rec.min, rec.median, rec.max = (
                k.median,
                k.runs,
                k.min,
                k.median,
                k.max,
            )
            rec.peer_value = summarize(pb).median
            rec.peer_ratio, rec.ratio_min, rec.ratio_max = ratio.median, ratio.min, ratio.max
            if name in errors:
                rec.note = f"peer failed after {ratio.runs} pairs: {errors[name]}"
        records.append(rec)
    for name in missing:
        records.append(
            Record(
                scenario=scenario,
                case=case,
                metric=metric,
                unit=unit,
                better=better,
                peer=name,
                status="missing-peer",
                note=f"{name} not installed",
            )
        )
    return records


def derived(
    scenario: str,
    case: str,
    metric: str,
    unit: str,
    better: Better,
    values: list[float],
    note: str = "",
) -> Record:
    return Record.of(scenario, case, metric, unit, better, summarize(values), note)


def failed_case(scenario: str, case: str, metric: str, exc: RunFailed) -> Record:
    """What a case that kithara could not finish leaves in the results."""
    return Record(
        scenario=scenario,
        case=case,
        metric=metric,
        unit="",
        better="lower",
        status="error",
        note=exc.describe(),
    )


def fetch_span(lines: list[str]) -> float | None:
    """Seconds from the first request enqueued to the last one completed (``--events``)."""
    first: float | None = None
    last: float | None = None
    for line in lines:
        if '"RequestEnqueued"' in line or '"RequestCompleted"' in line:
            event = json.loads(line)
            ts = float(event["ts"])
            if event["event"] == "RequestEnqueued":
                first = ts if first is None else min(first, ts)
            elif event["event"] == "RequestCompleted":
                last = ts if last is None else max(last, ts)
    if first is None or last is None:
        return None
    return last - first


def kithara_fetch(ctx: Context, argv: list[str], label: str, overheads: list[float]) -> float:
    """Run ``kithara fetch`` (with --events) and note its wall time outside the transfer."""
    events = ctx.tmp / "fetch-events.jsonl"
    wall = ctx.timed([*argv, "--events", str(events)], label)
    try:
        span = fetch_span(events.read_text().splitlines())
    except (OSError, ValueError, KeyError):
        span = None
    if span is not None:
        overheads.append(wall - span)
    events.unlink(missing_ok=True)
    return wall


OVERHEAD_NOTE = (
    "kithara's wall time outside its transfer (first request enqueued -> last completed): "
    "process start-up and imports before, exit after"
)


def split_peers(ctx: Context, names: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    found, missing = [], []
    for name in names:
        peer = ctx.peers.get(name)
        (found if peer.available else missing).append(peer if peer.available else name)
    return found, missing


def ms(latency: float) -> str:
    return f"{latency * 1000:.0f}ms"


# --- progressive fetch -------------------------------------------------------------------------


def _fetch_cases(
    ctx: Context, scenario: str, size_mb: int, faults: Any, cases: list[tuple[str, int]]
) -> list[Record]:
    from kithara_cli.server import Faults

    blob = ctx.blob(size_mb)
    out = ctx.out_dir()
    records: list[Record] = []
    curl_peers, missing = split_peers(ctx, ("curl",))
    budget = ctx.budget()
    with serving(blob.parent) as server:
        server.set_faults("*", faults or Faults())
        url = server.url(blob.name)
        for i, (case, connections) in enumerate(cases):
            k_out, c_out = out / "kithara.bin", out / "curl.bin"
            argv = [*kithara_argv(), "fetch", url, "-o", str(k_out), "-q", "--force"]
            argv += ["-c", str(connections)]
            peer_fns = {
                p.name: (lambda p=p, c_out=c_out: ctx.timed(curl_fetch(p, url, c_out), p.name))
                for p in curl_peers
            }
            warm = i == 0 and ctx.first_use("kithara fetch", "curl")
            overheads: list[float] = []
            ctx.log(f"{scenario} [{case}]")
            try:
                k, peers, errors = alternate(
                    lambda argv=argv, case=case, o=overheads: kithara_fetch(
                        ctx, argv, f"kithara {case}", o
                    ),
                    peer_fns,
                    ctx.settings.runs,
                    budget,
                    warmup=warm,
                )
                size = k_out.stat().st_size
                if size != size_mb * MB:
                    raise RunFailed(f"kithara wrote {size} bytes, not {size_mb * MB}", argv)
            except RunFailed as exc:
                records.append(failed_case(scenario, case, "throughput", exc))
                continue
            records += comparison(
                scenario,
                case,
                "throughput",
                "MB/s",
                "higher",
                k,
                peers,
                errors,
                missing,
                convert=lambda s: size_mb / s,
                note=f"{size_mb} MB; wall time of the whole command",
            )
            timed = overheads[-len(k.values) :]
            if timed:
                records.append(
                    derived(scenario, case, "overhead", "s", "lower", timed, OVERHEAD_NOTE)
                )
    ctx.clear_out()
    return records


def progressive_throughput(ctx: Context) -> list[Record]:
    cases = [("unthrottled", 4)]
    if ctx.settings.single_connection_cases:
        cases.append(("unthrottled -c 1", 1))
    return _fetch_cases(ctx, "progressive-throughput", ctx.settings.progressive_mb, None, cases)


def progressive_throttled(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    rate = f"{THROTTLE_RATE / MB:.0f}MB/s/conn"
    cases = [(f"{rate} -c 4", 4)]
    if ctx.settings.single_connection_cases:
        cases.append((f"{rate} -c 1", 1))
    return _fetch_cases(
        ctx,
        "progressive-throttled",
        ctx.settings.throttled_mb,
        Faults(rate_per_conn=THROTTLE_RATE),
        cases,
    )


FETCH_RSS_TARGET_MB = 80.0
FETCH_RSS_FULL_MB = 1024  # the 1 GB file


def fetch_rss(ctx: Context) -> list[Record]:
    """Peak RSS of ``kithara fetch -c 4`` of a big file: bytes go to disk, never pile up."""
    from kithara_cli.server import Faults

    scenario = "fetch-rss"
    size_mb = FETCH_RSS_FULL_MB if ctx.settings.mode == "full" else ctx.settings.progressive_mb
    blob = ctx.blob(size_mb)
    out = ctx.out_dir() / "rss.bin"
    rss: list[float] = []
    with serving(blob.parent) as server:
        server.set_faults("*", Faults())
        argv = [*kithara_argv(), "fetch", server.url(blob.name), "-o", str(out), "-q", "--force"]
        ctx.log(f"{scenario} [{size_mb} MB]")
        for _ in range(1 if ctx.settings.mode == "full" else 2):
            result = run_process(
                argv,
                timeout=ctx.settings.timeout,
                env=ctx.env,
                stderr_path=ctx.tmp / "stderr.txt",
            ).check()
            if out.stat().st_size != size_mb * MB:
                raise RunFailed(f"kithara wrote {out.stat().st_size} bytes", argv)
            ctx.log(f"  kithara: {result.wall:.2f} s, peak {result.maxrss_mb:.0f} MiB")
            rss.append(result.maxrss_mb)
    ctx.clear_out()
    case = f"{size_mb} MB -c 4"
    return [
        derived(scenario, case, "peak_rss", "MiB", "lower", rss, "ru_maxrss (wait4)"),
        derived(
            scenario,
            case,
            "rss_over_target",
            "x",
            "lower",
            [v / FETCH_RSS_TARGET_MB for v in rss],
            f"target {FETCH_RSS_TARGET_MB:.0f} MiB",
        ),
    ]


# --- HLS fetch ---------------------------------------------------------------------------------


def hls_target(latency: float, segments: int) -> float:
    """The issue's target for ``segments`` segments (exact for the 301-segment ladder)."""
    full = HLS_TARGETS[latency]
    scale = segments / FULL_LADDER_SEGMENTS
    return HLS_STARTUP_ALLOWANCE + (full - HLS_STARTUP_ALLOWANCE) * scale


def hls_floor(latency: float, startup: float) -> float:
    """A lower bound for any client that starts like kithara: its imports, then three round
    trips in a row (master playlist, media playlist, every segment at once); the bytes
    themselves cost next to nothing on loopback."""
    return startup + 3 * latency


def measure_fetch_startup(ctx: Context) -> float:
    """Median wall time of importing what ``kithara fetch`` of HLS imports (no network)."""
    if "fetch-startup" not in ctx._media:
        code = (
            "import kithara_cli.cli, kithara_cli.commands.fetch, kithara_cli.hls.fetch_cmd, "
            "kithara_cli.dl"
        )
        argv = [sys.executable, "-c", code]
        ctx.timed(argv, "fetch imports (warm-up)")
        values = [ctx.timed(argv, "fetch imports") for _ in range(3)]
        ctx._media["fetch-startup"] = summarize(values).median
    return ctx._media["fetch-startup"]


def hls_fetch_scenario(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    ladder = ctx.ladder()
    segments = ladder.segment_counts[-1]
    best = len(ladder.bitrates) - 1
    found, missing = split_peers(ctx, ctx.settings.hls_peers)
    startup = measure_fetch_startup(ctx)
    out = ctx.out_dir()
    records: list[Record] = []
    budget = ctx.budget()
    with serving(ladder.out_dir) as server:
        url = server.url(ladder.master.name)
        for i, latency in enumerate((0.0, 0.05)):
            server.set_faults("*", Faults(latency=latency))
            case = ms(latency)
            k_out = out / "kithara.ts"
            argv = [*kithara_argv(), "fetch", url, "-o", str(k_out), "-q", "--force"]
            peer_fns = {
                p.name: (
                    lambda p=p: ctx.timed(hls_fetch(p, url, out / f"{p.name}.ts", best), p.name)
                )
                for p in found
            }
            warm = i == 0 and ctx.first_use("kithara fetch hls", *(p.name + " hls" for p in found))
            ctx.log(f"hls-fetch [{case}] {segments} segments")
            overheads: list[float] = []
            expected = sum(p.stat().st_size for p in ladder.segments[best])
            try:
                k, peers, errors = alternate(
                    lambda argv=argv, o=overheads: kithara_fetch(ctx, argv, "kithara", o),
                    peer_fns,
                    ctx.settings.runs,
                    budget,
                    warmup=warm,
                )
                got = k_out.stat().st_size
                if got < expected * 0.95:
                    raise RunFailed(
                        f"kithara wrote {got} bytes of the {expected} in the variant", argv
                    )
            except RunFailed as exc:
                records.append(failed_case("hls-fetch", case, "time", exc))
                continue
            timed = overheads[-len(k.values) :]
            if timed:
                records.append(
                    derived("hls-fetch", case, "overhead", "s", "lower", timed, OVERHEAD_NOTE)
                )
            records += comparison(
                "hls-fetch",
                case,
                "time",
                "s",
                "lower",
                k,
                peers,
                errors,
                missing,
                note=f"{segments} segments of the {ladder.names[best]} variant "
                f"({expected / MB:.1f} MB)",
            )
            target = hls_target(latency, segments)
            records.append(
                derived(
                    "hls-fetch",
                    case,
                    "time_over_target",
                    "x",
                    "lower",
                    [v / target for v in k.values],
                    f"target {target:.2f} s"
                    + ("" if segments == FULL_LADDER_SEGMENTS else " (scaled to the segments)"),
                )
            )
            floor = hls_floor(latency, startup)
            records.append(
                derived(
                    "hls-fetch",
                    case,
                    "time_over_floor",
                    "x",
                    "lower",
                    [v / floor for v in k.values],
                    f"floor {floor:.2f} s = imports {startup:.2f} s + 3 x {ms(latency)} "
                    "(master, media playlist, all segments at once)",
                )
            )
    ctx.clear_out()
    return records


# --- time to first audio -----------------------------------------------------------------------


@dataclass
class FirstAudio:
    ttfa: float
    startup: float | None = None
    network: float | None = None
    decode: float | None = None


def parse_first_audio(lines: list[str], spawned_at: float | None = None) -> FirstAudio:
    """From ``--events`` JSON Lines: time to first audio and its split.

    With ``spawned_at`` (``time.monotonic()`` just before the fork, the clock the events use)
    time to first audio is taken from there, as ffmpeg's is from its spawn. Without it, the
    event's own figure: process creation from /proc, in 10 ms clock ticks.

    ``startup``: process start -> first request enqueued (Python, imports, set-up);
    ``network``: first request enqueued -> the last first byte before audio (the chain of
    round trips that audio needed); ``decode``: the rest, up to the first sample handed to the
    output. The three add up to ``ttfa`` (work overlapping the network counts as network).
    """
    events = [json.loads(line) for line in lines if line.strip()]
    started = next((e for e in events if e.get("event") == "PlaybackStarted"), None)
    if started is None:
        raise RunFailed("no PlaybackStarted event")
    if spawned_at is not None:
        ttfa = float(started["ts"]) - spawned_at
    else:
        ttfa = float(started["time_to_first_audio"])
    process_start = float(started["ts"]) - ttfa
    enqueued = [float(e["ts"]) for e in events if e.get("event") == "RequestEnqueued"]
    first_bytes = [
        float(e["ts"])
        for e in events
        if e.get("event") == "FirstByte" and float(e["ts"]) <= float(started["ts"])
    ]
    if not enqueued or not first_bytes:
        return FirstAudio(ttfa)
    t_request, t_bytes = min(enqueued), max(first_bytes)
    return FirstAudio(
        ttfa=ttfa,
        startup=t_request - process_start,
        network=t_bytes - t_request,
        decode=float(started["ts"]) - t_bytes,
    )


def time_to_first_audio(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    scenario = "time-to-first-audio"
    records: list[Record] = []
    ladder, mp3 = ctx.ladder(), ctx.mp3()  # built (once) before the clock starts
    budget = ctx.budget()
    argv = [sys.executable, "-c", "import kithara_cli.cli"]
    imports = repeat(lambda: ctx.timed(argv, "import kithara_cli.cli"), ctx.settings.runs, budget)
    records.append(
        derived(
            scenario,
            "python+cli import",
            "startup",
            "s",
            "lower",
            imports.values,
            "`python -c 'import kithara_cli.cli'`: the interpreter and the CLI module alone",
        )
    )
    found, missing = split_peers(ctx, ("ffmpeg",))
    events_path = ctx.tmp / "events.jsonl"
    with serving(ladder.out_dir) as hls_server, serving(mp3.parent) as mp3_server:
        # The last case runs kithara on a pseudo-terminal, with its dashboard, as users do.
        cases = [
            ("mp3", 0.0, mp3_server, mp3_server.url(mp3.name), False),
            ("mp3", 0.05, mp3_server, mp3_server.url(mp3.name), False),
            ("hls", 0.0, hls_server, hls_server.url(ladder.master.name), False),
            ("hls", 0.05, hls_server, hls_server.url(ladder.master.name), False),
            ("mp3", 0.05, mp3_server, mp3_server.url(mp3.name), True),
        ]
        for i, (kind, latency, server, url, ui) in enumerate(cases):
            server.set_faults("*", Faults(latency=latency))
            case = f"{kind} {ms(latency)}" + (" dashboard" if ui else "")
            splits: list[FirstAudio] = []

            def kithara_ttfa(
                url: str = url, case: str = case, splits: list = splits, ui: bool = ui
            ) -> float:
                play = [*kithara_argv(), "play", url, "--output", "null"]
                play += [] if ui else ["--no-ui"]
                play += ["--length", "0.1", "--events", str(events_path)]
                proc = run_process(
                    play,
                    timeout=ctx.settings.timeout,
                    env=ctx.env,
                    stderr_path=ctx.tmp / "stderr.txt",
                    terminal=ui,
                ).check()
                first = parse_first_audio(events_path.read_text().splitlines(), proc.started_at)
                splits.append(first)
                ctx.log(f"  kithara {case}: first audio {first.ttfa:.3f} s")
                return first.ttfa

            def ffmpeg_ttfa(url: str = url, case: str = case) -> float:
                value = time_to_first_stdout_byte(
                    ffmpeg_pcm(found[0], url), timeout=ctx.settings.timeout, env=ctx.env
                )
                ctx.log(f"  ffmpeg {case}: first PCM byte {value:.3f} s")
                return value

            peer_fns = {"ffmpeg": ffmpeg_ttfa} if found else {}
            warm = i == 0 and ctx.first_use("kithara play", "ffmpeg decode")
            ctx.log(f"{scenario} [{case}]")
            try:
                k, peers, errors = alternate(
                    kithara_ttfa, peer_fns, ctx.settings.runs, budget, warmup=warm
                )
            except RunFailed as exc:
                records.append(failed_case(scenario, case, "ttfa", exc))
                continue
            splits = splits[-len(k.values) :]  # the timed runs, not the warm-up
            records += comparison(
                scenario,
                case,
                "ttfa",
                "s",
                "lower",
                k,
                peers,
                errors,
                missing,
                note="process start -> first sample to the output (ffmpeg: first PCM byte)",
            )
            for part in ("startup", "network", "decode"):
                values = [getattr(s, part) for s in splits if getattr(s, part) is not None]
                if values:
                    records.append(derived(scenario, case, part, "s", "lower", values))
    events_path.unlink(missing_ok=True)
    return records


# --- playback while a variant fails ------------------------------------------------------------


def _count(scenario: str, case: str, metric: str, values: list[float], note: str) -> Record:
    """The worst of ``values`` as a count (lower is better): one bad run shows."""
    worst = max(values)
    return Record(
        scenario=scenario,
        case=case,
        metric=metric,
        unit="count",
        better="lower",
        value=worst,
        runs=len(values),
        min=min(values),
        median=worst,
        max=worst,
        note=note,
    )


def hls_failover(ctx: Context) -> list[Record]:
    """``kithara play`` (auto ABR, real time) while every segment of the top variant answers
    503, at 50 ms: the start-up pick is the top variant, so first audio needs a failover."""
    from kithara_cli.server import Faults

    scenario, case = "hls-failover", "top variant 503"
    ladder = ctx.ladder()
    budget = ctx.budget()
    top = max(range(len(ladder.bandwidths)), key=ladder.bandwidths.__getitem__)
    prefix = ladder.segments[top][0].name.rsplit("_", 1)[0]
    seconds = 6.0 if ctx.settings.quick else 12.0
    events_path = ctx.tmp / "failover-events.jsonl"
    firsts: list[float] = []
    rebuffers: list[float] = []
    stalled: list[float] = []
    asked_top: list[float] = []
    with serving(ladder.out_dir) as server:

        def top_asked() -> int:
            return sum(r.path.startswith(f"{prefix}_") for r in server.stats.requests())

        def run_once() -> float:
            server.set_faults("*", Faults(latency=0.05))
            server.set_faults(
                f"{prefix}_*", Faults(latency=0.05, fail_first=10**9, fail_status=503)
            )
            before = top_asked()
            play = [*kithara_argv(), "play", server.url(ladder.master.name), "--output", "null"]
            play += ["--no-ui", "--length", str(seconds), "--events", str(events_path)]
            proc = run_process(
                play, timeout=ctx.settings.timeout, env=ctx.env, stderr_path=ctx.tmp / "stderr.txt"
            ).check()
            lines = events_path.read_text().splitlines()
            events = [json.loads(line) for line in lines if line.strip()]
            first = parse_first_audio(lines, proc.started_at).ttfa
            firsts.append(first)
            rebuffers.append(float(sum(e["event"] == "RebufferStarted" for e in events)))
            stalled.append(
                sum(float(e.get("duration") or 0) for e in events if e["event"] == "RebufferEnded")
            )
            asked_top.append(float(top_asked() - before))
            ctx.log(f"  {case}: first audio {first:.3f} s, {rebuffers[-1]:.0f} rebuffers")
            return first

        ctx.log(f"{scenario} [{case}]")
        try:
            series = repeat(run_once, ctx.settings.runs, budget, warmup=False)
        except RunFailed as exc:
            return [failed_case(scenario, case, "ttfa", exc)]
    events_path.unlink(missing_ok=True)
    n = len(series.values)
    firsts, rebuffers, stalled, asked_top = (
        firsts[-n:],
        rebuffers[-n:],
        stalled[-n:],
        asked_top[-n:],
    )
    return [
        derived(scenario, case, "ttfa", "s", "lower", firsts, "process start -> first audio"),
        _count(scenario, case, "rebuffers", rebuffers, f"in {seconds:.0f} s of real-time play"),
        derived(scenario, case, "stalled", "s", "lower", stalled, "seconds spent rebuffering"),
        _count(
            scenario,
            case,
            "top_requests",
            asked_top,
            "requests the failing variant got: 2 attempts a segment, then 30 s out of auto ABR",
        ),
    ]


# --- seek --------------------------------------------------------------------------------------


class _Waiter:
    """Collects playback events from the bus and waits for them."""

    def __init__(self, bus: Any) -> None:
        from kithara_cli.events.types import PlaybackStarted, SeekCompleted

        self._types = (PlaybackStarted, SeekCompleted)
        self._cond = threading.Condition()
        self.started: list[Any] = []
        self.seeks: list[Any] = []
        self._unsubscribe = bus.subscribe(self._on)

    def _on(self, event: Any) -> None:
        if isinstance(event, self._types):
            with self._cond:
                if type(event).__name__ == "PlaybackStarted":
                    self.started.append(event)
                else:
                    self.seeks.append(event)
                self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def close(self) -> None:
        self._unsubscribe()


def _seek_run(
    ctx: Context,
    server: Any,
    url: str,
    duration: float,
    uncached: Callable[[float, list[Any]], bool],
    count: int,
) -> tuple[list[float], int]:
    """Open ``url`` in-process, then seek far ahead ``count`` times; latencies and how many
    of them the server's log shows went to the network (uncached)."""
    from kithara_cli.dl import Downloader
    from kithara_cli.events import EventBus
    from kithara_cli.play import Player, PlayerSettings

    bus = EventBus()
    waiter = _Waiter(bus)
    latencies: list[float] = []
    verified = 0
    try:
        with Downloader(bus, max_concurrent=4) as dl:
            player = Player(bus, PlayerSettings(output="null"), dl)
            try:
                player.open(url)
                if not waiter.wait(lambda: bool(waiter.started), 20):
                    raise RunFailed(f"no PlaybackStarted within 20 s for {url}")
                deadline = time.monotonic() + 5
                while player.snapshot.duration is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                fractions = (SEEK_WARMUP_FRACTION, *SEEK_FRACTIONS[:count])
                for n, fraction in enumerate(fractions):
                    if player.error is not None:
                        raise RunFailed(f"playback failed: {player.error}")
                    target = fraction * duration
                    before = len(server.stats.requests())
                    done = len(waiter.seeks)
                    player.seek_to(target)
                    limit = ctx.settings.seek_timeout
                    if not waiter.wait(lambda done=done: len(waiter.seeks) > done, limit):
                        raise RunFailed(
                            f"in-process seek to {target:.1f} s of {url} (50 ms latency"
                            f"{'' if n else ', warm-up'}): no SeekCompleted within {limit:g} s"
                        )
                    latency = float(waiter.seeks[-1].latency)
                    fresh = uncached(target, server.stats.requests()[before:])
                    ctx.log(
                        f"  seek to {target:.1f} s: {latency * 1000:.0f} ms"
                        f"{'' if fresh else ' (cached?)'}{' (warm-up)' if n == 0 else ''}"
                    )
                    if n > 0:
                        latencies.append(latency)
                        verified += fresh
                    time.sleep(SEEK_DWELL)
            finally:
                player.close()
    finally:
        waiter.close()
    return latencies, verified


def seek_latency(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    scenario = "seek"
    records: list[Record] = []
    target = 2 * SEEK_LATENCY + 0.1
    count = ctx.settings.seeks

    mp3 = ctx.mp3()
    size = mp3.stat().st_size
    duration = ctx.settings.mp3_seconds

    def mp3_uncached(t: float, new: list[Any]) -> bool:
        want = t / duration * size
        for r in new:
            if r.range and r.range.startswith("bytes="):
                first = r.range[6:].split("-", 1)[0]
                if first.isdigit() and abs(int(first) - want) <= 0.03 * size:
                    return True
        return False

    ladder = ctx.ladder()
    starts: list[float] = []
    acc = 0.0
    for d in ladder.segment_durations[0]:
        starts.append(acc)
        acc += d

    def hls_uncached(t: float, new: list[Any]) -> bool:
        index = max(i for i, s in enumerate(starts) if s <= t + 1e-6)
        wanted = {f"_{j:05d}.ts" for j in (index - 1, index, index + 1)}
        return any(r.path.endswith(tuple(wanted)) for r in new)

    cases = [
        (
            f"mp3 {ms(SEEK_LATENCY)}",
            mp3.parent,
            mp3.name,
            duration,
            Faults(latency=SEEK_LATENCY, rate_per_conn=SEEK_PROGRESSIVE_RATE),
            mp3_uncached,
            f"{SEEK_PROGRESSIVE_RATE // 1000} kB/s per connection so far positions are "
            "not yet downloaded",
        ),
        (
            f"hls {ms(SEEK_LATENCY)}",
            ladder.out_dir,
            ladder.master.name,
            ladder.seconds,
            Faults(latency=SEEK_LATENCY),
            hls_uncached,
            f"{ladder.segment_counts[0]}-segment ladder",
        ),
    ]
    for case, root, name, length, faults, check, about in cases:
        ctx.log(f"{scenario} [{case}]")
        try:
            with serving(root) as server:
                server.set_faults("*", faults)
                latencies, verified = _seek_run(ctx, server, server.url(name), length, check, count)
        except RunFailed as exc:
            records.append(failed_case(scenario, case, "latency", exc))
            continue
        note = (
            f"SeekCompleted.latency, in-process; {verified}/{len(latencies)} seeks seen "
            f"uncached in the server log; {about}"
        )
        records.append(derived(scenario, case, "latency", "s", "lower", latencies, note))
        records.append(
            derived(
                scenario,
                case,
                "latency_over_target",
                "x",
                "lower",
                [v / target for v in latencies],
                f"target 2 x RTT + 100 ms = {target * 1000:.0f} ms",
            )
        )
        records.append(
            Record(
                scenario=scenario,
                case=case,
                metric="uncached_seeks",
                unit="count",
                better="higher",
                value=float(verified),
                runs=1,
                min=float(verified),
                median=float(verified),
                max=float(verified),
                note=f"of {len(latencies)}: the seek had to fetch (what this scenario measures)",
            )
        )
    return records


# --- playback CPU and memory -------------------------------------------------------------------


def playback_cpu(ctx: Context) -> list[Record]:
    scenario = "playback-cpu"
    ladder = ctx.ladder()
    records: list[Record] = []
    seconds = ctx.settings.cpu_seconds
    with serving(ladder.out_dir) as server:
        url = server.url(ladder.master.name)
        base = [*kithara_argv(), "play", url, "--abr", "fixed:best", "--no-ui"]

        def play(length: float, output: str = "null") -> Any:
            argv = [*base, "--output", output]
            if length > 0:
                argv += ["--length", f"{length:g}"]
            result = run_process(
                argv,
                timeout=ctx.settings.timeout,
                env=ctx.env,
                stderr_path=ctx.tmp / "stderr.txt",
            ).check()
            ctx.log(
                f"  play {length:g} s -> {output}: wall {result.wall:.2f} s, "
                f"cpu {result.cpu:.2f} s, peak {result.maxrss_mb:.0f} MiB"
            )
            return result

        ctx.log(f"{scenario} [hls 256k]")
        play(0.1)  # warm-up
        whole, steady, rss = [], [], []
        budget = ctx.budget()
        for i in range(ctx.settings.cpu_rounds):
            if i > 0 and budget.spent:
                break
            short, full = play(0.1), play(seconds)
            whole.append(full.cpu / full.wall)
            extra_wall = full.wall - short.wall
            if extra_wall > 0:
                steady.append(max(0.0, full.cpu - short.cpu) / extra_wall)
            rss.append(max(full.maxrss_mb, short.maxrss_mb))
        case = "hls 256k"
        records.append(
            derived(
                scenario,
                case,
                "cpu_whole_run",
                "core",
                "lower",
                whole,
                f"CPU/wall of a whole {seconds:g} s play, start-up included",
            )
        )
        records.append(
            derived(
                scenario,
                case,
                "cpu_steady",
                "core",
                "lower",
                steady,
                f"(CPU of a {seconds:g} s play - CPU of a 0.1 s play) / (wall difference): "
                f"playback without start-up; target <= {CPU_TARGET:.2f}",
            )
        )
        records.append(
            derived(
                scenario,
                case,
                "peak_rss",
                "MiB",
                "lower",
                rss,
                f"ru_maxrss (wait4) of `kithara play --length {seconds:g}`",
            )
        )
        records.append(
            derived(
                scenario,
                case,
                "rss_over_target",
                "x",
                "lower",
                [v / RSS_TARGET_MB for v in rss],
                f"target {RSS_TARGET_MB:.0f} MiB",
            )
        )
        if ctx.settings.decode_speed:
            ctx.log(f"{scenario} [decode speed]")
            speeds = []
            for i in range(min(3, ctx.settings.runs)):
                if i > 0 and budget.spent:
                    break
                result = play(0, "wav:/dev/null")
                speeds.append(ladder.seconds / result.wall)
            records.append(
                derived(
                    scenario,
                    f"hls 256k {ladder.seconds:.0f}s to wav",
                    "decode_speed",
                    "x realtime",
                    "higher",
                    speeds,
                    "--output wav:/dev/null: whole stream, wall time incl. start-up",
                )
            )
    return records


# --- dashboard ---------------------------------------------------------------------------------

_DASHBOARD_CHILD = """
import json, sys
try:
    from kithara_cli.ui.dashboard import measure_dashboard_cpu
except (ImportError, AttributeError) as exc:
    print(json.dumps({"unavailable": f"{type(exc).__name__}: {exc}"}))
    sys.exit(0)
print(json.dumps({"fraction": float(measure_dashboard_cpu(float(sys.argv[1])))}))
"""


def dashboard_cpu(ctx: Context) -> list[Record]:
    scenario = "dashboard-cpu"
    seconds = ctx.settings.dashboard_seconds
    values = []
    for _ in range(ctx.settings.dashboard_runs):
        argv = [sys.executable, "-c", _DASHBOARD_CHILD, f"{seconds:g}"]
        try:
            out = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                env=ctx.env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise RunFailed(f"timed out after {seconds + 60:.0f} s", argv) from exc
        if out.returncode != 0:
            raise RunFailed(f"exit status {out.returncode}", argv, out.stderr[-600:])
        try:
            data = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError) as exc:
            raise RunFailed("no JSON from measure_dashboard_cpu", argv, out.stderr[-600:]) from exc
        if "unavailable" in data:
            raise Unavailable(
                f"kithara_cli.ui.dashboard.measure_dashboard_cpu: {data['unavailable']}"
            )
        values.append(float(data["fraction"]))
        ctx.log(f"  dashboard: {values[-1]:.4f} of a core")
    return [
        derived(
            scenario,
            "10 Hz",
            "cpu",
            "core",
            "lower",
            values,
            f"measure_dashboard_cpu({seconds:g}): UI thread time / wall; target <= "
            f"{DASHBOARD_TARGET:.2f}",
        )
    ]


# --- ABR ---------------------------------------------------------------------------------------


def abr(ctx: Context) -> list[Record]:
    """The ABR simulator: every algorithm on the synthetic profiles and the shipped traces
    (quick: a fixed subset, see report.QUICK_TRACES). Records: the issue's targets, and per
    group (split / class) kithara's QoE against the best baseline's; JSON only, every trace's
    QoE, rebuffer seconds, bitrate and switches for every algorithm (peer = that algorithm)."""
    from kithara_cli.abr.profiles import default_traces_dir
    from kithara_cli.abr.report import (
        DEFAULT_SEEDS,
        KITHARA,
        QUICK_SEEDS,
        QUICK_TRACES,
        check_targets,
        group_summary,
        run_abr_benchmark,
    )
    from kithara_cli.abr.report import summarize as abr_summary

    scenario = "abr"
    traces = default_traces_dir()
    quick = ctx.settings.mode != "full"
    results = run_abr_benchmark(
        traces,
        QUICK_SEEDS if quick else DEFAULT_SEEDS,
        trace_names=QUICK_TRACES if quick else None,
        workers=1 if quick else 2,
    )
    ctx._media["abr-results"] = results
    failed = check_targets(results, require_traces=traces is not None)
    synthetic_failed = [line for line in failed if not line.startswith("validation")]

    def count(case: str, value: int, note: str) -> Record:
        return Record(
            scenario=scenario,
            case=case,
            metric="failed_targets",
            unit="count",
            better="lower",
            value=float(value),
            runs=1,
            min=float(value),
            median=float(value),
            max=float(value),
            note=note,
        )

    notes = "; ".join(failed[:6]) + (f"; ... {len(failed) - 6} more" if len(failed) > 6 else "")
    records = [
        count(
            "targets",
            len(failed),
            notes or "all ABR targets met" + ("" if traces is not None else " (no traces found)"),
        ),
        count("synthetic targets", len(synthetic_failed), "; ".join(synthetic_failed)),
    ]
    for row in group_summary(results):
        if row.algorithm != KITHARA:
            continue
        others = [
            g
            for g in group_summary(results)
            if g.group == row.group and g.algorithm not in (KITHARA, "fixed-highest")
        ]
        best = max(others, key=lambda g: g.qoe, default=None)
        records.append(
            Record(
                scenario=scenario,
                case=row.group,
                metric="qoe",
                unit="per segment",
                better="higher",
                value=row.qoe,
                runs=row.profiles,
                min=row.qoe,
                median=row.qoe,
                max=row.qoe,
                peer="best baseline" if best else None,
                peer_value=best.qoe if best else None,
                peer_ratio=(row.qoe / best.qoe) if best and best.qoe > 0 else None,
                note=(
                    f"best baseline {best.algorithm if best else '-'}; "
                    f"rebuffer {row.rebuffer_s:.1f} s/session, {row.bitrate_kbps:.0f} kbit/s, "
                    f"{row.switches_per_100:.1f} switches/100 seg, best or within 2 %: "
                    f"{row.near_best:.0%}"
                ),
            )
        )
    summary = abr_summary(results)
    mine = {r.profile: r for r in summary if r.algorithm == KITHARA and r.kind == "trace"}
    for r in summary:
        if r.kind != "trace":
            continue
        k = mine.get(r.profile)
        case = f"{r.split or 'all'}/{r.category}/{r.profile}"
        for metric, unit, better, value, kvalue in (
            ("qoe", "per segment", "higher", r.qoe, k.qoe if k else None),
            ("rebuffer_s", "s", "lower", r.rebuffer_s, k.rebuffer_s if k else None),
            (
                "bitrate",
                "kbit/s",
                "higher",
                r.bitrate_bps / 1000,
                k.bitrate_bps / 1000 if k else None,
            ),
            (
                "switches_per_100",
                "per 100 segments",
                "lower",
                100 * r.switches / max(r.segments, 1),
                100 * k.switches / max(k.segments, 1) if k else None,
            ),
        ):
            own = r.algorithm == KITHARA
            records.append(
                Record(
                    scenario=scenario,
                    case=case,
                    metric=metric,
                    unit=unit,
                    better=better,  # type: ignore[arg-type]
                    value=kvalue,
                    runs=1,
                    peer=None if own else r.algorithm,
                    peer_value=None if own else value,
                    peer_ratio=(kvalue / value)
                    if not own and kvalue is not None and value
                    else None,
                    in_table=False,
                )
            )
    return records


# --- the registry ------------------------------------------------------------------------------


def abr_real(ctx: Context) -> list[Record]:
    """The ABR's real tier: the whole player against the server following each profile."""
    if ctx.settings.mode != "full":
        raise Unavailable("full run only: it plays each profile for 60 s in real time")
    from kithara_cli.bench.abr_real import run_real_tier

    records: list[Record] = []
    for result in run_real_tier(seconds=60.0):
        case = f"{result.profile} (real, 60 s)"
        for metric, value, unit, better in (
            ("qoe", result.qoe_per_segment, "per segment", "higher"),
            ("rebuffers", float(result.rebuffers), "count", "lower"),
            ("rebuffer_s", result.rebuffer_s, "s", "lower"),
            ("switches", float(result.switches), "count", "lower"),
            ("startup", result.startup_s, "s", "lower"),
            ("mean_bitrate", result.mean_kbps, "kbit/s", "higher"),
        ):
            records.append(
                Record(
                    scenario="abr-real",
                    case=case,
                    metric=metric,
                    unit=unit,
                    better=better,  # type: ignore[arg-type]
                    value=value,
                    runs=1,
                    min=value,
                    median=value,
                    max=value,
                )
            )
    return records


def radio(ctx: Context) -> list[Record]:
    from kithara_cli.bench.scenario_radio import radio as run

    return run(ctx)


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Context], list[Record]]
    about: str
    weight: float = 10.0
    """Its usual share of a quick run, in seconds: how the quick time budget is split."""


def cache_replay(ctx: Context) -> list[Record]:
    """Issue 18's scenario, in bench/cache_replay.py (imported late: it imports this one)."""
    from kithara_cli.bench.cache_replay import run

    return run(ctx)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "progressive-throughput",
            progressive_throughput,
            "fetch a random file at loopback speed: kithara -c 4 (and -c 1) vs curl",
            8,
        ),
        Scenario(
            "progressive-throttled",
            progressive_throttled,
            "2 MB/s per connection: kithara -c 4 (and -c 1) vs curl on one connection",
            21,
        ),
        Scenario(
            "fetch-rss",
            fetch_rss,
            "peak RSS of `kithara fetch -c 4` of a 1 GB file (quick: the progressive file)",
            3,
        ),
        Scenario(
            "hls-fetch",
            hls_fetch_scenario,
            "fetch the best variant of a 3-variant ladder at 0 and 50 ms: vs ffmpeg, yt-dlp "
            "-N 4, streamlink (4 segment threads); against the issue's targets and a floor",
            26,
        ),
        Scenario(
            "time-to-first-audio",
            time_to_first_audio,
            "process start -> first audio, progressive MP3 and HLS at 0 and 50 ms, vs ffmpeg "
            "(first PCM byte); split into start-up / network / decode",
            27,
        ),
        Scenario(
            "seek",
            seek_latency,
            "uncached seek latency at 50 ms (progressive MP3 and HLS), vs 2 x RTT + 100 ms",
            8,
        ),
        Scenario(
            "playback-cpu",
            playback_cpu,
            "CPU (fraction of a core) and peak RSS of `kithara play` of the 256k variant; "
            "full run: decode speed to wav",
            11,
        ),
        Scenario(
            "dashboard-cpu",
            dashboard_cpu,
            "CPU of the live dashboard at 10 Hz with 16 requests in flight",
            4,
        ),
        Scenario(
            "abr",
            abr,
            "ABR simulator: QoE per profile vs the baseline algorithms, and the issue's targets",
            3,
        ),
        Scenario(
            "hls-failover",
            hls_failover,
            "play while every segment of the top variant answers 503 (auto ABR starts there): "
            "first audio, rebuffers, requests the failing variant got",
            20,
        ),
        Scenario(
            "cache",
            cache_replay,
            "issue 18: first audio of a replay from the persistent cache (online and --offline) "
            "vs the first play and ffmpeg, MP3 and HLS at 50 ms; seeks into cached bytes",
            12,
        ),
        Scenario(
            "radio",
            radio,
            "ICY MP3 stream and a .pls link (dead first mirror) at 50 ms: first audio vs mpv "
            "and ffmpeg; RSS growth and CPU over a long stream at 20x pace, vs mpv",
            16,
        ),
        Scenario(
            "abr-real",
            abr_real,
            "ABR real tier (full run only): the player against the loopback server following "
            "each synthetic profile, compressed into 60 s of playback",
            0,
        ),
    )
}
