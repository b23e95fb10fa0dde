"""``play --record FILE`` across a switch between HLS variants cut unalike (2 s, then 6 s).

Playing the 2 s variant, a failover at 8 s takes the 6 s variant's 6-12 s segment: its first
2 s already played. Playback trims them by timestamp (tests/test_s13_play_unaligned.py); the
recording wrote the segment's bytes as read, so it held seconds 6 and 7 twice (22.0 s of
audio for 20, whatever FILE's container). Now the recording is remuxed without those packets
(``hls.overlap``): 20 s, each second once, in FILE's container or, for an extension PyAV
cannot write, the segments' own.
"""

from __future__ import annotations

import re
from pathlib import Path

import av
import pytest

import hls_fixtures
import test_s13_play_unaligned
from hls_fixtures import RATE, HlsMedia, decode, play, static, tone_seconds
from kithara_cli.server import Faults, MediaServer
from test_s13_play_unaligned import SECONDS

hls_media = hls_fixtures.hls_media
unaligned_root = test_s13_play_unaligned.unaligned_root  # the s13 2 s / 6 s ladder


def _container(path: Path) -> str:
    with av.open(str(path)) as c:
        return str(c.format.name)


@pytest.mark.parametrize(("name", "muxer"), [("rec.ts", "mpegts"), ("rec.m4a", "mov,mp4")])
def test_the_recording_holds_each_second_once(
    unaligned_root: Path, tmp_path: Path, name: str, muxer: str
) -> None:
    rec = tmp_path / name
    with MediaServer(unaligned_root) as srv:
        srv.set_faults("short/64k_00004.ts", Faults(fail_first=100, fail_status=404))
        proc = play(
            srv.url("master.m3u8"), "--output", "null", "--abr", "fixed:0", "--record", str(rec)
        )
    assert proc.returncode == 0, proc.stderr
    assert "trying v1" in proc.stderr, proc.stderr  # the switch to the 6 s variant happened
    pcm = decode(rec)
    seconds = pcm.shape[0] / RATE
    assert tone_seconds(pcm) == list(range(round(SECONDS))), tone_seconds(pcm)
    assert abs(seconds - SECONDS) < 0.1, f"{seconds:.3f} s recorded for {SECONDS}"
    assert _container(rec).startswith(muxer.split(",")[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, name + ".cue"]


def test_an_unwritable_extension_keeps_the_segments_container(
    unaligned_root: Path, tmp_path: Path
) -> None:
    rec = tmp_path / "rec.bin"
    with MediaServer(unaligned_root) as srv:
        srv.set_faults("short/64k_00004.ts", Faults(fail_first=100, fail_status=404))
        proc = play(
            srv.url("master.m3u8"), "--output", "null", "--abr", "fixed:0", "--record", str(rec)
        )
    assert proc.returncode == 0, proc.stderr
    assert _container(rec) == "mpegts"
    assert abs(decode(rec).shape[0] / RATE - SECONDS) < 0.1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.bin", "rec.bin.cue"]


def test_a_discontinuity_after_rounded_down_durations_is_recorded_whole(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    """EXTINF rounded down (1.950 for 2.0 s of audio) puts the part at an EXT-X-DISCONTINUITY
    (segment 8: 15.6 s on the timeline, 16.0 s of audio before it) 0.4 s "early" though its
    timestamps go on: nothing there was recorded before, and the recording keeps it all (a
    trim by the timeline alone cut 0.42 s: 19.62 s recorded for 20)."""
    text = (hls_media.root / "ts" / "64k.m3u8").read_text()
    text = re.sub(r"#EXTINF:[\d.]+,", "#EXTINF:1.950,", text)
    text = text.replace(
        "#EXTINF:1.950,\n64k_00008.ts", "#EXT-X-DISCONTINUITY\n#EXTINF:1.950,\n64k_00008.ts"
    )
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    rec = tmp_path / "rec.ts"
    with MediaServer(hls_media.root) as srv:
        srv.add_route("ts/rounded.m3u8", static(text))
        proc = play(srv.url("ts/rounded.m3u8"), "--output", "null", "--record", str(rec))
    assert proc.returncode == 0, proc.stderr
    pcm = decode(rec)
    assert abs(pcm.shape[0] / RATE - SECONDS) < 0.1, pcm.shape[0] / RATE
    assert tone_seconds(pcm) == list(range(round(SECONDS)))
