"""A gzip body cut short, from a server with no validators: the last line says both.

Found in session 16: ``kithara play`` of an MP3 behind a proxy that gzips it and gives no
ETag or Last-Modified, the connection closed part-way: the body was asked again, the answer
could not be told to be the same file, and the final line said only "cannot resume URL: the
server gives no length, ETag or Last-Modified ...", never that the body had been cut. It now
says where the body broke off, then why it could not be resumed.
"""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


def test_a_cut_gzip_body_that_cannot_resume_says_it_was_cut(tmp_path: Path) -> None:
    encode_file(tmp_path / "ep.mp3", 5.0, "mp3")  # ~80 kB, ~21 kB gzipped
    with MediaServer(tmp_path) as srv:
        cut = Faults(content_encoding="gzip", no_validators=True, close_after=10_000)
        srv.set_faults("*", cut)
        proc = run_cli("play", srv.url("ep.mp3"), "--no-ui", "--output", "null", env=ENV)
    assert proc.returncode == 3, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "broke off at byte" in last and "cannot resume" in last, last
    assert "no length, ETag or Last-Modified" in last, last
