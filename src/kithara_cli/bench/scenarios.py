"""The scenarios: what is measured, on which media, against which peers (the registry).

Each scenario is a function ``(ctx) -> list[Record]`` registered in :data:`SCENARIOS`. It
starts its own loopback :class:`~kithara_cli.server.MediaServer` over media from the cache (or
the run's temp dir), runs kithara and the peers alternately, and stops the server before it
returns. Raising :class:`Unavailable` marks the scenario unavailable (not failed);
:class:`~kithara_cli.bench.runner.RunFailed` from kithara marks it failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kithara_cli.bench.context import (
    FULL_LADDER_SEGMENTS,
    MB,
    SEEK_LATENCY,
    THROTTLE_RATE,
    Context,
    Settings,
    Unavailable,
    make_settings,
    shrunk,
)
from kithara_cli.bench.records import comparison, fetch_span, ms
from kithara_cli.bench.report import Record
from kithara_cli.bench.scenario_abr import abr, abr_real
from kithara_cli.bench.scenario_fetch import (
    fetch_rss,
    hls_fetch_scenario,
    hls_target,
    progressive_throttled,
    progressive_throughput,
)
from kithara_cli.bench.scenario_playback import dashboard_cpu, playback_cpu, seek_latency
from kithara_cli.bench.scenario_startup import hls_failover, parse_first_audio, time_to_first_audio

__all__ = [
    "FULL_LADDER_SEGMENTS",
    "SCENARIOS",
    "Context",
    "Scenario",
    "Settings",
    "Unavailable",
    "comparison",
    "fetch_span",
    "hls_target",
    "make_settings",
    "parse_first_audio",
    "shrunk",
]


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
    cases: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    """The cases and metrics its records name, in any mode (fnmatch patterns where a name is
    made from data): a baseline entry naming anything else is refused before the run, not
    skipped as "no such record" (``compare.parse_entry``)."""


_THROTTLED = f"{THROTTLE_RATE / MB:.0f}MB/s/conn"


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
            ("unthrottled", "unthrottled -c 1"),
            ("throughput", "overhead"),
        ),
        Scenario(
            "progressive-throttled",
            progressive_throttled,
            "2 MB/s per connection: kithara -c 4 (and -c 1) vs curl on one connection",
            21,
            (f"{_THROTTLED} -c 4", f"{_THROTTLED} -c 1"),
            ("throughput", "overhead"),
        ),
        Scenario(
            "fetch-rss",
            fetch_rss,
            "peak RSS of `kithara fetch -c 4` of a 1 GB file (quick: the progressive file), "
            "with the persistent cache off and on",
            3,
            ("* MB -c 4", "* MB -c 4, cache on"),
            ("peak_rss", "rss_over_target"),
        ),
        Scenario(
            "hls-fetch",
            hls_fetch_scenario,
            "fetch the best variant of a 3-variant ladder at 0 and 50 ms: vs ffmpeg, yt-dlp "
            "-N 4, streamlink (4 segment threads); against the issue's targets and a floor",
            26,
            ("0ms", "50ms"),
            ("time", "overhead", "time_over_target", "time_over_floor"),
        ),
        Scenario(
            "time-to-first-audio",
            time_to_first_audio,
            "process start -> first audio, progressive MP3 and HLS at 0 and 50 ms, and a "
            "podcast MP3 behind 1 MB of cover art and an M4A with as much in its moov, at 8 "
            "Mbit/s, vs ffmpeg (first PCM byte); "
            "split into start-up / network / decode",
            32,
            (
                "python+cli import",
                "mp3 0ms",
                "mp3 50ms",
                "hls 0ms",
                "hls 50ms",
                "mp3 50ms dashboard",
                "mp3 cover art 50ms",
                "m4a cover art 50ms",
                "demo",
            ),
            ("ttfa", "startup", "network", "decode"),
        ),
        Scenario(
            "seek",
            seek_latency,
            "uncached seek latency at 50 ms (progressive MP3 and HLS), vs 2 x RTT + 100 ms",
            8,
            (f"mp3 {ms(SEEK_LATENCY)}", f"hls {ms(SEEK_LATENCY)}"),
            ("latency", "latency_over_target", "uncached_seeks"),
        ),
        Scenario(
            "playback-cpu",
            playback_cpu,
            "CPU (fraction of a core) and peak RSS of `kithara play` of the 256k variant; "
            "full run: decode speed to wav",
            11,
            ("hls 256k", "hls 256k *s to wav"),
            ("cpu_whole_run", "cpu_steady", "peak_rss", "rss_over_target", "decode_speed"),
        ),
        Scenario(
            "dashboard-cpu",
            dashboard_cpu,
            "CPU of the live dashboard at 10 Hz with 16 requests in flight",
            4,
            ("10 Hz",),
            ("cpu",),
        ),
        Scenario(
            "abr",
            abr,
            "ABR simulator: QoE per profile vs the baseline algorithms, and the issue's targets",
            3,
            # groups (split/class) and traces (split/class/profile) come from the corpus
            ("targets", "synthetic targets", "synthetic", "originals", "*/*"),
            ("failed_targets", "qoe", "rebuffer_s", "bitrate", "switches_per_100"),
        ),
        Scenario(
            "hls-failover",
            hls_failover,
            "play while every segment of the top variant answers 503 (auto ABR starts there): "
            "first audio, rebuffers, requests the failing variant got",
            20,
            ("top variant 503",),
            ("ttfa", "rebuffers", "stalled", "top_requests"),
        ),
        Scenario(
            "cache",
            cache_replay,
            "issue 18: first audio of a replay from the persistent cache (online and --offline) "
            "vs the first play and ffmpeg, MP3 and HLS at 50 ms; seeks into cached bytes",
            12,
            ("mp3 50ms", "hls 50ms"),
            (
                "replay_ttfa",
                "first_ttfa",
                "revalidated_ttfa",
                "offline_ttfa",
                "replay_over_first",
                "revalidated_over_first",
                "replay_over_ffmpeg",
                "offline_over_first",
                "cached_seek",
            ),
        ),
        Scenario(
            "radio",
            radio,
            "ICY MP3 stream and a .pls link (dead first mirror) at 50 ms: first audio vs mpv "
            "and ffmpeg; RSS growth and CPU over a long stream at 20x pace, vs mpv",
            16,
            ("icy mp3 50ms", "pls 50ms", "long stream *x"),
            ("ttfa", "* rss growth", "* rss", "* cpu"),  # per player: kithara, mpv
        ),
        Scenario(
            "abr-real",
            abr_real,
            "ABR real tier (full run only): the player against the loopback server following "
            "each synthetic profile, compressed into 60 s of playback",
            0,
            ("* (real, 60 s)",),
            ("qoe", "rebuffers", "rebuffer_s", "switches", "startup", "mean_bitrate"),
        ),
    )
}
