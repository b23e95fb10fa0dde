"""A server that ignores Range gets one request from ``play``, read to its end.

Found in session 16: ``kithara play URL --start 40`` of an ADTS AAC file from a server that
answers every Range with a 200 (the whole file) on a 200 kB/s link: the start-up request (capped
at 512 KB), FFmpeg's ID3v1 peek at the last 128 bytes and the seek's request each downloaded
the file from byte 0, side by side on the one link: first audio after 16.3 s (Opus in Ogg:
24.3 s). The first 200 to a Range now tells the source that every later request would start
at byte 0 too: that one request is read to its end and serves every read, a seek and a peek
included (mpv and ffmpeg read forward on a stream they cannot seek). Now 10.7 s for the AAC
(its ID3v1 peek waits for the whole file) and 11.4 s for the Ogg; an MP3 or M4A ~3.7 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("no_range")
    encode_file(root / "ep.aac", 60.0, "aac")  # ~1 MB: past the start-up request's 512 KB
    encode_file(root / "ep.ogg", 60.0, "ogg")
    return root


@pytest.mark.parametrize("name", ["ep.aac", "ep.ogg"])
def test_a_seek_and_a_tail_peek_wait_for_the_one_request(media: Path, name: str) -> None:
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(ignore_range=True, rate_total=4_000_000))
        args = ("--no-ui", "--output", "null", "--start", "40", "--length", "0.3")
        proc = run_cli("play", srv.url(name), *args, env=ENV, timeout=60)
        assert proc.returncode == 0, proc.stderr
        gets = [r for r in srv.stats.requests(name) if r.method == "GET"]
        assert [r.status for r in gets] == [200], gets  # was: 3 or 4 whole bodies
