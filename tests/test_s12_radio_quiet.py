"""A lone undecodable packet is not news: a station that splices whole MP3 files (ID3 tag and
all, as SHOUTcast/ices playlists of files do) gives one at every track change.

Before: every such splice printed ``NOTE skipped an undecodable packet: InvalidDataError:
[Errno 1094995529] Invalid data found when processing input: 'avcodec_send_packet()'`` in the
middle of the play (mpv and ffplay say nothing). Now it goes to the log; a run of them, which
is audible, is still a note.
"""

from __future__ import annotations

import wave
from pathlib import Path

from conftest import run_cli
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE, radio_mp3, radio_root  # noqa: F401 (fixtures)


def test_a_station_splicing_whole_files_plays_without_notes(
    radio_root: Path,  # noqa: F811
    radio_mp3: bytes,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert radio_mp3.startswith(b"ID3")  # each loop of the broadcast starts with a tag
    wav = tmp_path / "out.wav"
    with MediaServer(radio_root) as srv:
        srv.add_radio("/live", Station(audio=radio_mp3, bitrate=BITRATE, pace=0))
        proc = run_cli(
            "play", srv.url("live"), "--no-ui", "--output", f"wav:{wav}", "--length", "30",
            timeout=60, env={"KITHARA_AUDIO_DEVICE": "none"},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "undecodable" not in proc.stderr, proc.stderr  # 12 s loops: two splices heard
    with wave.open(str(wav)) as w:
        assert w.getnframes() == 30 * w.getframerate()
