"""A stale cached copy whose server answers with an error of its own (503, 500, 429): the
copy is not the server's word that the file changed; it plays, as when the server cannot be
reached at all (RFC 5861 stale-if-error), unless the server said it must be checked first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stale-media")
    encode_file(root / "tone.mp3", 5.0, "mp3")
    return root


def play(url: str, cache: Path, wav: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["play", url, "--no-ui", "--output", f"wav:{wav}", "--cache-dir", str(cache)]
    proc = run_cli(*args, "--retries", "1", *extra, timeout=60, env=ENV)
    assert "Traceback" not in proc.stderr
    return proc


@pytest.mark.parametrize("status", [503, 500, 429])
def test_a_server_error_plays_the_stale_copy_and_keeps_it(
    media: Path, tmp_path: Path, status: int
) -> None:
    """Before: the copy was deleted on the spot and the play failed (exit 3), though every
    byte of it was cached; the next --offline play had nothing."""
    cache, ev = tmp_path / "cache", tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
        srv.set_faults("tone.mp3", Faults(cache_control="max-age=0"))  # stale at once
        first = play(url, cache, tmp_path / "first.wav")
        assert first.returncode == 0, first.stderr
        srv.set_faults("tone.mp3", Faults(fail_first=1000, fail_status=status))
        stale = play(url, cache, tmp_path / "stale.wav", "--events", str(ev))
    assert stale.returncode == 0, stale.stderr
    assert (tmp_path / "stale.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()
    notes = [
        e["message"]
        for e in map(json.loads, ev.read_text().splitlines())
        if e["event"] == "Notice" and "cache:" in e["message"] and "head" not in e["message"]
    ]
    assert len(notes) == 1 and f"answered {status}" in notes[0], notes
    offline = play(url, cache, tmp_path / "offline.wav", "--offline")
    assert offline.returncode == 0, offline.stderr


def test_must_revalidate_with_a_server_error_fails_in_one_line_and_keeps_the_copy(
    media: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        url = srv.url("tone.mp3")
        srv.set_faults("tone.mp3", Faults(cache_control="max-age=0, must-revalidate"))
        first = play(url, cache, tmp_path / "first.wav")
        assert first.returncode == 0, first.stderr
        srv.set_faults("tone.mp3", Faults(fail_first=1000, fail_status=503))
        strict = play(url, cache, tmp_path / "x.wav")
    errors = [x for x in strict.stderr.splitlines() if x.startswith("kithara: error:")]
    assert strict.returncode == 3 and len(errors) == 1 and "503" in errors[0], strict.stderr
    offline = play(url, cache, tmp_path / "offline.wav", "--offline")
    assert offline.returncode == 0, offline.stderr
    assert (tmp_path / "offline.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()
