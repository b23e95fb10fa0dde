"""``fetch --list --episode`` of a station link says the option is ignored, as ``fetch`` and
``play`` do (found in session 15's review: it listed every station without a word)."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from kithara_cli.server import MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def test_list_of_a_station_link_notes_that_episode_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "radio.pls").write_text(
        "[playlist]\nFile1=http://127.0.0.1:9/a.mp3\nTitle1=One\n"
        "File2=http://127.0.0.1:9/b.mp3\nTitle2=Two\nNumberOfEntries=2\nVersion=2\n"
    )
    with MediaServer(tmp_path) as srv:
        proc = run_cli("fetch", "--list", "--episode", "2", srv.url("radio.pls"), env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert "--episode: not a podcast feed but a station link (pls): ignored" in proc.stderr
    assert "One" in proc.stdout and "Two" in proc.stdout  # every station, still listed
