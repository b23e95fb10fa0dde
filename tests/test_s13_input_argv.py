"""A URL argument whose bytes the locale cannot decode is sent as curl sends it.

Found in session 13: under ``LC_ALL=C`` with Python's UTF-8 mode off, ``kithara fetch
http://host/tón.mp3`` (the name's UTF-8 bytes in argv) failed "unexpected error ... surrogates
not allowed", exit 3 (``play`` after six retries): Python hands undecodable argv bytes over as
lone surrogates. curl sends such a URL's bytes percent-encoded (``/t%c3%b3n.mp3``), and mpv
plays it; kithara now does the same (``cli_runtime.argv_url``), while a local file's name for
``play`` is left as the filesystem's bytes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import KITHARA
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

NAME = "t\u00f3n.mp3"
C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0", "KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    encode_file(root / NAME, 1.0, "mp3")
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        yield srv


def _run(*args: bytes | str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``kithara ARGS`` with argv given as bytes, in the C locale, UTF-8 mode off."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUTF8", "PYTHONIOENCODING")}
    env.update(C_LOCALE)
    argv = [os.fsencode(a) for a in (*KITHARA, *args)]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL
    )


def _url(srv: MediaServer, name: bytes) -> bytes:
    return srv.url("").encode() + name


def test_fetch_sends_the_bytes_percent_encoded(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    out = "saved-" + NAME  # the output name's bytes go to the filesystem as they are
    proc = _run("fetch", _url(served, NAME.encode()), "-o", out.encode(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and b"surrogates" not in proc.stderr
    assert (tmp_path / out).read_bytes() == (media / NAME).read_bytes()
    assert served.stats.requests() and all(r.status in (200, 206) for r in served.stats.requests())


def test_play_sends_the_bytes_percent_encoded_and_plays_a_local_name_as_it_is(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    args = ("--output", "null", "--no-ui", "--length", "0.3")
    proc = _run("play", _url(served, NAME.encode()), *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert served.stats.requests() and all(r.status in (200, 206) for r in served.stats.requests())
    local = _run("play", str(media / NAME).encode(), *args, cwd=tmp_path)
    assert local.returncode == 0, local.stderr


def test_bytes_that_are_not_utf8_are_sent_too(served: MediaServer, tmp_path: Path) -> None:
    """A Latin-1 byte (``t\\xf3n``) in any locale: curl sends ``%F3``; the server has no such
    file, and says so (404, exit 4), instead of the client failing to encode it."""
    out = tmp_path / "x.mp3"
    proc = _run(
        "fetch", _url(served, b"t\xf3n.mp3"), "-o", str(out), "--retries", "1", cwd=tmp_path
    )
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.decode("ascii", "replace").strip().splitlines()
    assert len(lines) == 1 and "HTTP 404" in lines[0] and "t%F3n.mp3" in lines[0], lines
    assert [r.status for r in served.stats.requests()] == [404]
    assert not out.exists()
