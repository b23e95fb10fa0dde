"""``--length N`` plays N seconds, also into a WAV file, which drains as fast as the decoder
fills: the session's poll used to notice seconds late (``--length 2`` wrote 3.0-3.8 s, and a
replay's cached head wrote its whole first second under ``--length 0.5``)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from kithara_cli.audio.ring import PcmRing
from kithara_cli.media.encode import encode_file
from kithara_cli.server import Faults, MediaServer

RATE = 48_000  # the wav sink's rate


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def test_a_ring_with_a_play_limit_gives_out_that_many_frames_then_reads_drained() -> None:
    ring = PcmRing(1000, 2)
    ring.play_limit = 300
    ring.write(np.zeros((800, 2), dtype=np.float32))
    out = np.zeros((256, 2), dtype=np.float32)
    assert ring.read_into(out) == 256
    assert not ring.drained
    assert ring.read_into(out) == 44  # the rest up to the limit, not a frame more
    assert ring.drained and ring.read_into(out) == 0
    assert ring.frames_played == 300


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("length-media")
    encode_file(root / "tone.mp3", 20.0, "mp3")
    with MediaServer(root) as srv:
        srv.set_faults("*", Faults(cache_control="public, max-age=3600"))
        yield srv


@pytest.mark.parametrize("length", ["2", "0.5"])
def test_length_into_a_wav_is_exact_fresh_and_from_a_cached_head(
    served: MediaServer, tmp_path: Path, length: str
) -> None:
    cache = tmp_path / "cache"
    for run in ("first", "replay"):  # the replay starts from the cache's head (play.head)
        out = tmp_path / f"{run}.wav"
        proc = run_cli(
            "play", served.url("tone.mp3"), "--no-ui", "--output", f"wav:{out}",
            "--length", length, "--cache-dir", str(cache), timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert wav_seconds(out) == pytest.approx(float(length), abs=1 / RATE), run
