"""``kithara fetch URL`` typed as ``wget URL``, ``curl -O URL`` or ``yt-dlp URL``: what
--out to give.

Found in session 16: without ``--out`` the line was ``--out FILE is required`` and nothing
more; ``-o ~/Music/`` (a folder, as ``cp`` and ``curl --output-dir`` take one) was Click's
``Invalid value for '--out' / '-o': File 'Music/' is a directory.`` Now each says what to
type, with the URL's own file name when it names an audio file (``-o song.mp3``, ``-o
Music/song.mp3``), exit 2 and nothing written; the command suggested then saves the file
whole (a PyAV-made MP3 on 127.0.0.1).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli, sha256
from hls_fixtures import popen_fetch, wait_for
from kithara_cli.file.state import part_paths
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fetchout")
    encode_file(root / "song.mp3", 2.0, "mp3")
    return root


@pytest.fixture
def served(media: Path) -> Iterator[MediaServer]:
    with MediaServer(media) as srv:
        yield srv


def only_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kithara: error: "), stderr
    return lines[0]


def test_no_out_suggests_the_url_s_file_name_which_then_saves(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    url = f"{served.base_url}/song.mp3?token=abc"
    proc = run_cli("fetch", url, cwd=tmp_path)
    assert proc.returncode == 2
    line = only_line(proc.stderr)
    assert line.endswith("(e.g. -o song.mp3)"), line
    assert list(tmp_path.iterdir()) == []
    saved = run_cli("fetch", url, "-o", "song.mp3", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert sha256(tmp_path / "song.mp3") == sha256(media / "song.mp3")


@pytest.mark.parametrize("path", ["/master.m3u8", "/listen", "/feed.rss", "/a%20b.mp3"])
def test_no_out_without_a_plain_audio_name_suggests_a_container(path: str) -> None:
    proc = run_cli("fetch", f"http://127.0.0.1:9{path}")
    assert proc.returncode == 2
    line = only_line(proc.stderr)
    assert "--out FILE is required" in line and "(e.g. -o show.m4a)" in line, line


def test_out_a_folder_names_a_file_in_it(served: MediaServer, tmp_path: Path) -> None:
    (tmp_path / "Music").mkdir()
    proc = run_cli("fetch", f"{served.base_url}/song.mp3", "-o", "Music/", cwd=tmp_path)
    assert proc.returncode == 2
    line = only_line(proc.stderr)
    assert (
        line
        == "kithara: error: --out Music is a folder: name a file in it (e.g. -o Music/song.mp3)"
    )
    assert list((tmp_path / "Music").iterdir()) == []
    assert served.stats.requests() == []  # refused before any request


def test_ctrl_c_says_how_to_resume_and_that_command_does(
    served: MediaServer, media: Path, tmp_path: Path
) -> None:
    """Was ``interrupted: partial download kept for resuming``: kept where, resumed how? (curl
    and wget resume only when asked: ``-C -``, ``-c``.) Now the line names the part and says
    to run the same command again, which finishes the file."""
    served.set_faults("song.mp3", Faults(rate_per_conn=20_000))
    out = tmp_path / "song.mp3"
    part, _ = part_paths(out)
    proc = popen_fetch(f"{served.base_url}/song.mp3", "-o", str(out), "-c", "1")
    try:
        wait_for(lambda: part.exists() and part.stat().st_size > 0, what="some bytes")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert only_line(err) == (
        f"kithara: error: interrupted: partial download kept in {part}; "
        "run the same command again to resume"
    )
    served.set_faults("song.mp3", Faults())
    again = run_cli("fetch", f"{served.base_url}/song.mp3", "-o", str(out), "-c", "1")
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    assert sha256(out) == sha256(media / "song.mp3")


def test_out_to_standard_output_points_to_play() -> None:
    """``-o -`` is how curl and yt-dlp pipe into mpv or ffplay: kithara plays it itself."""
    proc = run_cli("fetch", "http://127.0.0.1:9/song.mp3", "-o", "-")
    assert proc.returncode == 2
    assert only_line(proc.stderr).endswith("(to listen now, without a file: kithara play URL)")
