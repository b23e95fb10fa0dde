"""Numbers that are no numbers: ``inf`` and ``nan`` are floats to Python, and Click's ranges
let NaN through (every comparison with it is false). Typed on the command line or written in
the config file, each is bad usage: exit 2 naming the option, never a crash log or a play at
NaN volume.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("numbers")
    encode_file(root / "song.mp3", 1.0, "mp3", bitrate=64_000)
    return root


def assert_usage(proc_rc: int, stderr: str, needle: str) -> None:
    assert proc_rc == 2, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert needle in stderr, stderr


PLAY_BAD = [
    ("--length", "inf"),
    ("--length", "nan"),
    ("--buffer", "nan"),
    ("--volume", "nan"),
    ("--timeout", "nan"),
    ("--start", "inf"),
    ("--start", "1:nan"),
    ("--max-bitrate", "inf"),
    ("--min-bitrate", "infk"),
]


@pytest.mark.parametrize(("option", "value"), PLAY_BAD)
def test_play_refuses_a_non_finite_number(song: Path, option: str, value: str) -> None:
    with MediaServer(song) as srv:
        args = ("play", srv.url("song.mp3"), "--output", "null", "--no-ui", "--length", "0.3")
        proc = run_cli(*args, option, value, timeout=30)
    assert_usage(proc.returncode, proc.stderr, value)


@pytest.mark.parametrize(("option", "value"), [("--timeout", "nan"), ("--duration", "inf")])
def test_fetch_refuses_a_non_finite_number(
    song: Path, tmp_path: Path, option: str, value: str
) -> None:
    out = tmp_path / "out.mp3"
    with MediaServer(song) as srv:
        proc = run_cli("fetch", srv.url("song.mp3"), "-o", str(out), "-q", option, value)
    assert_usage(proc.returncode, proc.stderr, value)
    assert not out.exists()


@pytest.mark.parametrize("line", ["length = inf", "volume = nan", "timeout = -inf"])
def test_a_non_finite_number_in_the_config_file_names_its_line(tmp_path: Path, line: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[play]\nno-ui = true\n{line}\n")
    proc = run_cli("--config", str(config), "play", "http://127.0.0.1:9/x.mp3", timeout=30)
    assert_usage(proc.returncode, proc.stderr, f"{config}:3:")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
