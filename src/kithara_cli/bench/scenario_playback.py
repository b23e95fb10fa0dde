"""Playback scenarios: seek latency, playback CPU and memory, the dashboard's CPU."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kithara_cli.bench.context import (
    CPU_TARGET,
    DASHBOARD_TARGET,
    RSS_TARGET_MB,
    SEEK_DWELL,
    SEEK_FRACTIONS,
    SEEK_LATENCY,
    SEEK_PROGRESSIVE_RATE,
    SEEK_WARMUP_FRACTION,
    Context,
    Unavailable,
    serving,
)
from kithara_cli.bench.records import _grew, derived, failed_case, ms, rss_records
from kithara_cli.bench.report import Record
from kithara_cli.bench.runner import (
    RunFailed,
    kithara_argv,
)

if TYPE_CHECKING:
    from kithara_cli.bench.runner import ProcResult
    from kithara_cli.events import EventBus
    from kithara_cli.events.types import Event, PlaybackStarted, SeekCompleted
    from kithara_cli.play import Player
    from kithara_cli.server import MediaServer, RequestRecord

# --- seek --------------------------------------------------------------------------------------


class _Waiter:
    """Collects playback events from the bus and waits for them."""

    def __init__(self, bus: EventBus) -> None:
        from kithara_cli.events.types import PlaybackStarted, SeekCompleted

        self._types = (PlaybackStarted, SeekCompleted)
        self._cond = threading.Condition()
        self.started: list[PlaybackStarted] = []
        self.seeks: list[SeekCompleted] = []
        self._unsubscribe = bus.subscribe(self._on)

    def _on(self, event: Event) -> None:
        started, completed = self._types
        if isinstance(event, started | completed):
            with self._cond:
                if isinstance(event, started):
                    self.started.append(event)
                else:
                    self.seeks.append(event)
                self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def close(self) -> None:
        self._unsubscribe()


def open_until_started(player: Player, waiter: _Waiter, url: str) -> None:
    """Open ``url`` and wait for its first audio, then (up to 5 s) for its duration."""
    player.open(url)
    if not waiter.wait(lambda: bool(waiter.started), 20):
        raise RunFailed(f"no PlaybackStarted within 20 s for {url}")
    deadline = time.monotonic() + 5
    while player.snapshot.duration is None and time.monotonic() < deadline:
        time.sleep(0.02)


def _seek_run(
    ctx: Context,
    server: MediaServer,
    url: str,
    duration: float,
    uncached: Callable[[float, list[RequestRecord]], bool],
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
                open_until_started(player, waiter, url)
                fractions = (SEEK_WARMUP_FRACTION, *SEEK_FRACTIONS[:count])
                for n, fraction in enumerate(fractions):
                    if player.error is not None:
                        raise RunFailed(f"playback failed: {player.error}")
                    target = fraction * duration
                    before = len(server.stats.requests())
                    done = len(waiter.seeks)
                    player.seek_to(target)
                    limit = ctx.settings.seek_timeout
                    if not waiter.wait(_grew(waiter.seeks, done), limit):
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

    def mp3_uncached(t: float, new: list[RequestRecord]) -> bool:
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

    def hls_uncached(t: float, new: list[RequestRecord]) -> bool:
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
            derived(
                scenario,
                case,
                "uncached_seeks",
                "count",
                "higher",
                [float(verified)],
                f"of {len(latencies)}: the seek had to fetch (what this scenario measures)",
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

        def play(length: float, output: str = "null") -> ProcResult:
            argv = [*base, "--output", output]
            if length > 0:
                argv += ["--length", f"{length:g}"]
            result = ctx.run(argv)
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
        records += rss_records(
            scenario,
            case,
            rss,
            RSS_TARGET_MB,
            f"ru_maxrss (wait4) of `kithara play --length {seconds:g}`",
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
