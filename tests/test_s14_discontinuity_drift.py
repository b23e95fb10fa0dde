"""EXTINF durations rounded down no longer cut audio at an EXT-X-DISCONTINUITY.

Found in session 14 (by the HLS helper): at a discontinuity the HLS source starts a new part
for the decoder, placed on the timeline by the sum of the EXTINF durations before it. Rounded
down (1.950 for 2.0 s segments, integer durations: common in real playlists), that sum is
early by their drift, and the decoder took the part for one that overlaps the audio before it
(the rule for variants cut unalike) and dropped the drift: 19.62 s of a 20 s stream, the last
second lost (ffmpeg: 20.04 s). Now only a part the source placed before the audio already
placed (a switch between variants cut unalike) is trimmed; any other goes on where the audio
before it ended. The recording (``--record``) keeps it whole too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hls_fixtures import FIXTURE_NAME, RATE, _build, decode, play, static, tone_seconds
from kithara_cli.media import cached
from kithara_cli.server import MediaServer


@pytest.mark.parametrize("extinf", ["1.950", "2.000", "2.050"])
def test_a_discontinuity_after_rounded_durations_loses_nothing(tmp_path: Path, extinf: str) -> None:
    root = cached(FIXTURE_NAME, _build)
    text = re.sub(r"#EXTINF:[\d.]+,", f"#EXTINF:{extinf},", (root / "ts/64k.m3u8").read_text())
    at = [m.start() for m in re.finditer("#EXTINF", text)][8]  # before the ninth segment
    text = text[:at] + "#EXT-X-DISCONTINUITY\n" + text[at:]
    wav, rec = tmp_path / "out.wav", tmp_path / "rec.ts"
    with MediaServer(root) as srv:
        srv.add_route("ts/drift.m3u8", static(text))
        proc = play(srv.url("ts/drift.m3u8"), "--output", f"wav:{wav}", "--record", str(rec))
    assert proc.returncode == 0, proc.stderr
    pcm = decode(wav)
    assert pcm.shape[0] / RATE == pytest.approx(20.04, abs=0.05)
    assert tone_seconds(pcm) == list(range(20))  # each second of the tone once, none lost
    assert decode(rec).shape[0] / RATE == pytest.approx(20.04, abs=0.05)
