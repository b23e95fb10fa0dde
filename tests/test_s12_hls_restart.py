"""A live origin that restarts (an encoder or packager restart): EXT-X-MEDIA-SEQUENCE drops
from 5000 to 0 and the playlist lists new segment URIs. mpv, FFmpeg and streamlink carry on
through it; so must fetch and play, fetching each new segment once, repeating none, and
riding over CDN edges that still serve a copy of the playlist from before the restart.

The playlist is computed per request: ``PRE`` segments numbered from 5000, then (the
restart) a fresh playlist numbered from 0 that grows by one segment every ``INTERVAL`` s.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import HlsMedia, assert_tone, decode, fetch, play, tone_seconds
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

INTERVAL = 0.5
PRE = 5  # segments listed before the restart (all visible at the first load)
EDGE = 3  # where a live fetch and play start: 3 segments before the end
OLD_SEQUENCE = 5000
HOLD = 3  # intervals the newest segment before the restart stays listed

Reply = tuple[int, dict[str, str], bytes]
M3U8 = {"Content-Type": "application/vnd.apple.mpegurl"}


@dataclass(frozen=True)
class Entry:
    uri: str  # relative to the server's root
    duration: float
    path: Path  # the bytes it serves


class RestartScript:
    """``before`` numbered from 5000 (``PRE`` listed at the first request, then one more
    every INTERVAL s, the last for ``HOLD``), then the restart: ``after`` numbered from 0,
    one more every INTERVAL s, ENDLIST once all are listed. ``override(n, old_text)`` may
    answer the n-th request (1-based) instead. ``clock``: shared by a master's variants."""

    def __init__(
        self,
        before: list[Entry],
        after: list[Entry],
        override: Callable[[int, bytes], Reply | None] | None = None,
        *,
        header: list[str] | None = None,
        old_sequence: int = OLD_SEQUENCE,
        clock: dict[str, float] | None = None,
        delay: int = 0,
        ends: bool = True,
    ) -> None:
        self.ends = ends  # ENDLIST once all of ``after`` is listed
        self.delay = delay  # intervals more before this playlist restarts
        self.header = header or []
        self.old_sequence = old_sequence
        self.clock = clock if clock is not None else {}
        self.before = before
        self.after = after
        self.override = override
        self.lock = threading.Lock()
        self.requests = 0

    def text(self, entries: list[Entry], first_sequence: int, end: bool) -> bytes:
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            "#EXT-X-TARGETDURATION:1",
            f"#EXT-X-MEDIA-SEQUENCE:{first_sequence}",
            *self.header,
        ]
        for e in entries:
            lines += [f"#EXTINF:{e.duration:.6f},", "/" + e.uri]
        if end:
            lines.append("#EXT-X-ENDLIST")
        return ("\n".join(lines) + "\n").encode()

    @property
    def old_text(self) -> bytes:
        return self.text(self.before, self.old_sequence, False)

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            t0 = self.clock.setdefault("t0", now)
            self.requests += 1
            n = self.requests
            steps = int((now - t0) / INTERVAL)
        # Segments listed since the restart; the last one before it is listed for HOLD
        # intervals, so that a reload (every target duration) sees it.
        listed = PRE + steps - len(self.before) - HOLD - self.delay
        if self.override is not None:
            reply = self.override(n, self.old_text)
            if reply is not None:
                return reply
        if listed <= 0:
            shown = self.before[: min(len(self.before), PRE + steps)]
            return 200, M3U8, self.text(shown, self.old_sequence, False)
        shown = self.after[: min(listed, len(self.after))]
        return 200, M3U8, self.text(shown, 0, self.ends and len(shown) == len(self.after))


def _entries(root: Path, paths: list[Path], durations: list[float]) -> list[Entry]:
    return [
        Entry(p.relative_to(root).as_posix(), d, p) for p, d in zip(paths, durations, strict=True)
    ]


def _rate_change(hls_media: HlsMedia) -> tuple[list[Entry], list[Entry]]:
    """Before: 10 s of the 44.1 kHz TS ladder (tone seconds 0-10). After: the 48 kHz encode
    whose timestamps restart at 0 and whose tone goes on from second 10 (``misc/disc_b``)."""
    ladder, root = hls_media.ts, hls_media.root
    before = _entries(root, ladder.segments[1][:PRE], ladder.segment_durations[1][:PRE])
    names = sorted(hls_media.misc.glob("disc_b_*.ts"))
    playlist = (hls_media.misc / "discontinuity.m3u8").read_text().splitlines()
    durations = [
        float(line[len("#EXTINF:") :].rstrip(","))
        for line, nxt in itertools.pairwise(playlist)
        if line.startswith("#EXTINF:") and nxt.startswith("disc_b_")
    ]
    after = _entries(root, names, durations)
    return before, after


def _serve(server: MediaServer, script: RestartScript) -> str:
    server.add_route("restart/live.m3u8", script)
    return server.url("restart/live.m3u8")


def _requests(server: MediaServer, entries: list[Entry]) -> list[int]:
    return [len(server.stats.requests(e.uri)) for e in entries]


def test_a_live_fetch_carries_on_through_an_origin_restart(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """The media sequence drops from 5004 to 0 with new URIs: the recording holds the three
    segments before the live edge, then every segment after the restart, each fetched once.
    Before: the reload read as unchanged and the fetch ended with exit 3 after 3 target
    durations, the segments after the restart never fetched."""
    before, after = _rate_change(hls_media)
    script = RestartScript(before, after)
    url = _serve(hls_server, script)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "--retries", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    kept = before[PRE - EDGE :] + after
    assert out.read_bytes() == b"".join(e.path.read_bytes() for e in kept)
    assert _requests(hls_server, after) == [1] * len(after)
    assert _requests(hls_server, before) == [0] * (PRE - EDGE) + [1] * EDGE
    assert "restarted" in proc.stderr, proc.stderr  # said, not silent
    first = round(sum(d.duration for d in before[: PRE - EDGE]))
    assert_tone(out, sum(e.duration for e in kept), first=first)


def test_a_live_fetch_with_a_duration_runs_through_the_restart(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """``--duration 12`` of a live stream with no ENDLIST that restarts 6 s in: the
    recording holds 12 s, the segments after the restart included, and ends with exit 0.
    Before: the restart read as a stuck playlist, and the fetch ended with exit 5 ("live
    playlist unchanged") after 6 s of audio."""
    before, after = _rate_change(hls_media)
    url = _serve(hls_server, RestartScript(before, after, ends=False))
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--duration", "12", timeout=60)
    assert proc.returncode == 0, proc.stderr
    kept, seconds = [], 0.0
    for e in before[PRE - EDGE :] + after:
        if seconds >= 12:
            break
        kept.append(e)
        seconds += e.duration
    assert any(e in after for e in kept)
    assert out.read_bytes() == b"".join(e.path.read_bytes() for e in kept)
    assert_tone(out, seconds, first=round(sum(e.duration for e in before[: PRE - EDGE])))


def test_stale_copies_from_before_the_restart_are_ridden_over(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """After the restart every other reload comes from an edge that still has the playlist
    from before it (media sequence 5000, URIs already taken): that is no new restart and no
    new segments. Nothing is written twice, nothing after the restart is lost."""

    def stale(n: int, old: bytes) -> Reply | None:
        return (200, M3U8, old) if n > 2 and n % 2 == 0 else None

    before, after = _rate_change(hls_media)
    url = _serve(hls_server, RestartScript(before, after, stale))
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q", "--retries", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    kept = before[PRE - EDGE :] + after
    assert out.read_bytes() == b"".join(e.path.read_bytes() for e in kept)
    assert _requests(hls_server, after) == [1] * len(after)
    assert _requests(hls_server, before) == [0] * (PRE - EDGE) + [1] * EDGE


def _same_format_restart(
    hls_media: HlsMedia, server: MediaServer, kind: str = "ts"
) -> tuple[list[Entry], list[Entry]]:
    """Before: seconds 0-10 of the 44.1 kHz ladder (TS or fMP4). After the restart: the same
    encoder settings starting over (timestamps and tone from 0 again), under new URIs; an
    fMP4 packager keeps its init section's URI (``EXT-X-MAP``, before and after)."""
    ladder = hls_media.ts if kind == "ts" else hls_media.fmp4
    root = hls_media.root
    before = _entries(root, ladder.segments[1][:PRE], ladder.segment_durations[1][:PRE])
    suffix = before[0].path.suffix
    after = [Entry(f"restart/new_{i}{suffix}", e.duration, e.path) for i, e in enumerate(before)]
    for e in after:
        server.add_route(e.uri, hls_fixtures.static(e.path.read_bytes(), "video/mp2t"))
    return before, after


@pytest.mark.parametrize("kind", ["ts", "fmp4"])
def test_play_carries_on_through_an_origin_restart(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, kind: str
) -> None:
    """Play, a restart to the same audio settings whose timestamps start over: every second
    of the three segments before it is heard, then every second after it, in order and once
    (tone seconds 4..9 then 0..9). Before: play ended at the restart (a live stream with no
    ENDLIST: exit 3 after 3 target durations)."""
    before, after = _same_format_restart(hls_media, hls_server, kind)
    init = hls_media.fmp4.init_segments[1]
    header = [] if kind == "ts" else [f'#EXT-X-MAP:URI="/{init.relative_to(hls_media.root)}"']
    url = _serve(hls_server, RestartScript(before, after, header=header))
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}", "--retries", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _requests(hls_server, after) == [1] * len(after)
    pcm = decode(wav)
    seconds = sum(e.duration for e in before[PRE - EDGE :] + after)
    assert abs(pcm.shape[0] / hls_fixtures.RATE - seconds) <= 0.1, str(tone_seconds(pcm))
    heard = tone_seconds(pcm)
    assert len(heard) >= 15
    assert heard == [4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9][: len(heard)], str(heard)


def test_play_through_a_restart_to_other_audio_settings(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Play, the restart to 48 kHz whose timestamps start over, with a stale pre-restart
    copy on every other reload: the tone is heard from second 4 to 20 with no repeat."""

    def stale(n: int, old: bytes) -> Reply | None:
        return (200, M3U8, old) if n > 2 and n % 2 == 0 else None

    before, after = _rate_change(hls_media)
    url = _serve(hls_server, RestartScript(before, after, stale))
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}", "--retries", "1", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert _requests(hls_server, after) == [1] * len(after)
    heard = tone_seconds(decode(wav))
    assert heard == list(range(4, 20)), str(heard)


@pytest.mark.parametrize("delay", [0, 4])
def test_live_play_switching_variants_never_takes_old_numbers_after_a_restart(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, delay: int
) -> None:
    """Two variants, numbered from 0 (tone seconds 0-16), then both restart at 0 again (the
    48 kHz tone from second 10); with ``delay``, v0's playlist restarts 2 s after v1's.
    Live play matches another variant's segment by its number: until that variant's own
    playlist has restarted, its numbers name old audio and it must not serve the new ones.
    Heard: 4..15 then 10..19, once each. Before (the old playlist kept): v0 served old
    seconds 0..10 after the restart, then play hung."""
    ladder, root = hls_media.ts, hls_media.root
    _, after = _rate_change(hls_media)
    clock: dict[str, float] = {}
    lines = ["#EXTM3U"]
    count = 8
    for v in (0, 1):
        before = _entries(root, ladder.segments[v][:count], ladder.segment_durations[v][:count])
        aliases = [Entry(f"restart/v{v}_{i}.ts", e.duration, e.path) for i, e in enumerate(after)]
        for e in aliases:
            hls_server.add_route(e.uri, hls_fixtures.static(e.path.read_bytes(), "video/mp2t"))
        script = RestartScript(
            before, aliases, old_sequence=0, clock=clock, delay=delay if v == 0 else 0
        )
        hls_server.add_route(f"restart/v{v}.m3u8", script)
        lines += [f"#EXT-X-STREAM-INF:BANDWIDTH={ladder.bandwidths[v]}", f"v{v}.m3u8"]
    hls_server.add_route("restart/master.m3u8", hls_fixtures.static("\n".join(lines) + "\n"))
    # v1's segment 5 fails (503): served by v0, and v1 sits out for 30 s, so the ABR is on v0
    # while v1's playlist is followed through the restart. (This used to rely on the WAV
    # sink's empty buffer at the live edge pushing the ABR down: session 16 fixed that.)
    hls_server.set_faults(ladder.segments[1][5].relative_to(root).as_posix(), Faults(fail_first=99))
    wav = tmp_path / "out.wav"
    proc = play(hls_server.url("restart/master.m3u8"), "--output", f"wav:{wav}", timeout=30)
    assert proc.returncode == 0, proc.stderr
    heard = tone_seconds(decode(wav))
    expected = [*range(4, 16), *range(10, 20)]
    assert heard == expected[: len(heard)] and len(heard) >= len(expected) - 1, str(heard)
    assert "restarted" in proc.stderr and "→ v0" in proc.stderr, proc.stderr
