"""``play --record FILE`` for every source: a progressive file records its own bytes, HLS
records the segments played as ``fetch`` writes them (decrypted, in order, across ABR
switches; remuxed when FILE names another container), Ctrl-C leaves a playable file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import KITHARA, run_cli
from kithara_cli.events import EventBus
from kithara_cli.media import build_ladder, encode_file
from kithara_cli.media.analysis import decode_pcm, seconds_heard
from kithara_cli.play.record import PlayRecording
from kithara_cli.server import Faults, MediaServer
from kithara_cli.stream import Source
from radio_fixtures import read_events

KEY = bytes(range(16))


@pytest.fixture(scope="module")
def rec_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("record-any")
    encode_file(root / "short.mp3", 4.0, "mp3")
    encode_file(root / "long.mp3", 40.0, "mp3")
    build_ladder(root / "hls", 12.0, aes_key=KEY)  # encrypted: the recording is decrypted
    return root


def _no_leftovers(folder: Path) -> None:
    assert not list(folder.glob("*.part")), list(folder.iterdir())


def test_progressive_whole_play_records_the_file(rec_root: Path, tmp_path: Path) -> None:
    rec = tmp_path / "rec.mp3"
    with MediaServer(rec_root) as srv:
        r = run_cli(
            "play", srv.url("short.mp3"), "--output", "null", "--record", str(rec), timeout=40
        )
    assert r.returncode == 0, r.stderr
    assert rec.read_bytes() == (rec_root / "short.mp3").read_bytes()  # the file, byte for byte
    assert rec.with_name("rec.mp3.cue").read_text().startswith('FILE "rec.mp3" MP3')
    _no_leftovers(tmp_path)


def test_progressive_part_play_records_what_played(rec_root: Path, tmp_path: Path) -> None:
    """``--length 3`` of a 40 s file served at 4x real time: a prefix of the file, and it
    decodes to the audio that played (its header still says 40 s: a player that trusts it
    calls the recording short, as for any cut file)."""
    rec, played = tmp_path / "rec.mp3", tmp_path / "played.wav"
    data = (rec_root / "long.mp3").read_bytes()
    with MediaServer(rec_root) as srv:
        srv.set_faults("long.mp3", Faults(rate_per_conn=64_000))
        r = run_cli(
            "play",
            srv.url("long.mp3"),
            "--output",
            f"wav:{played}",
            "--length",
            "3",
            "--record",
            str(rec),
            timeout=40,
        )
    assert r.returncode == 0, r.stderr
    got = rec.read_bytes()
    assert len(got) > 3 * 16_000 and got == data[: len(got)]
    heard, rate = decode_pcm(played)
    mine, rate_r = decode_pcm(rec)
    whole, _ = decode_pcm(rec_root / "long.mp3")
    assert len(mine) / rate_r >= len(heard) / rate - 0.05 >= 2.95  # all that played...
    n = len(mine) - 2 * 1152  # (a frame cut at the recording's end decodes differently)
    assert np.array_equal(mine[:n], whole[:n])  # ...and the file's audio, from its start


def test_hls_record_is_what_fetch_writes(rec_root: Path, tmp_path: Path) -> None:
    """One variant, whole play: the recording equals ``kithara fetch``'s output (decrypted
    segments in order), and a .m4a recording is remuxed as fetch remuxes."""
    rec, fetched, m4a = tmp_path / "rec.ts", tmp_path / "f.ts", tmp_path / "rec.m4a"
    with MediaServer(rec_root) as srv:
        url = srv.url("hls/master.m3u8")
        r = run_cli(
            "play", url, "--abr", "fixed:0", "--output", "null", "--record", str(rec), timeout=60
        )
        assert r.returncode == 0, r.stderr
        r = run_cli("fetch", url, "--variant", "0", "--out", str(fetched), timeout=60)
        assert r.returncode == 0, r.stderr
        r = run_cli(
            "play", url, "--abr", "fixed:0", "--output", f"wav:{tmp_path / 'p.wav'}",
            "--record", str(m4a), timeout=60,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
    assert rec.read_bytes() == fetched.read_bytes()
    assert m4a.read_bytes()[4:8] == b"ftyp"  # an MP4 now, not the segments' MPEG-TS
    a, rate = decode_pcm(rec)
    b, rate_b = decode_pcm(m4a)
    assert rate == rate_b and abs(len(a) - len(b)) <= 2048
    assert abs(len(a) / rate - 12.0) < 0.2
    _no_leftovers(tmp_path)


def test_hls_record_across_variant_switches_decodes_to_what_played(
    rec_root: Path, tmp_path: Path
) -> None:
    """The top variant's third segment fails: it is played from another variant, and the
    rest from whichever the ABR picks. The recording holds the segments that played, and
    decodes to the very samples that played."""
    rec, played, replay = tmp_path / "rec.ts", tmp_path / "played.wav", tmp_path / "re.wav"
    ev = tmp_path / "ev.jsonl"
    with MediaServer(rec_root) as srv:
        srv.set_faults("hls/256k_00002.ts", Faults(fail_first=100, fail_status=404))
        r = run_cli(
            "play",
            srv.url("hls/master.m3u8"),
            "--output",
            f"wav:{played}",
            "--record",
            str(rec),
            "--events",
            str(ev),
            timeout=60,
        )
    assert r.returncode == 0, r.stderr
    loaded = [e["variant"] for e in read_events(ev) if e["event"] == "SegmentLoaded"]
    assert len(set(loaded)) >= 2, loaded  # segments of more than one variant played
    r = run_cli("play", str(rec), "--output", f"wav:{replay}", timeout=40)
    assert r.returncode == 0, r.stderr
    a, rate = decode_pcm(played)
    b, _ = decode_pcm(replay)
    assert abs(len(a) / rate - 12.0) < 0.2 and len(a) == len(b)
    assert np.array_equal(a, b)
    heard = seconds_heard(a, rate, window=0.5)
    assert heard == sorted(heard) and set(heard) == set(range(12)), heard


def test_ctrl_c_leaves_a_playable_recording(rec_root: Path, tmp_path: Path) -> None:
    rec = tmp_path / "int.mp3"
    with MediaServer(rec_root) as srv:
        srv.set_faults("long.mp3", Faults(rate_per_conn=24_000))  # 1.5x real time
        proc = subprocess.Popen(
            [*KITHARA, "play", srv.url("long.mp3"), "--output", "null", "--record", str(rec)],
            env={**os.environ, "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        part = rec.with_name(rec.name + ".part")
        deadline = time.monotonic() + 20
        while not part.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.5)
        assert part.exists() and not rec.exists()  # never a half file at FILE
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert rec.exists()
    _no_leftovers(tmp_path)
    pcm, rate = decode_pcm(rec)
    assert len(pcm) / rate > 1.5
    assert rec.read_bytes() == (rec_root / "long.mp3").read_bytes()[: rec.stat().st_size]


class _Present(Source):
    """Bytes of which the first ``present`` have arrived (a download under way)."""

    def __init__(self, data: bytes, present: int) -> None:
        self.data = data
        self.present = present

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        if offset >= len(self.data):
            return 0
        return min(size, self.present - offset) if offset < self.present else -1

    def read_at(self, offset: int, size: int) -> bytes:
        return self.data[offset : min(offset + size, self.present)]

    def length(self) -> int | None:
        return len(self.data)

    def reader_moved(self, offset: int) -> None:
        pass


def _read(tap: Source, offset: int, size: int) -> bytes:
    assert tap.wait_readable(offset, size, 0) > 0
    return tap.read_at(offset, size)


def test_tap_records_each_byte_once_in_order(tmp_path: Path) -> None:
    """A tail peek, a seek back and a seek forward past what has arrived: the recording is
    still the file's bytes from its first, each once."""
    data = np.random.default_rng(3).bytes(10_000)
    src = _Present(data, 3_000)
    rec = PlayRecording(tmp_path / "r.bin", EventBus())
    tap = rec.tap(src)
    _read(tap, 0, 1000)
    assert tap.wait_readable(9_872, 128, 0) == -1  # the tail: not there yet, nothing recorded
    _read(tap, 500, 1000)  # a seek back: only bytes 1000..1500 are new
    assert rec.recorded_bytes == 1500
    src.present = 6_000
    _read(tap, 5_000, 500)  # a seek forward: what arrived in between is recorded first
    assert rec.recorded_bytes == 5_500
    src.present = len(data)
    _read(tap, 9_872, 128)  # a tail peek with everything there: filled up to it
    _read(tap, 5_500, 10_000)
    assert tap.wait_readable(len(data), 1, 0) == 0
    assert not (tmp_path / "r.bin").exists() and (tmp_path / "r.bin.part").exists()
    assert rec.finish() == [tmp_path / "r.bin", tmp_path / "r.bin.cue"]
    assert (tmp_path / "r.bin").read_bytes() == data
    rec.write(b"late")  # a read still in flight after finish: ignored, the file stays whole
    assert (tmp_path / "r.bin").read_bytes() == data


def test_nothing_recorded_leaves_nothing(tmp_path: Path) -> None:
    rec = PlayRecording(tmp_path / "r.mp3", EventBus())
    rec.tap(_Present(b"", 0))
    assert rec.finish() == []
    assert list(tmp_path.iterdir()) == []
