"""The ``radio`` bench scenario: an Icecast-like mount on loopback, kithara against mpv/ffmpeg.

- Time to first audio of an ICY MP3 stream (real-time pace, ``icy-metaint``) and of a .pls
  link to it whose first entry is dead, at 50 ms per request: kithara from its spawn to the
  first sample handed to the output; mpv (``--ao=pcm`` to stdout) and ffmpeg to their first
  PCM byte. A missing peer is listed, never failed.
- RSS over a long stream served faster than real time (to ``wav:/dev/null`` for kithara, to
  /dev/null for mpv): growth from the first quarter of the run to its peak, and CPU.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from kithara_cli.bench.context import Context
from kithara_cli.bench.peers import Peer, ffmpeg_pcm
from kithara_cli.bench.records import comparison, derived, failed_case
from kithara_cli.bench.report import Record
from kithara_cli.bench.runner import (
    RunFailed,
    alternate,
    kithara_argv,
    time_to_first_stdout_byte,
)
from kithara_cli.bench.scenario_startup import parse_first_audio
from kithara_cli.pids import rss_kb

LATENCY = 0.05
RSS_GROWTH_TARGET_MB = 5.0
LONG_PACE = 20.0  # the long stream's multiple of real time
LONG_SECONDS = {True: 6.0, False: 60.0}  # wall seconds of the long run: quick, full
_TTFA_NOTE = (
    "spawn -> first sample to the output (mpv, ffmpeg: first PCM byte); "
    "the .pls names a dead mirror first"
)


def mpv_pcm(peer: Peer, url: str) -> list[str]:
    """mpv decoding to raw PCM on stdout: its first byte is mpv's time to first audio."""
    assert peer.path
    return [
        peer.path,
        "--no-config",
        "--no-video",
        "--really-quiet",
        "--ao=pcm",
        "--ao-pcm-file=/dev/stdout",
        "--ao-pcm-waveheader=no",
        url,
    ]


def _station(ctx: Context, pace: float) -> Any:
    from kithara_cli.server.radio import Station

    mp3 = ctx.mp3()
    return Station(
        mp3.read_bytes(),
        128_000,
        pace=pace,
        metaint=16000,
        titles=["Artist - Song", "Other - Tune"],
        title_every=160_000,
    )


def radio(ctx: Context) -> list[Record]:
    from kithara_cli.server import Faults

    scenario = "radio"
    records: list[Record] = []
    budget = ctx.budget()
    found = [p for p in (ctx.peers.get(n) for n in ("mpv", "ffmpeg")) if p.available]
    missing = [n for n in ("mpv", "ffmpeg") if not ctx.peers.get(n).available]
    events_path = ctx.tmp / "radio-events.jsonl"
    mp3 = ctx.mp3()
    from kithara_cli.server import MediaServer

    with MediaServer(mp3.parent) as server:
        server.add_radio("live.mp3", _station(ctx, 1.0))
        server.add_link("station.pls", "pls", [server.url("dead.mp3"), server.url("live.mp3")])
        server.set_faults("*", Faults(latency=LATENCY))
        cases = [("icy mp3 50ms", server.url("live.mp3")), ("pls 50ms", server.url("station.pls"))]
        for i, (case, url) in enumerate(cases):

            def kithara_ttfa(url: str = url, case: str = case) -> float:
                play = [*kithara_argv(), "play", url, "--output", "null", "--no-ui"]
                play += ["--length", "0.1", "--events", str(events_path)]
                proc = ctx.run(play)
                first = parse_first_audio(events_path.read_text().splitlines(), proc.started_at)
                ctx.log(f"  kithara {case}: first audio {first.ttfa:.3f} s")
                return first.ttfa

            def peer_fn(peer: Peer, url: str = url, case: str = case) -> Any:
                def run() -> float:
                    argv = mpv_pcm(peer, url) if peer.name == "mpv" else ffmpeg_pcm(peer, url)
                    value = time_to_first_stdout_byte(
                        argv, timeout=ctx.settings.timeout, env=ctx.env
                    )
                    ctx.log(f"  {peer.name} {case}: first PCM byte {value:.3f} s")
                    return value

                return run

            # ffmpeg reads no .pls: it is listed for the stream only.
            usable = [p for p in found if p.name == "mpv" or not url.endswith(".pls")]
            peers = {p.name: peer_fn(p) for p in usable}
            ctx.log(f"{scenario} [{case}]")
            try:
                k, series, errors = alternate(
                    kithara_ttfa,
                    peers,
                    ctx.settings.runs,
                    budget,
                    warmup=i == 0 and ctx.first_use("kithara play", "mpv", "ffmpeg decode"),
                )
            except RunFailed as exc:
                records.append(failed_case(scenario, case, "ttfa", exc))
                continue
            records += comparison(
                scenario, case, "ttfa", "s", "lower", k, series, errors, missing, note=_TTFA_NOTE
            )
        server.clear_faults()
        records += _long_stream(ctx, server, found)
    events_path.unlink(missing_ok=True)
    return records


def _sample_rss(argv: list[str], seconds: float, env: dict[str, str]) -> tuple[list[int], float]:
    """RSS samples (kB, every 0.2 s) of a child run for ``seconds``, and its CPU seconds."""
    proc = subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    samples: list[int] = []
    deadline = time.monotonic() + seconds
    cpu = 0.0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            samples.append(rss_kb(proc.pid))
            cpu = _cpu_seconds(proc.pid) or cpu
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return [s for s in samples if s], cpu


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _long_stream(ctx: Context, server: Any, found: list[Peer]) -> list[Record]:
    scenario, case = "radio", f"long stream {LONG_PACE:g}x"
    seconds = LONG_SECONDS[ctx.settings.quick]
    server.add_radio("fast.mp3", _station(ctx, LONG_PACE))
    url = server.url("fast.mp3")
    runs: dict[str, list[str]] = {
        "kithara": [*kithara_argv(), "play", url, "--output", "wav:/dev/null", "--no-ui"],
    }
    for peer in found:
        if peer.name == "mpv":
            runs["mpv"] = [*mpv_pcm(peer, url)[:-2], "--ao-pcm-file=/dev/null", url]
    records: list[Record] = []
    for name, argv in runs.items():
        ctx.log(f"{scenario} [{case}] {name}: {seconds:g} s")
        samples, cpu = _sample_rss(argv, seconds, ctx.env)
        if len(samples) < 8:
            records.append(failed_case(scenario, case, f"{name} rss", RunFailed("no samples")))
            continue
        base = samples[len(samples) // 4]
        growth = (max(samples[len(samples) // 4 :]) - base) / 1024
        ctx.log(f"  {name}: RSS {base / 1024:.0f} -> {max(samples) / 1024:.0f} MB, cpu {cpu:.1f} s")
        note = f"{name}: RSS growth from a quarter of the run to its peak (target < 5 MB)"
        records.append(derived(scenario, case, f"{name} rss growth", "MB", "lower", [growth], note))
        records.append(
            derived(
                scenario,
                case,
                f"{name} cpu",
                "core",
                "lower",
                [cpu / seconds],
                f"{name}: CPU seconds per wall second",
            )
        )
    return records
