"""``play URL1 URL2 ... --record FILE``: one file per item (FILE, FILE-2, FILE-3... before the
suffix), each with its CUE sheet. Each item overwrote FILE (the recording of a two-item queue
was the second item alone). An item that records nothing takes no number; a file being written
is only ever at ``NAME.part``, never half at its own name."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

import radio_fixtures
from conftest import KITHARA, run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from kithara_cli.server.radio import Station
from radio_fixtures import BITRATE

radio_root = radio_fixtures.radio_root
radio_mp3 = radio_fixtures.radio_mp3


@pytest.fixture(scope="session")
def queue_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("record_queue")
    encode_file(root / "a.mp3", 1.5, "mp3", bitrate=128_000)
    encode_file(root / "b.mp3", 2.5, "mp3", bitrate=96_000)
    return root


def test_a_queue_records_one_whole_file_per_item(queue_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "show.mp3"
    second = tmp_path / "show-2.mp3"
    env = {**os.environ, "NO_COLOR": "1"}
    with MediaServer(queue_root) as srv:
        urls = [srv.url("a.mp3"), srv.url("missing.mp3"), srv.url("b.mp3")]
        args = [*KITHARA, "play", *urls, "--output", "null", "--no-ui", "--record", str(out)]
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        try:
            # While the third item records, the first is whole at FILE and the third only at
            # FILE-2's .part (the dead second item took no number).
            deadline = time.monotonic() + 30
            while not (tmp_path / "show-2.mp3.part").exists():
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the second recording never started"
                time.sleep(0.01)
            assert not second.exists()
            assert out.read_bytes() == (queue_root / "a.mp3").read_bytes()
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 4, stderr  # the dead item's 404, once the others played
    assert out.read_bytes() == (queue_root / "a.mp3").read_bytes()
    assert second.read_bytes() == (queue_root / "b.mp3").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "show-2.mp3",
        "show-2.mp3.cue",
        "show.mp3",
        "show.mp3.cue",
    ]
    assert 'FILE "show-2.mp3"' in (tmp_path / "show-2.mp3.cue").read_text()


def test_a_queue_of_radio_streams_records_one_file_each(
    radio_root: Path, radio_mp3: bytes, tmp_path: Path
) -> None:
    """Live streams record themselves (their audio without ICY blocks, their titles)."""
    out = tmp_path / "radio.mp3"
    with MediaServer(radio_root) as srv:
        for name, titles in (("one.mp3", ["A - one"]), ("two.mp3", ["B - two"])):
            srv.add_radio(name, Station(radio_mp3, BITRATE, pace=8, metaint=4000, titles=titles))
        r = run_cli(
            "play",
            srv.url("one.mp3"),
            srv.url("two.mp3"),
            "--output",
            f"wav:{tmp_path / 'played.wav'}",
            "--length",
            "1.5",
            "--record",
            str(out),
            timeout=40,
        )
    assert r.returncode == 0, r.stderr
    second = tmp_path / "radio-2.mp3"
    for path, title in ((out, "A - one"), (second, "B - two")):
        assert path.stat().st_size > BITRATE // 8  # over a second of audio each
        assert path.read_bytes()[2000:6000] in radio_mp3 * 2  # the stream's bytes, no ICY
        assert f'TITLE "{title}"' in path.with_name(path.name + ".cue").read_text()
    assert not list(tmp_path.glob("*.part"))
