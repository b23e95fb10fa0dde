"""fMP4 HLS whose init section changes at a discontinuity to audio of another sample rate
(a 44.1 kHz programme, then a 48 kHz break), as packagers stitch them."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

import hls_fixtures
from hls_fixtures import (
    HlsMedia,
    assert_nothing_written,
    assert_one_line_error,
    decode,
    fetch,
    play,
    tone_seconds,
)
from kithara_cli.media import cached
from kithara_cli.media.encode import to_frame
from kithara_cli.media.tone import tone_blocks
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media

RATE_B = 48_000


def _build_48k(root: Path) -> None:
    """8 s of the tone as 48 kHz AAC in 2 s fMP4 segments (``s_%05d.m4s``, ``init.mp4``)."""
    options = {
        "hls_time": "2.0",
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_fmp4_init_filename": "init.mp4",
        "hls_segment_filename": str(root / "s_%05d.m4s"),
    }
    with av.open(str(root / "index.m3u8"), "w", format="hls", options=options) as out:
        stream = out.add_stream("aac", rate=RATE_B)
        stream.layout = "stereo"
        pts = 0
        for block in tone_blocks(8.0, rate=RATE_B, block_frames=1024):
            out.mux(stream.encode(to_frame(block, RATE_B, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))


@pytest.fixture(scope="module")
def stitched(hls_media: HlsMedia):  # -> Iterator[MediaServer]
    """A server over the 44.1 kHz fMP4 ladder (``a/``) and the 48 kHz stream (``b/``), and
    ``mixed.m3u8``: two segments of ``a``, a discontinuity and a new EXT-X-MAP, two of ``b``."""
    b_root = cached("s11-hls-fmp4-48k-8s-v1", _build_48k)
    with MediaServer(hls_media.root.parent) as srv:
        a = f"{hls_media.root.name}/fmp4"
        b = f"{b_root.name}"
        durations = hls_media.fmp4.segment_durations[0]
        names = [p.name for p in hls_media.fmp4.segments[0]]
        lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2"]
        lines.append(f'#EXT-X-MAP:URI="/{a}/{hls_media.fmp4.init_segments[0].name}"')
        for i in range(2):
            lines += [f"#EXTINF:{durations[i]:.6f},", f"/{a}/{names[i]}"]
        lines += ["#EXT-X-DISCONTINUITY", f'#EXT-X-MAP:URI="/{b}/init.mp4"']
        for i in range(2, 4):
            lines += ["#EXTINF:2.0,", f"/{b}/s_{i:05d}.m4s"]
        lines.append("#EXT-X-ENDLIST")
        srv.add_route("mixed.m3u8", hls_fixtures.static("\n".join(lines) + "\n"))
        yield srv


def test_fetch_refuses_an_init_change_to_another_rate_before_downloading(
    stitched: MediaServer, tmp_path: Path
) -> None:
    """One MP4 is read with its first init, so the 48 kHz half of such a download played at
    the wrong speed (seconds 0 1 2 3 3 4 5 5), exit 0, whether kept as .m4a or remuxed. Now:
    one line naming both formats, exit 5, nothing at --out, no segment fetched."""
    srv = stitched
    out = tmp_path / "out.m4a"
    proc = fetch(srv.url("mixed.m3u8"), "-o", str(out), "-q")
    line = assert_one_line_error(proc, "44100 Hz", "48000 Hz")
    assert proc.returncode == 5
    assert_nothing_written(out)
    assert not [r for r in srv.stats.requests() if r.path.endswith(".m4s")]
    wav = tmp_path / "out.wav"  # what the message offers instead
    proc = play(srv.url("mixed.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert tone_seconds(decode(wav)) == list(range(8)), line
