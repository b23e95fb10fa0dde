"""Start-up scenarios: time to first audio, and first audio while the top variant fails."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from kithara_cli.bench.context import Context, serving
from kithara_cli.bench.peers import ffmpeg_pcm
from kithara_cli.bench.records import comparison, derived, failed_case, ms, split_peers
from kithara_cli.bench.report import Record
from kithara_cli.bench.runner import (
    RunFailed,
    alternate,
    kithara_argv,
    repeat,
    time_to_first_stdout_byte,
)

# --- time to first audio -----------------------------------------------------------------------

_TTFA_NOTE = "process start -> first sample to the output (ffmpeg: first PCM byte)"


@dataclass
class FirstAudio:
    """Time to first audio and its split; the three parts add up to ``ttfa`` (work
    overlapping the network counts as network)."""

    ttfa: float
    startup: float | None = None
    """Process start -> first request enqueued (Python, imports, set-up)."""
    network: float | None = None
    """First request enqueued -> the last first byte before audio (the chain of round trips
    that audio needed)."""
    decode: float | None = None
    """The rest, up to the first sample handed to the output."""


def parse_first_audio(lines: list[str], spawned_at: float | None = None) -> FirstAudio:
    """From ``--events`` JSON Lines: time to first audio and its split.

    With ``spawned_at`` (``time.monotonic()`` just before the fork, the clock the events use)
    time to first audio is taken from there, as ffmpeg's is from its spawn. Without it, the
    event's own figure: process creation from /proc, in 10 ms clock ticks.
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
    podcast, podcast_m4a = ctx.podcast_mp3(), ctx.podcast_m4a()
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
    with (
        serving(ladder.out_dir) as hls_server,
        serving(mp3.parent) as mp3_server,
        serving(podcast.parent) as podcast_server,
        serving(podcast_m4a.parent) as m4a_server,
    ):
        # "mp3 cover art": a podcast episode whose ID3 tag holds 1 MB of cover art, over an
        # 8 Mbit/s link; "m4a cover art": the same art in a faststart M4A's moov. The case
        # with the dashboard runs on a pseudo-terminal, as users do.
        cases = [
            ("mp3", 0.0, mp3_server, mp3_server.url(mp3.name), False, None),
            ("mp3", 0.05, mp3_server, mp3_server.url(mp3.name), False, None),
            ("hls", 0.0, hls_server, hls_server.url(ladder.master.name), False, None),
            ("hls", 0.05, hls_server, hls_server.url(ladder.master.name), False, None),
            ("mp3", 0.05, mp3_server, mp3_server.url(mp3.name), True, None),
            ("mp3 cover art", 0.05, podcast_server, podcast_server.url(podcast.name), False, 1e6),
            ("m4a cover art", 0.05, m4a_server, m4a_server.url(podcast_m4a.name), False, 1e6),
        ]
        for i, (kind, latency, server, url, ui, rate) in enumerate(cases):
            server.set_faults("*", Faults(latency=latency, rate_total=rate))
            case = f"{kind} {ms(latency)}" + (" dashboard" if ui else "")
            splits: list[FirstAudio] = []

            def kithara_ttfa(
                url: str = url, case: str = case, splits: list = splits, ui: bool = ui
            ) -> float:
                play = [*kithara_argv(), "play", url, "--output", "null"]
                play += [] if ui else ["--no-ui"]
                play += ["--length", "0.1", "--events", str(events_path)]
                proc = ctx.run(play, terminal=ui)
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
                scenario, case, "ttfa", "s", "lower", k, peers, errors, missing, note=_TTFA_NOTE
            )
            for part in ("startup", "network", "decode"):
                values = [getattr(s, part) for s in splits if getattr(s, part) is not None]
                if values:
                    records.append(derived(scenario, case, part, "s", "lower", values))
    records += demo_first_audio(ctx, scenario)
    events_path.unlink(missing_ok=True)
    return records


def demo_first_audio(ctx: Context, scenario: str) -> list[Record]:
    """``kithara play --demo`` (what ``scripts/quickstart.sh play`` runs): first audio and its
    split, reported only (no peer plays the demo). It counts what the demo adds, its server
    starting while the player loads; the warm-up run builds its ladder if it is missing."""
    case = "demo"
    events_path = ctx.tmp / "demo-events.jsonl"
    splits: list[FirstAudio] = []

    def demo_ttfa() -> float:
        play = [*kithara_argv(), "play", "--demo", "--output", "null", "--no-ui"]
        play += ["--length", "0.1", "--events", str(events_path)]
        proc = ctx.run(play)
        first = parse_first_audio(events_path.read_text().splitlines(), proc.started_at)
        splits.append(first)
        ctx.log(f"  kithara {case}: first audio {first.ttfa:.3f} s")
        return first.ttfa

    ctx.log(f"{scenario} [{case}]")
    try:
        series = repeat(demo_ttfa, ctx.settings.runs, ctx.budget())
    except RunFailed as exc:
        return [failed_case(scenario, case, "ttfa", exc)]
    finally:
        events_path.unlink(missing_ok=True)
    splits = splits[-len(series.values) :]
    note = "process start -> first sample: the demo's server starts while the player loads"
    records = [derived(scenario, case, "ttfa", "s", "lower", series.values, note)]
    for part in ("startup", "network", "decode"):
        values = [getattr(s, part) for s in splits if getattr(s, part) is not None]
        if values:
            records.append(derived(scenario, case, part, "s", "lower", values))
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
            proc = ctx.run(play)
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
