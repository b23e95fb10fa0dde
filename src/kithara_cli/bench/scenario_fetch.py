"""Fetch scenarios: progressive throughput (loopback and throttled), fetch memory, HLS fetch."""

from __future__ import annotations

import functools
import shutil
import sys
from typing import Any

from kithara_cli.bench.context import (
    FULL_LADDER_SEGMENTS,
    HLS_STARTUP_ALLOWANCE,
    HLS_TARGETS,
    MB,
    THROTTLE_RATE,
    Context,
    serving,
)
from kithara_cli.bench.peers import curl_fetch, hls_fetch
from kithara_cli.bench.records import (
    OVERHEAD_NOTE,
    comparison,
    derived,
    failed_case,
    kithara_fetch,
    ms,
    rss_records,
    split_peers,
)
from kithara_cli.bench.report import Record
from kithara_cli.bench.runner import (
    RunFailed,
    alternate,
    kithara_argv,
)
from kithara_cli.bench.stats import summarize

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
                    functools.partial(kithara_fetch, ctx, argv, f"kithara {case}", overheads),
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
    """Peak RSS of ``kithara fetch -c 4`` of a big file: bytes go to disk, never pile up. Also
    with the persistent cache on, as a user runs it: the cache's writes must not pile up either
    (the bench runs everything else with the cache off)."""
    from kithara_cli.server import Faults

    scenario = "fetch-rss"
    size_mb = FETCH_RSS_FULL_MB if ctx.settings.mode == "full" else ctx.settings.progressive_mb
    blob = ctx.blob(size_mb)
    out = ctx.out_dir() / "rss.bin"
    records: list[Record] = []
    with serving(blob.parent) as server:
        server.set_faults("*", Faults())
        argv = [*kithara_argv(), "fetch", server.url(blob.name), "-o", str(out), "-q", "--force"]
        for label, extra in (("", []), (", cache on", ["--cache-dir", str(ctx.tmp / "rss-cache")])):
            ctx.log(f"{scenario} [{size_mb} MB{label}]")
            rss: list[float] = []
            for _ in range(1 if ctx.settings.mode == "full" else 2):
                shutil.rmtree(ctx.tmp / "rss-cache", ignore_errors=True)
                result = ctx.run([*argv, *extra])
                if out.stat().st_size != size_mb * MB:
                    raise RunFailed(f"kithara wrote {out.stat().st_size} bytes", argv)
                ctx.log(f"  kithara: {result.wall:.2f} s, peak {result.maxrss_mb:.0f} MiB")
                rss.append(result.maxrss_mb)
            case = f"{size_mb} MB -c 4{label}"
            records += rss_records(scenario, case, rss, FETCH_RSS_TARGET_MB, "ru_maxrss (wait4)")
    shutil.rmtree(ctx.tmp / "rss-cache", ignore_errors=True)
    ctx.clear_out()
    return records


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

    def measure() -> float:
        code = (
            "import kithara_cli.cli, kithara_cli.commands.fetch, kithara_cli.commands.fetch_hls, "
            "kithara_cli.dl"
        )
        argv = [sys.executable, "-c", code]
        ctx.timed(argv, "fetch imports (warm-up)")
        values = [ctx.timed(argv, "fetch imports") for _ in range(3)]
        return summarize(values).median

    return ctx.once("fetch-startup", measure)


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
                    functools.partial(kithara_fetch, ctx, argv, "kithara", overheads),
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
