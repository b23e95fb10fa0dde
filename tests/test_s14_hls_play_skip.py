"""``play --skip-unavailable``: a VOD segment that no variant serves (404 on every one).

Before: playback stopped there with exit 4 (6 s of a 20 s stream played, with no way to go
on); ffmpeg and mpv skip a segment they cannot open with a warning and play on. That stays
the default's exit 4 (as fetch fails, tests/test_exit_codes.py); with the option, the segment
is skipped with a warning, as ffmpeg does: 18 s of audio, seconds 8 and 9 missing (ffmpeg
-i master.m3u8 out.wav wrote the same 18.04 s). Three missing in a row is a stream that is
gone, not a hole: that still ends playback with the error.
"""

from __future__ import annotations

from pathlib import Path

import hls_fixtures
from hls_fixtures import RATE, SECONDS, decode, play, tone_seconds
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


def test_a_segment_missing_everywhere_is_skipped_with_a_warning(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    hls_server.set_faults("ts/*_00004.ts", Faults(fail_first=10**6, fail_status=404))
    wav = tmp_path / "out.wav"
    url = hls_server.url("ts/master.m3u8")
    proc = play(url, "--output", f"wav:{wav}", "--skip-unavailable")
    assert proc.returncode == 0, proc.stderr
    assert "segment 4 failed on every variant" in proc.stderr, proc.stderr
    pcm = decode(wav)
    heard = tone_seconds(pcm)
    assert heard == [s for s in range(round(SECONDS)) if s not in (8, 9)], heard
    assert abs(pcm.shape[0] / RATE - (SECONDS - 2)) < 0.15, pcm.shape[0] / RATE


def test_without_the_option_playback_stops_there(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.set_faults("ts/*_00004.ts", Faults(fail_first=10**6, fail_status=404))
    proc = play(hls_server.url("ts/master.m3u8"), "--output", "null")
    assert proc.returncode == 4, proc.stderr
    assert "failed on every variant" not in proc.stderr


def test_three_missing_in_a_row_still_end_playback(hls_server: MediaServer, tmp_path: Path) -> None:
    hls_server.set_faults("ts/*_0000[4-9].ts", Faults(fail_first=10**6, fail_status=404))
    wav = tmp_path / "out.wav"
    proc = play(hls_server.url("ts/master.m3u8"), "--output", f"wav:{wav}", "--skip-unavailable")
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.count("failed on every variant") >= 3, proc.stderr  # (fetched in parallel)
    assert proc.stderr.strip().splitlines()[-1].startswith("kithara: error: HTTP 404"), proc.stderr
    assert "Traceback" not in proc.stderr
