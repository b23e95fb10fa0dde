"""A replay from fresh cache entries never loads the HTTP stack (issue 18's replay target).

Every module a play imports before first audio is CPU time on the way to it, and a fresh
entry needs no request at all. So httpcore (with h11) and httpx load only when a request
is about to be made: the first play loads them, a fresh replay does not, and a replay that
must revalidate (or fetch what is missing) still loads them and asks the server. A first
play loads httpcore before PyAV, as it did when httpcore loaded with the package: made while
PyAV loads, the client held the first request back 50-100 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kithara_cli.media import build_ladder
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

HTTP_STACK = ("httpcore", "h11", "httpx", "h2", "anyio")
CDN = Faults(cache_control="public, max-age=3600")  # fresh for an hour: used unasked
NO_CACHE = Faults(cache_control="no-cache")  # every use asks the server first


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lazy-net-media")
    encode_file(root / "tone.mp3", 4.0, "mp3")
    encode_file(root / "other.mp3", 2.0, "mp3")
    build_ladder(root / "hls", 4.0, bitrates=(64_000,))
    return root


def run_kithara_reporting(argv: list[str], setup: str, report: str) -> list[str]:
    """Run ``kithara ARGV`` in a fresh interpreter after ``setup`` (Python source); at exit
    it prints the JSON list ``report`` evaluates to, which is returned."""
    code = (
        "import atexit, json, sys\n"
        f"{setup}"
        f"atexit.register(lambda: print('report:', json.dumps({report})))\n"
        f"sys.argv = {['kithara', *argv]!r}\n"
        "from kithara_cli.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "KITHARA_AUDIO_DEVICE": "none", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(s for s in proc.stdout.splitlines() if s.startswith("report: "))
    reported: list[str] = json.loads(line.removeprefix("report: "))
    return reported


def play_loading(url: str, cache: Path, wav: Path) -> list[str]:
    """Play ``url`` as ``kithara play`` does; return which HTTP stack modules were loaded."""
    argv = ["play", url, "--no-ui", "--output", f"wav:{wav}", "--cache-dir", str(cache)]
    return run_kithara_reporting(argv, "", f"[m for m in {HTTP_STACK!r} if m in sys.modules]")


@pytest.mark.parametrize("name", ["tone.mp3", "hls/master.m3u8"])
def test_a_fresh_replay_never_loads_the_http_stack(media: Path, tmp_path: Path, name: str) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        url = srv.url(name)
        first = play_loading(url, cache, tmp_path / "first.wav")
        n = len(srv.stats.requests())
        again = play_loading(url, cache, tmp_path / "again.wav")
        assert srv.stats.requests()[n:] == []  # the replay asked nothing
    assert "httpcore" in first and "h11" in first  # the first play did need them
    assert again == []
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()


def test_a_replay_that_must_revalidate_still_asks(media: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with MediaServer(media) as srv:
        srv.set_faults("*", NO_CACHE)
        url = srv.url("tone.mp3")
        play_loading(url, cache, tmp_path / "first.wav")
        n = len(srv.stats.requests())
        again = play_loading(url, cache, tmp_path / "again.wav")
        asked = srv.stats.requests()[n:]
    assert "httpcore" in again
    assert asked and all(r.status in (206, 304) for r in asked)  # conditional: nothing refetched
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()


def import_order(args: list[str]) -> list[str]:
    """``kithara play ARGS``: the order in which httpcore and PyAV were first imported."""
    watch = (
        "order = []\n"
        "class Watch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name in ('httpcore', 'av'):\n"
        "            order.append(name)\n"
        "sys.meta_path.insert(0, Watch())\n"
    )
    return run_kithara_reporting(["play", *args], watch, "order")


@pytest.mark.parametrize("cache", ["new", "holding another URL", "off"])
def test_a_first_play_loads_httpcore_before_pyav(media: Path, tmp_path: Path, cache: str) -> None:
    folder = tmp_path / "cache"
    wav = tmp_path / "out.wav"
    with MediaServer(media) as srv:
        srv.set_faults("*", CDN)
        if cache == "holding another URL":
            play_loading(srv.url("other.mp3"), folder, tmp_path / "other.wav")
        extra = ["--no-cache"] if cache == "off" else ["--cache-dir", str(folder)]
        order = import_order([srv.url("tone.mp3"), "--no-ui", "--output", f"wav:{wav}", *extra])
    assert order == ["httpcore", "av"]
