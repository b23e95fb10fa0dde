"""A finite file served with no length and no Range (chunked, or close-delimited HTTP/1.0):
kept like a file (seek back, forward by waiting, its duration known at its end), not a live
window; only an ICY answer is endless; past a cap it degrades to the live window."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.events.types import Event
from kithara_cli.file.source import ProgressiveSource
from kithara_cli.media import encode_file
from kithara_cli.media.analysis import seconds_heard
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.server import Faults, MediaServer

SECONDS = 24.0
BITRATE = 128_000


@pytest.fixture(scope="module")
def unsized_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("unsized")
    encode_file(root / "tone.mp3", SECONDS, "mp3", bitrate=BITRATE)
    # Without the Xing header (its frame count gives FFmpeg the length with no size): the
    # length is then known only from the bytes, once the body has ended.
    with (
        av.open(str(root / "tone.mp3")) as src,
        av.open(str(root / "plain.mp3"), "w", format="mp3", options={"write_xing": "0"}) as out,
    ):
        stream = out.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return root


def _wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        channels, rate = w.getnchannels(), w.getframerate()
    pcm = data.reshape(-1, channels).astype(np.float32) / 32768.0
    return pcm, rate


@pytest.mark.parametrize("http10", [False, True], ids=["chunked", "close-delimited"])
def test_seek_back_in_a_file_with_no_length(
    unsized_root: Path, tmp_path: Path, http10: bool
) -> None:
    out = tmp_path / "out.wav"
    events: list[dict[str, object]] = []
    bus = EventBus()
    bus.subscribe(lambda e: events.append(event_to_dict(e)))
    with MediaServer(unsized_root) as srv:
        # 4x real time: the file sink decodes as fast as bytes come, so the download paces it.
        faults = Faults(
            ignore_range=True, no_content_length=True, http10=http10, rate_per_conn=64_000
        )
        srv.set_faults("tone.mp3", faults)
        with Downloader(bus) as dl:
            player = Player(bus, PlayerSettings(output=f"wav:{out}"), dl)
            try:
                player.open(srv.url("tone.mp3"))
                deadline = time.monotonic() + 30
                while player.snapshot.position < 10.0 and time.monotonic() < deadline:
                    assert not player.ended, player.error
                    time.sleep(0.02)
                assert player.snapshot.live is False  # a file, not a live stream
                player.seek_to(4.0)
                assert player.wait(40), "did not play to the end"
                assert player.error is None, player.error
            finally:
                player.close()
        requests = srv.stats.requests("tone.mp3")
    assert len(requests) == 1  # one request, read to its end: never a Range, never a restart
    names = [e["event"] for e in events]
    assert "SeekCompleted" in names and "EndOfStream" in names
    assert not [e for e in events if e["event"] == "Notice" and "no seeking" in str(e)]
    pcm, rate = _wav(out)
    heard = seconds_heard(pcm, rate, window=0.25)
    back = next(i for i in range(1, len(heard)) if 0 <= heard[i] < heard[i - 1] - 2)
    assert max(heard[:back]) >= 9  # it had played past 10 s...
    assert heard[back : back + 4] == [4, 4, 4, 4]  # ...and second 4 came after the seek
    assert heard[-1] in (SECONDS - 1, SECONDS)


def test_duration_known_at_its_end_and_seek_forward(unsized_root: Path) -> None:
    """Played in real time, the body arriving at 8x: FFmpeg cannot tell the length at open (no
    size, no Xing header); once the body has ended it is known (the dashboard's and
    ``Position``'s), from the bytes of the packets demuxed, and it does not move after; a seek
    forward works."""
    bus = EventBus()
    positions: list[float | None] = []
    bus.subscribe(
        lambda e: (
            positions.append(getattr(e, "duration", 0.0))
            if type(e).__name__ == "Position"
            else None
        )
    )
    with MediaServer(unsized_root) as srv:
        faults = Faults(ignore_range=True, no_content_length=True, rate_per_conn=128_000)
        srv.set_faults("plain.mp3", faults)
        with Downloader(bus) as dl:
            player = Player(bus, PlayerSettings(output="null"), dl)
            try:
                player.open(srv.url("plain.mp3"))
                assert player.first_audio.wait(20)
                deadline = time.monotonic() + 15
                while player.snapshot.duration is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                duration = player.snapshot.duration
                player.seek_to(20.0)
                deadline = time.monotonic() + 15
                while player.snapshot.position < 20.0 and time.monotonic() < deadline:
                    assert not player.ended, player.error
                    time.sleep(0.05)
                assert player.snapshot.position >= 20.0
                assert player.error is None
            finally:
                player.close()
    assert positions[0] is None  # not known at open: the estimate is what is tested
    assert duration is not None and abs(duration - SECONDS) < 0.05, duration
    known = [d for d in positions if d is not None]
    assert known and set(known) == {duration}  # it does not jump around


def _collect(bus: EventBus) -> list[Event]:
    seen: list[Event] = []
    bus.subscribe(seen.append)
    return seen


def _read_all(src: ProgressiveSource, start: int, stop: int, pause: float = 0.0) -> bytes:
    out = bytearray()
    pos = start
    while pos < stop:
        n = src.wait_readable(pos, 65536, 10)
        assert n > 0, (pos, n)
        chunk = src.read_at(pos, n)
        out += chunk
        pos += len(chunk)
        if pause:
            time.sleep(pause)
    return bytes(out)


def test_past_the_cap_degrades_to_a_live_window(unsized_root: Path, tmp_path: Path) -> None:
    """An unsized body longer than the cap: kept up to it, then a bounded live window (with a
    notice), the kept part read to its end and dropped from disk; the bytes stay in order."""
    root = tmp_path / "root"
    root.mkdir()
    data = np.random.default_rng(7).bytes(3_000_000)  # past the cap by more than the window
    (root / "long.bin").write_bytes(data)
    cap = 300_000
    bus = EventBus()
    seen = _collect(bus)
    with MediaServer(root) as srv:
        srv.set_faults("long.bin", Faults(ignore_range=True, no_content_length=True))
        with Downloader(bus) as dl:
            src = ProgressiveSource(
                dl, srv.url("long.bin"), tmp_path / "p.bin", unsized_cap=cap, unsized_ahead=50_000
            )
            try:
                src.start(0)
                assert src.first_response.wait(10)
                assert src.unsized
                got = _read_all(src, 0, cap - 1000)
                assert src.resource.path.exists()  # kept while below the cap
                assert src.resource.available_from(0) <= cap  # and never more than it
                got += _read_all(src, len(got), len(data))
                assert src.live is not None  # past the cap: a live window
                assert src.live.window.start >= cap  # from the cap on, not before
                assert src.wait_readable(len(data), 10, 10) == 0  # its end is the end
                assert not src.resource.path.exists()  # the kept bytes are gone from disk
                assert src.live.window.kept <= src.live.window.behind + 128 * 1024
            finally:
                src.close()
    assert got == data
    notices = [e for e in seen if type(e).__name__ == "Notice" and "live" in str(e)]
    assert len(notices) == 1


def test_unsized_download_waits_for_its_reader(unsized_root: Path, tmp_path: Path) -> None:
    """Backpressure: an unsized body is fetched at most ``unsized_ahead`` past the reader."""
    data = (unsized_root / "tone.mp3").read_bytes()
    bus = EventBus()
    with MediaServer(unsized_root) as srv:
        srv.set_faults("tone.mp3", Faults(ignore_range=True, no_content_length=True))
        with Downloader(bus) as dl:
            src = ProgressiveSource(
                dl, srv.url("tone.mp3"), tmp_path / "p.bin", unsized_ahead=60_000
            )
            try:
                src.start(0)
                assert src.first_response.wait(10)
                _read_all(src, 0, 10_000)
                time.sleep(0.5)
                held = src.resource.available_from(0)
                assert held < 10_000 + 60_000 + 128 * 1024 < len(data), held
                got = _read_all(src, 0, len(data))
                assert src.wait_readable(len(data), 10, 10) == 0
                assert src.length() == len(data)  # known at its end
            finally:
                src.close()
    assert got == data
    assert threading.active_count() < 50


def test_only_icy_is_endless_from_its_first_byte(unsized_root: Path, tmp_path: Path) -> None:
    """An ICY mount is live at once (bounded window, nothing on disk) and stays so past 10 MB;
    an endless body without ICY headers is an unsized file until its cap."""
    from kithara_cli.server.radio import Station

    audio = (unsized_root / "tone.mp3").read_bytes()
    bus = EventBus()
    with MediaServer(unsized_root) as srv:
        srv.add_radio("icy.mp3", Station(audio, BITRATE, pace=0))
        srv.set_faults("tone.mp3", Faults(endless=True, no_content_length=True))
        with Downloader(bus) as dl:
            icy = ProgressiveSource(dl, srv.url("icy.mp3"), tmp_path / "i.bin")
            plain = ProgressiveSource(dl, srv.url("tone.mp3"), tmp_path / "p.bin")
            try:
                icy.start(0)
                plain.start(0)
                assert icy.first_response.wait(10) and plain.first_response.wait(10)
                assert icy.live is not None and not icy.unsized
                assert plain.live is None and plain.unsized
                pos, peak = 0, 0
                while pos < 10 * 2**20:
                    n = icy.wait_readable(pos, 256 * 1024, 10)
                    assert n > 0
                    pos += len(icy.read_at(pos, n))
                    peak = max(peak, icy.live.window.kept)
                window = icy.live.window
                assert peak <= window.behind + window.ahead + 256 * 1024  # flat, not growing
                assert not (tmp_path / "i.bin").exists() or (tmp_path / "i.bin").stat().st_size == 0
            finally:
                icy.close()
                plain.close()
