"""Low-Latency HLS as Apple's mediastreamsegmenter and Wowza write it, read by a client that
asks for whole segments only (as FFmpeg's HLS demuxer and streamlink do).

The playlist carries EXT-X-SERVER-CONTROL (CAN-BLOCK-RELOAD, PART-HOLD-BACK, CAN-SKIP-UNTIL),
EXT-X-PART-INF, EXT-X-PART lines before each of the newest segments (byte ranges of the
segment file, INDEPENDENT=YES on the first) and, after the last whole segment, the parts of
the one being written (files of their own) and an EXT-X-PRELOAD-HINT for the next part, then
EXT-X-RENDITION-REPORTs. Checked here and found right already (no fix): ``fetch`` and
``play`` take each whole segment once, in order, never a part (the parts' files are not
served: asking for one would fail), never a byte range of a segment, never a blocking reload
(``_HLS_msn``): a server that holds such a request would stall the reload loop.
"""

from __future__ import annotations

import threading
from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, assert_tone, concat, fetch, play
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

VARIANT = 1
START_VISIBLE = 5
LIVE_EDGE = 3
FIRST = START_VISIBLE - LIVE_EDGE
INTERVAL = 0.5
PARTS = 4  # parts per segment
Reply = tuple[int, dict[str, str], bytes]


class LowLatencyLive:
    """The ladder's variant as an LL-HLS live stream: a segment every INTERVAL s (target
    duration 1 s), the in-progress one listed as parts; EXT-X-ENDLIST at the end."""

    def __init__(self, media: HlsMedia) -> None:
        self.paths = media.ts.segments[VARIANT]
        self.durations = media.ts.segment_durations[VARIANT]
        self.lock = threading.Lock()
        self.t0: float | None = None
        self.queries: list[dict[str, str]] = []

    def _parts(self, i: int, count: int) -> list[str]:
        """Parts of a whole segment: byte ranges of its file, cut at TS packets."""
        size = self.paths[i].stat().st_size
        step = size // 188 // PARTS * 188
        lines = []
        for j in range(count):
            length = step if j < PARTS - 1 else size - step * (PARTS - 1)
            flag = ",INDEPENDENT=YES" if j == 0 else ""
            part = self.durations[i] / PARTS
            lines.append(
                f'#EXT-X-PART:DURATION={part:.5f},URI="{self.paths[i].name}",'
                f'BYTERANGE="{length}@{j * step}"{flag}'
            )
        return lines

    def __call__(self, path: str, query: dict[str, str], now: float) -> Reply:
        with self.lock:
            self.t0 = now if self.t0 is None else self.t0
            self.queries.append(dict(query))
            elapsed = now - self.t0
        done = min(len(self.paths), START_VISIBLE + int(elapsed / INTERVAL))
        partial = int((elapsed % INTERVAL) / (INTERVAL / PARTS))
        lines = [
            "#EXTM3U",
            "#EXT-X-TARGETDURATION:2",
            "#EXT-X-VERSION:9",
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0",
            "#EXT-X-PART-INF:PART-TARGET=0.5",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-07T23:00:00.000Z",
        ]
        for i in range(done):
            if i >= done - 2:
                lines += self._parts(i, PARTS)
            lines += [f"#EXTINF:{self.durations[i]:.5f},", self.paths[i].name]
        if done < len(self.paths):  # the segment being written: parts of its own, not served
            lines += [f'#EXT-X-PART:DURATION=0.5,URI="part{done}.{j}.ts"' for j in range(partial)]
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part{done}.{partial}.ts"')
            lines.append(f'#EXT-X-RENDITION-REPORT:URI="64k.m3u8",LAST-MSN={done - 1},LAST-PART=3')
        else:
            lines.append("#EXT-X-ENDLIST")
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, "\n".join(lines).encode()


def _serve(server: MediaServer, live: LowLatencyLive) -> str:
    server.add_route("ts/ll.m3u8", live)
    return server.url("ts/ll.m3u8")


def _asked_no_part(server: MediaServer, live: LowLatencyLive) -> None:
    records = server.stats.requests()
    assert not [r.path for r in records if "part" in r.path], "a part was asked for"
    ranged = [(r.path, r.range) for r in records if r.path.endswith(".ts") and r.range]
    assert not ranged, ranged
    assert not [q for q in live.queries if any(k.startswith("_HLS_") for k in q)], live.queries


def test_fetch_of_low_latency_hls_takes_whole_segments_once_in_order(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    live = LowLatencyLive(hls_media)
    out = tmp_path / "ll.ts"
    with MediaServer(hls_media.root) as server:
        proc = fetch(_serve(server, live), "-o", str(out), "-q", timeout=60)
        _asked_no_part(server, live)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(live.paths[FIRST:])


def test_play_of_low_latency_hls_plays_every_second_once(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    live = LowLatencyLive(hls_media)
    wav = tmp_path / "ll.wav"
    with MediaServer(hls_media.root) as server:
        proc = play(_serve(server, live), "--output", f"wav:{wav}", timeout=60)
        _asked_no_part(server, live)
    assert proc.returncode == 0, proc.stderr
    durations = live.durations
    assert_tone(wav, sum(durations[FIRST:]), first=round(sum(durations[:FIRST])))
