"""Seeking in a chained Ogg file (Vorbis, Opus), served by the loopback server: FFmpeg's own
seek lands in the wrong link (a 4.5 s three-link chain ended at 1.8 s after a seek back), so
the decoder decodes the chain again from byte 0 and drops up to the target. What plays after
a seek back or forward is, sample for sample, what a decode of the whole file gives from
that second, to the chain's true end; the link titles follow the seek; a single-link Ogg
still seeks by FFmpeg's demuxer (it does not decode from the start)."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from kithara_cli.audio import Decoder, FileInput, PcmRing
from kithara_cli.dl import Downloader
from kithara_cli.events import EventBus, event_to_dict
from kithara_cli.events.types import Event
from kithara_cli.media.analysis import seconds_heard
from kithara_cli.media.titles import OggCodec, OggLink, chained_ogg, ogg_link
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.play.opening import open_progressive
from kithara_cli.server import MediaServer

RATE = 48000
LINKS = (OggLink("One", "A", 3.0), OggLink("Two", "B", 2.5), OggLink("Three", "C", 3.5))
SHOWN = ["A - One", "B - Two", "C - Three"]
CODECS: tuple[OggCodec, ...] = ("vorbis", "opus")


def whole_file_pcm(data: bytes) -> np.ndarray:
    """The chain decoded in one go by PyAV, as the decoder's output stage converts it."""
    resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
    chunks = []
    with av.open(io.BytesIO(data)) as c:
        for packet in c.demux(c.streams.audio[0]):
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, 2)[: out.samples])
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1, 2)[: out.samples])
    return np.concatenate(chunks)


@pytest.fixture(scope="session")
def chain_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ogg_chain_seek")
    for codec in CODECS:
        (root / f"chain_{codec}.ogg").write_bytes(b"".join(chained_ogg(codec, LINKS)))
    short = (OggLink("One", "A", 1.5), OggLink("Two", "B", 1.2), OggLink("Three", "C", 1.8))
    (root / "short_opus.ogg").write_bytes(b"".join(chained_ogg("opus", short)))
    (root / "single.ogg").write_bytes(ogg_link("opus", OggLink("Solo", "", 30.0)))
    return root


def _drain(ring: PcmRing) -> np.ndarray:
    out = np.zeros((ring.frames_available, 2), dtype=np.float32)
    return out[: ring.read_into(out)]


def _wait(predicate: Callable[[], bool], decoder: Decoder, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert decoder.error is None, decoder.error
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("target", [0.5, 2.9, 3.2, 6.2, 8.7])
def test_seek_in_a_chain_gives_the_whole_files_audio_to_its_end(
    chain_root: Path, tmp_path: Path, codec: str, target: float
) -> None:
    """Over HTTP (a progressive source, as ``play`` reads it): decoded to the end, then a seek
    back; and from the start, a seek forward before the later links have been read."""
    name = f"chain_{codec}.ogg"
    reference = whole_file_pcm((chain_root / name).read_bytes())
    bus = EventBus()
    with MediaServer(chain_root) as srv, Downloader(bus) as dl:
        opened = open_progressive(dl, srv.url(name), tmp_path, threading.Event())
        assert opened.progressive is not None
        opened.progressive.playback_started()
        ring = PcmRing(RATE * 12, 2)
        decoder = Decoder(opened.stream, ring, out_rate=RATE, out_channels=2).start()
        try:
            _wait(decoder.eof.is_set, decoder)  # the whole chain, decoded once
            whole = _drain(ring)
            decoder.seek(target)  # back
            _wait(lambda: decoder.seeks_done == 1 and decoder.eof.is_set(), decoder)
            back = _drain(ring)
            decoder.seek(0.0)
            _wait(lambda: decoder.seeks_done == 2 and ring.frames_available > 0, decoder)
            decoder.seek(target)  # forward, from the start
            _wait(lambda: decoder.seeks_done == 3 and decoder.eof.is_set(), decoder)
            forward = _drain(ring)
        finally:
            decoder.stop()
            assert decoder.join(5)
            opened.progressive.close()
    assert decoder.error is None
    assert len(whole) == len(reference) and np.abs(whole - reference).max() < 1e-6
    # The true length, once decoded from the start (FFmpeg's was the last link's, 3.5 s).
    assert decoder.duration == pytest.approx(len(reference) / RATE, abs=1e-6)
    tail = reference[round(target * RATE) :]
    for pcm in (back, forward):
        assert len(pcm) == len(tail)  # to the chain's true end
        error = np.abs(pcm - tail).max()
        assert error < 1e-6, error  # sample for sample
    heard = seconds_heard(back, RATE, window=0.1)
    assert heard[0] == int(target) and heard[-1] == 8


def test_titles_and_the_end_after_a_seek_back_into_the_first_link(chain_root: Path) -> None:
    """Played in real time: from the third link back into the first; each link's title comes
    again in order, and playback ends at the chain's true end, not after the last link's own
    length counted from the target."""
    bus = EventBus()
    lock = threading.Lock()
    events: list[dict[str, Any]] = []

    def keep(event: Event) -> None:
        with lock:
            events.append(event_to_dict(event))

    bus.subscribe(keep)
    with MediaServer(chain_root) as srv, Downloader(bus) as dl:
        player = Player(bus, PlayerSettings(output="null"), dl)
        try:
            player.open(srv.url("short_opus.ogg"))
            deadline = time.monotonic() + 30
            while player.snapshot.now_playing != "C - Three":
                assert not player.ended and time.monotonic() < deadline, player.error
                time.sleep(0.01)
            player.seek_to(0.5)
            assert player.wait(30)
            assert player.error is None, player.error
        finally:
            player.close()
    with lock:
        seen = list(events)
    names = [e["event"] for e in seen]
    after = seen[names.index("SeekRequested") :]
    titles = [e for e in after if e["event"] == "TitleChanged"]
    assert [t["title"] for t in titles] == ["A - One", "B - Two", "C - Three"]
    assert 0.4 <= titles[0]["position"] <= 0.6
    assert 1.5 - 0.005 <= titles[1]["position"] <= 1.6
    assert 2.7 - 0.005 <= titles[2]["position"] <= 2.8
    ends = [e for e in after if e["event"] == "EndOfStream"]
    assert len(ends) == 1 and ends[0]["position"] == pytest.approx(4.5, abs=0.1)
    assert not [e for e in seen if e["event"] in ("DecoderError", "Error")]


def test_a_single_link_ogg_still_seeks_by_the_demuxer(chain_root: Path) -> None:
    """Not a chain: the seek reads a few pages near the target, not the file from its start."""
    data = (chain_root / "single.ogg").read_bytes()
    ring = PcmRing(RATE * 2, 2)
    source = io.BytesIO(data)
    decoder = Decoder(FileInput(source), ring, out_rate=RATE, out_channels=2).start()
    try:
        deadline = time.monotonic() + 10
        while ring.frames_available < ring.capacity and time.monotonic() < deadline:
            time.sleep(0.005)
        before = decoder.bytes_read
        decoder.seek(25.0)
        while not (decoder.seeks_done == 1 and ring.frames_available) and not decoder.done.is_set():
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert ring.position_frames == 25 * RATE
        read_for_seek = decoder.bytes_read - before
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert decoder.error is None
    assert decoder.duration == pytest.approx(30.0, abs=0.01)
    # Decoding from the start would read the 25 s before the target: 5/6 of the file.
    assert read_for_seek < len(data) * 25 / 30 * 0.75, (read_for_seek, len(data))
