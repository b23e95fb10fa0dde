"""The ``cache`` scenario: a replay from the persistent cache against the first play.

Time to first audio (process start -> first sample, as ``time-to-first-audio`` measures it)
of a play with an empty cache, of an online replay and of an ``--offline`` replay, MP3 and
HLS at 50 ms per request, with ffmpeg's first PCM byte as the peer; and the latency of
in-process seeks into a fully cached file. The online replay is timed twice, against two
servers of the same files: one sending ``Cache-Control: public, max-age=86400`` as podcast
CDNs do on media (a fresh entry is used without asking: ``replay_ttfa``) and one sending
``no-cache`` (every file and playlist is revalidated first, one conditional request each:
``revalidated_ttfa``). Targets (issue 18): replay first audio <= 0.7 x the first play's and
<= ffmpeg's; a cached seek <= 30 ms.
"""

from __future__ import annotations

import functools
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kithara_cli.bench.context import SEEK_FRACTIONS, Context, serving
from kithara_cli.bench.peers import ffmpeg_pcm
from kithara_cli.bench.records import comparison, derived, failed_case, ms, split_peers
from kithara_cli.bench.report import Record
from kithara_cli.bench.runner import (
    RunFailed,
    Series,
    alternate,
    kithara_argv,
    time_to_first_stdout_byte,
)
from kithara_cli.bench.scenario_playback import _Waiter, open_until_started
from kithara_cli.bench.scenario_startup import parse_first_audio

SCENARIO = "cache"
LATENCY = 0.05
REPLAY_RATIO_TARGET = 0.7
SEEK_TARGET = 0.030
CDN_CACHE_CONTROL = "public, max-age=86400"  # a podcast CDN's media (RFC 9111 freshness)
REVALIDATE = "no-cache"  # every use checked with the server first


def run(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    records: list[Record] = []
    ladder, mp3 = ctx.ladder(), ctx.mp3()
    budget = ctx.budget()
    found, missing = split_peers(ctx, ("ffmpeg",))
    events = ctx.tmp / "cache-events.jsonl"
    cache_root = ctx.tmp / "cache-dirs"
    with (
        serving(ladder.out_dir) as hls_server,
        serving(mp3.parent) as mp3_server,
        serving(ladder.out_dir) as hls_checked,
        serving(mp3.parent) as mp3_checked,
    ):
        cases = [
            ("mp3", mp3_server, mp3_server.url(mp3.name), mp3_checked.url(mp3.name)),
            (
                "hls",
                hls_server,
                hls_server.url(ladder.master.name),
                hls_checked.url(ladder.master.name),
            ),
        ]
        for kind, server, url, checked_url in cases:
            server.set_faults("*", Faults(latency=LATENCY, cache_control=CDN_CACHE_CONTROL))
            checked_server = mp3_checked if kind == "mp3" else hls_checked
            checked_server.set_faults("*", Faults(latency=LATENCY, cache_control=REVALIDATE))
            case = f"{kind} {ms(LATENCY)}"
            warm_dir = cache_root / f"{kind}-warm"
            shutil.rmtree(warm_dir, ignore_errors=True)
            runs = {"first": 0}

            def ttfa(cache_dir: Path, *extra: str, url: str = url) -> float:
                argv = [*kithara_argv(), "play", url, "--output", "null", "--no-ui"]
                argv += ["--length", "0.1", "--events", str(events), "--cache-dir"]
                argv += [str(cache_dir), *extra]
                proc = ctx.run(argv)
                return parse_first_audio(events.read_text().splitlines(), proc.started_at).ttfa

            def first(kind: str = kind, runs: dict[str, int] = runs) -> float:
                runs["first"] += 1
                fresh = cache_root / f"{kind}-cold-{runs['first']}"
                shutil.rmtree(fresh, ignore_errors=True)
                try:
                    return ttfa(fresh)
                finally:
                    shutil.rmtree(fresh, ignore_errors=True)

            def replay(warm_dir: Path = warm_dir) -> float:
                return ttfa(warm_dir)

            def revalidated(warm_dir: Path = warm_dir, url: str = checked_url) -> float:
                return ttfa(warm_dir, url=url)

            def offline(warm_dir: Path = warm_dir) -> float:
                return ttfa(warm_dir, "--offline")

            def ffmpeg_ttfa(url: str = url) -> float:
                return time_to_first_stdout_byte(
                    ffmpeg_pcm(found[0], url), timeout=ctx.settings.timeout, env=ctx.env
                )

            ctx.log(f"{SCENARIO} [{case}]")
            try:
                replay()  # fills the warm cache with what a start needs
                revalidated()  # (the no-cache server's URLs are other cache entries)
                peers: dict[str, Callable[[], float]] = {
                    "first play": first,
                    "revalidated": revalidated,
                    "offline": offline,
                }
                if found:
                    peers["ffmpeg"] = ffmpeg_ttfa
                k, series, errors = alternate(replay, peers, ctx.settings.runs, budget)
            except RunFailed as exc:
                records.append(failed_case(SCENARIO, case, "replay_ttfa", exc))
                continue
            ctx.log(
                f"  replay {statistics.median(k.values):.3f} s, revalidated "
                f"{_median(series['revalidated']):.3f} s, first "
                f"{_median(series['first play']):.3f} s, offline "
                f"{_median(series['offline']):.3f} s"
            )
            ffmpeg_series = {"ffmpeg": series["ffmpeg"]} if "ffmpeg" in series else {}
            records += comparison(
                SCENARIO,
                case,
                "replay_ttfa",
                "s",
                "lower",
                k,
                ffmpeg_series,
                errors,
                missing,
                note=f"online replay, server sends Cache-Control: {CDN_CACHE_CONTROL} (fresh: "
                "no request before audio): process start -> first sample; ffmpeg: first PCM "
                "byte, no cache",
            )
            records.append(
                derived(SCENARIO, case, "first_ttfa", "s", "lower", series["first play"].values)
            )
            records.append(
                derived(
                    SCENARIO,
                    case,
                    "revalidated_ttfa",
                    "s",
                    "lower",
                    series["revalidated"].values,
                    "online replay, server sends no-cache: one conditional request per "
                    "file/playlist before any audio",
                )
            )
            records.append(
                derived(SCENARIO, case, "offline_ttfa", "s", "lower", series["offline"].values)
            )
            records.append(_ratio(case, "replay_over_first", k, series["first play"]))
            records.append(
                _ratio(case, "revalidated_over_first", series["revalidated"], series["first play"])
            )
            if "ffmpeg" in series:
                records.append(_ratio(case, "replay_over_ffmpeg", k, series["ffmpeg"], 1.0))
            records.append(
                _ratio(case, "offline_over_first", series["offline"], series["first play"])
            )
            try:
                latencies = _cached_seeks(ctx, server, url, kind, cache_root)
            except RunFailed as exc:
                records.append(failed_case(SCENARIO, case, "cached_seek", exc))
                continue
            records.append(
                derived(
                    SCENARIO,
                    case,
                    "cached_seek",
                    "s",
                    "lower",
                    latencies,
                    f"in-process seeks into a fully cached stream; target {SEEK_TARGET * 1000:.0f} ms",
                )
            )
    events.unlink(missing_ok=True)
    shutil.rmtree(cache_root, ignore_errors=True)
    return records


def _median(series: Series) -> float:
    return statistics.median(series.values) if series.values else float("nan")


def _ratio(
    case: str, metric: str, a: Series, b: Series, target: float = REPLAY_RATIO_TARGET
) -> Record:
    n = min(len(a.values), len(b.values))
    ratios = [x / y for x, y in zip(a.values[:n], b.values[:n], strict=True) if y > 0]
    return derived(
        SCENARIO,
        case,
        metric,
        "x",
        "lower",
        ratios or [float("nan")],
        f"paired runs; target <= {target}",
    )


def _cached_seeks(ctx: Context, server: Any, url: str, kind: str, root: Path) -> list[float]:
    """Seed a cache with the whole stream (kithara fetch), then seek in-process; the server
    log must show no media request during the seeks."""
    from kithara_cli.cache import open_cache
    from kithara_cli.dl import Downloader
    from kithara_cli.events import EventBus
    from kithara_cli.play import Player, PlayerSettings

    cache_dir = root / f"{kind}-seek"
    shutil.rmtree(cache_dir, ignore_errors=True)
    variants = [[]] if kind == "mp3" else [["--variant", str(i)] for i in range(3)]
    for extra in variants:
        out = ctx.tmp / "cache-seed.out"
        argv = [*kithara_argv(), "fetch", url, "-o", str(out), "-f", "-q"]
        argv += ["--cache-dir", str(cache_dir), *extra]
        ctx.run(argv)
        out.unlink(missing_ok=True)
    bus = EventBus()
    waiter = _Waiter(bus)
    cache = open_cache(cache_dir)
    latencies: list[float] = []
    try:
        with Downloader(bus, max_concurrent=4, cache=cache) as dl:
            player = Player(bus, PlayerSettings(output="null"), dl)
            try:
                open_until_started(player, waiter, url)
                duration = player.snapshot.duration or 0.0
                if duration <= 0:
                    raise RunFailed("no duration: cannot aim seeks")
                for fraction in SEEK_FRACTIONS[: max(3, ctx.settings.seeks)]:
                    before = len(server.stats.requests())
                    done = len(waiter.seeks)
                    player.seek_to(fraction * duration)
                    if not waiter.wait(functools.partial(_more_than, waiter.seeks, done), 10):
                        raise RunFailed(f"cached seek to {fraction:.0%}: no SeekCompleted")
                    went = [r.path for r in server.stats.requests()[before:]]
                    media = [p for p in went if not p.endswith(".m3u8")]
                    if media:
                        raise RunFailed(f"a cached seek went to the network: {media[:3]}")
                    latencies.append(float(waiter.seeks[-1].latency))
                    ctx.log(f"  cached seek to {fraction:.0%}: {latencies[-1] * 1000:.1f} ms")
                    time.sleep(0.2)
            finally:
                player.close()
    finally:
        waiter.close()
        cache.close()
    return latencies


def _more_than(seen: list[Any], count: int) -> bool:
    return len(seen) > count
