"""``--offline`` where the cache cannot answer: one line that says what is missing (the whole
cache, the URL, or the bytes past what is kept), exit 3, and nothing created or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.errors import OfflineMissError
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none"}
URL = "http://127.0.0.1:9/song.mp3"  # the discard port: nothing ever answers there


def error_line(proc: object) -> str:
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = [x for x in stderr.splitlines() if x.startswith("kithara: error:")]
    assert proc.returncode == OfflineMissError.exit_code and len(lines) == 1, stderr  # type: ignore[attr-defined]
    return lines[0]


@pytest.mark.parametrize("command", ["play", "fetch"])
def test_offline_with_no_cache_there_says_so_and_creates_none(tmp_path: Path, command: str) -> None:
    """Before: a mistyped --cache-dir was created (index, folders) and the error spoke of
    'bytes 0-', as if that cache simply lacked the file."""
    where = tmp_path / "typo" / "cache"
    out = tmp_path / "song.mp3"
    tail = ["--no-ui", "--output", "null"] if command == "play" else ["-o", str(out)]
    proc = run_cli(command, URL, "--offline", "--cache-dir", str(where), *tail, env=ENV)
    line = error_line(proc)
    assert "no cache at" in line and str(where) in line
    assert not (tmp_path / "typo").exists() and not out.exists()


def test_offline_names_a_url_that_is_not_cached_and_a_part_that_is_missing(
    tmp_path: Path,
) -> None:
    media, cache = tmp_path / "media", tmp_path / "cache"
    media.mkdir()
    encode_file(media / "long.mp3", 30.0, "mp3")
    with MediaServer(media) as srv:
        url = srv.url("long.mp3")
        srv.set_faults("long.mp3", Faults(rate_per_conn=300_000))
        args = ("--no-ui", "--output", "null", "--cache-dir", str(cache))
        part = run_cli("play", url, "--length", "0.1", *args, env=ENV)
        assert part.returncode == 0, part.stderr
    absent = error_line(run_cli("play", URL, "--offline", *args, env=ENV))
    assert absent.endswith(f"not in the cache: {URL}") and "bytes" not in absent
    partial = error_line(run_cli("play", url, "--offline", *args, env=ENV))
    assert "bytes" in partial and "not in the cache" in partial
