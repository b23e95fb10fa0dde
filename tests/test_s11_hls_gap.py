"""EXT-X-GAP (RFC 8216bis 4.4.4.7): a packager marks a segment it has no media for (an
encoder dropout, a redundant stream's hole); its URI is not to be loaded, and usually answers
404. hls.js steps over such segments; so must fetch and play."""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import HlsMedia, concat, fetch, play, static
from kithara_cli.hls.model import MediaPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

VARIANT = 1
GAP = 3  # the segment marked EXT-X-GAP


def _gap_playlist(hls_media: HlsMedia, server: MediaServer) -> str:
    ladder = hls_media.ts
    lines = ["#EXTM3U", "#EXT-X-VERSION:8", "#EXT-X-TARGETDURATION:2"]
    for i, (d, p) in enumerate(
        zip(ladder.segment_durations[VARIANT], ladder.segments[VARIANT], strict=True)
    ):
        if i == GAP:
            lines.append("#EXT-X-GAP")
        lines += [f"#EXTINF:{d:.6f},", p.name]
    lines.append("#EXT-X-ENDLIST")
    server.add_route("ts/gap.m3u8", static("\n".join(lines) + "\n"))
    gone = ladder.segments[VARIANT][GAP].name
    server.set_faults(f"ts/{gone}", Faults(fail_first=10**6, fail_status=404))
    return server.url("ts/gap.m3u8")


def test_a_gap_segment_is_left_out_of_the_model_with_a_warning() -> None:
    text = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-GAP\n"
        "#EXTINF:2,\nb.ts\n#EXTINF:2,\nc.ts\n#EXT-X-ENDLIST\n"
    )
    media = parse_playlist(text, "http://h/x.m3u8")
    assert isinstance(media, MediaPlaylist)
    assert [s.uri.rsplit("/", 1)[1] for s in media.segments] == ["a.ts", "c.ts"]
    assert [s.sequence for s in media.segments] == [0, 2], "sequence numbers are kept"
    assert media.segments[1].discontinuity, "the gap's discontinuity carries to the next"
    assert any("EXT-X-GAP" in w for w in media.warnings), media.warnings


def test_fetch_steps_over_a_gap_segment(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Before: the gap's URI was fetched, answered 404, and the fetch failed with exit 4."""
    url = _gap_playlist(hls_media, hls_server)
    out = tmp_path / "out.ts"
    proc = fetch(url, "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    segments = hls_media.ts.segments[VARIANT]
    assert out.read_bytes() == concat(segments[:GAP] + segments[GAP + 1 :])
    assert not hls_server.stats.requests(f"ts/{segments[GAP].name}"), "a gap is never asked"


def test_play_steps_over_a_gap_segment(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    url = _gap_playlist(hls_media, hls_server)
    wav = tmp_path / "out.wav"
    proc = play(url, "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    heard = hls_fixtures.tone_seconds(hls_fixtures.decode(wav))
    durations = hls_media.ts.segment_durations[VARIANT]
    before = round(sum(durations[:GAP]))
    after = round(sum(durations[: GAP + 1]))
    assert heard[:before] == list(range(before)), heard
    assert heard[before:] == list(range(after, after + len(heard) - before)), heard
