"""Non-UTF-8 terminals: a Latin-1 or ASCII locale (LANG=en_US.ISO-8859-1, PYTHONIOENCODING).

Python raises on stdout there for any character the encoding lacks, and kithara's stdout
carries URLs, paths and titles from anywhere. Every command must still print, with what the
encoding cannot hold shown as an escape (as stderr already does), and exit 0: no crash log.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import KITHARA, run_cli
from hls_fixtures import static
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

TITLE = "Björk – Jóga ♫ 日本"
ENCODINGS = ["ascii", "latin-1"]


def run_in(encoding: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``kithara ARGS`` with stdio in ``encoding``; its output decoded as a terminal would."""
    full_env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": encoding, **(env or {})}
    proc = subprocess.run(
        [*KITHARA, *args],
        capture_output=True,
        timeout=30,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout.decode(encoding), proc.stderr.decode(encoding)


def assert_printed(proc_rc: int, stdout: str, stderr: str) -> None:
    assert proc_rc == 0, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert stdout.strip(), stderr


@pytest.fixture(scope="module")
def cached_unicode_url(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A cache directory (named with a non-ASCII letter) holding one file whose URL is Unicode."""
    root = tmp_path_factory.mktemp("uni")
    encode_file(root / f"{TITLE}.mp3", 1.0, "mp3", bitrate=64_000)
    cache = root / "cache ü"
    with MediaServer(root) as srv:
        url = srv.url(f"{TITLE}.mp3")
        proc = run_cli("fetch", url, "-o", str(root / "copy.mp3"), "-q", "--cache-dir", str(cache))
    assert proc.returncode == 0, proc.stderr
    return cache, url


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command", ["ls", "info"])
def test_cache_listing_prints_in_a_narrow_encoding(
    cached_unicode_url: tuple[Path, str], encoding: str, command: str
) -> None:
    cache, _url = cached_unicode_url
    code, out, err = run_in(encoding, "cache", command, "--cache-dir", str(cache))
    assert_printed(code, out, err)
    if command == "ls":
        assert "\\u2013" in out  # the en dash, shown as an escape, not dropped


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_config_path_and_show_print_in_a_narrow_encoding(tmp_path: Path, encoding: str) -> None:
    config = tmp_path / "réglages ♫.toml"
    config.write_text('[play]\naudio = "Français ♫"\n', encoding="utf-8")  # any text option
    for args in (("config", "path"), ("config", "show")):
        code, out, err = run_in(encoding, *args, env={"KITHARA_CONFIG": str(config)})
        assert_printed(code, out, err)
        assert "\\u266b" in out, out


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_fetch_list_prints_a_unicode_rendition_name(tmp_path: Path, encoding: str) -> None:
    master = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="Français – ♫",LANGUAGE="fr",URI="fr.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS="mp4a.40.2",AUDIO="a"\nv0.m3u8\n'
    )
    with MediaServer(tmp_path) as srv:
        srv.add_route("master.m3u8", static(master))
        code, out, err = run_in(encoding, "fetch", srv.url("master.m3u8"), "--list")
    assert_printed(code, out, err)
    assert "Fran" in out and "\\u266b [fr]" in out, out
