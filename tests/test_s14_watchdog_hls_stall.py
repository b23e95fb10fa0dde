"""An HLS segment that is slow to come is the network's to judge, not the hang watchdog's.

After the watchdog learned to leave a stalled progressive download to the network
(tests/test_s14_watchdog_network_stall.py), an HLS run still said it was fetching nothing
(``Source.fetching``), so a segment whose body was late by more than the watchdog's limit
(60 s by default, 2.5 s here) still ended play with "playback stalled", exit 5 and a crash
log. A run now says a segment fetch is under way while one is.
"""

from __future__ import annotations

import wave
from pathlib import Path

from conftest import run_cli
from kithara_cli.media import build_ladder
from kithara_cli.server import Faults, MediaServer


def test_segments_late_by_more_than_the_watchdog_limit_still_play(tmp_path: Path) -> None:
    root = tmp_path / "media"
    build_ladder(root / "hls", 6.0, bitrates=(64_000,))
    out = tmp_path / "out.wav"
    env = {
        "KITHARA_AUDIO_DEVICE": "none",
        "KITHARA_CACHE": "off",
        "KITHARA_HANG_TIMEOUT": "2.5",
        "KITHARA_STATE_DIR": str(tmp_path / "state"),
    }
    with MediaServer(root) as srv:
        srv.set_faults("*.ts", Faults(first_byte_delay=5.0))  # headers now, the body in 5 s
        proc = run_cli(
            "play", srv.url("hls/master.m3u8"), "--no-ui", "--output", f"wav:{out}",
            env=env, timeout=90,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "playback stalled" not in proc.stderr
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() > 5.5
    assert not list((tmp_path / "state").rglob("crash-*"))  # no crash log
