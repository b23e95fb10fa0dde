"""Decoder: real PyAV on real encoded files, read through file-like objects.

Covers: small probing (first audio from the first ~64 KB), gapless sample counts, the tone of
every second, sample-accurate seeks, seamless reopen, truncation and failing sources.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from audio_capture import (
    TONE_FORMATS,
    second_frequencies,
    stepped_tone,
    tone_frequency,
    write_tone,
)
from kithara_cli.audio import Decoder, FileInput, PcmRing, demuxer_for_hint
from kithara_cli.errors import DecoderError as DecoderFailure
from kithara_cli.errors import KitharaError, NetworkError
from kithara_cli.events.types import DecoderError, Event

RATE = 44100
SECONDS = 20
FORMATS = list(TONE_FORMATS)
LOSSLESS = {"flac", "wav"}
FIRST_AUDIO_LIMIT = 64 * 1024 + 2048  # "about 64 KB": WAV's S/PDIF probe reads 64 KiB + header


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The 20 s stepped tone in every format (built once per worker)."""
    root = tmp_path_factory.mktemp("tones")
    return {kind: write_tone(root / f"tone.{kind}", kind, SECONDS) for kind in FORMATS}


class GatedSource(io.RawIOBase):
    """A seekable in-memory source that behaves like a download in progress.

    Bytes past ``available`` are not there yet: a read at or beyond it blocks until
    ``release()``; a read that straddles it returns what has arrived (a short read).
    ``fail_at`` makes reads at or past that offset raise, like a dropped connection.
    """

    def __init__(
        self, data: bytes, available: int | None = None, fail_at: int | None = None
    ) -> None:
        super().__init__()
        self._data = data
        self._pos = 0
        self.available = len(data) if available is None else available
        self.fail_at = fail_at
        self._released = threading.Event()
        if available is None:
            self._released.set()
        self.bytes_read = 0
        self.max_offset = 0
        self.closed_early = False

    def release(self) -> None:
        self.available = len(self._data)
        self._released.set()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.fail_at is not None and self._pos >= self.fail_at:
            raise NetworkError("connection reset by peer (test)")
        waiting = self.available <= self._pos < len(self._data)
        if waiting and not self._released.wait(15):
            raise TimeoutError("test source never released")
        end = len(self._data) if size is None or size < 0 else self._pos + size
        end = min(end, len(self._data), max(self.available, self._pos))
        if self.fail_at is not None:
            end = min(end, max(self.fail_at, self._pos))
        chunk = self._data[self._pos : end]
        self._pos = end
        self.bytes_read += len(chunk)
        self.max_offset = max(self.max_offset, end)
        return chunk

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        chunk = self.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def _drain(ring: PcmRing) -> np.ndarray:
    out = np.zeros((ring.frames_available, ring.channels), dtype=np.float32)
    return out[: ring.read_into(out)]


def _wait(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


@pytest.mark.parametrize("kind", FORMATS)
def test_first_audio_needs_only_the_start_and_decode_is_gapless(
    kind: str, tones: dict[str, Path]
) -> None:
    source = GatedSource(tones[kind].read_bytes(), available=FIRST_AUDIO_LIMIT)
    ring = PcmRing(RATE * (SECONDS + 1), 2)
    events: list[Event] = []
    decoder = Decoder(
        FileInput(source), ring, out_rate=RATE, out_channels=2, on_event=events.append
    )
    decoder.start()
    try:
        # Only the first ~64 KB have "downloaded": audio must come out anyway.
        assert decoder.first_audio.wait(10), (kind, events, decoder.error)
        assert source.max_offset <= FIRST_AUDIO_LIMIT
        assert decoder.max_offset_at_first_audio is not None
        assert decoder.max_offset_at_first_audio <= FIRST_AUDIO_LIMIT
        source.release()
        assert decoder.eof.wait(10), (kind, events, decoder.error)
        pcm = _drain(ring)
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert not events
    assert decoder.error is None
    # Gapless: exactly the samples that were encoded, no priming, no padding.
    assert len(pcm) == SECONDS * RATE
    assert decoder.duration == pytest.approx(SECONDS, abs=0.01)
    assert decoder.position_decoded == pytest.approx(SECONDS, abs=1e-6)
    freqs = list(second_frequencies(pcm, RATE))
    assert freqs == pytest.approx([tone_frequency(s) for s in range(SECONDS)], abs=1.0)
    # And on time: the decoded signal lines up with the original sample for sample.
    reference = stepped_tone(SECONDS, RATE)
    error = np.abs(pcm - reference).mean()
    assert error < (1e-4 if kind in LOSSLESS else 0.03), error


@pytest.mark.parametrize("kind", FORMATS)
def test_seek_is_sample_accurate(kind: str, tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE * 3, 2)
    with tones[kind].open("rb") as f:
        decoder = Decoder(FileInput(f), ring, out_rate=RATE, out_channels=2).start()
        try:
            _wait(lambda: ring.frames_available == ring.capacity)  # decoder blocked: full
            decoder.seek(17)
            _wait(lambda: decoder.seeks_done == 1 and decoder.eof.is_set())
            assert ring.position_frames == 17 * RATE
            pcm = _drain(ring)
        finally:
            decoder.stop()
            assert decoder.join(5)
    assert len(pcm) == 3 * RATE
    assert list(second_frequencies(pcm, RATE)) == pytest.approx(
        [tone_frequency(17), tone_frequency(18), tone_frequency(19)], abs=1.0
    )
    reference = stepped_tone(SECONDS, RATE)[17 * RATE :]
    error = np.abs(pcm[: RATE // 2] - reference[: RATE // 2]).mean()
    assert error < (1e-4 if kind in LOSSLESS else 0.03), error


@pytest.mark.parametrize("target", [5.0, 11.3, 17.0, 18.6])
def test_fast_seek_lands_on_the_sample_in_cbr_mp3(target: float, tones: dict[str, Path]) -> None:
    """FFmpeg's fast MP3 seek reports a timestamp one frame early past the file's middle;
    the decoder re-derives it from the frame's offset, so what plays is still the target."""
    ring = PcmRing(RATE * SECONDS, 2)
    with tones["mp3"].open("rb") as f:
        decoder = Decoder(FileInput(f), ring, out_rate=RATE, out_channels=2, fast_seek=True).start()
        try:
            _wait(lambda: ring.frames_available > 0)
            decoder.seek(target)
            _wait(lambda: decoder.seeks_done == 1 and decoder.eof.is_set())
            assert ring.position_frames == round(target * RATE)
            pcm = _drain(ring)
        finally:
            decoder.stop()
            assert decoder.join(5)
    start = round(target * RATE)
    assert len(pcm) == SECONDS * RATE - start
    reference = stepped_tone(SECONDS, RATE)[start : start + RATE // 2]
    # One MP3 frame (1152 samples) late would put every sample out of phase: error ~0.4.
    error = np.abs(pcm[: RATE // 2] - reference).mean()
    assert error < 0.03, error


def test_seek_back_after_the_end_and_seek_past_the_end(tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE * (SECONDS + 1), 2)
    decoder = Decoder(str(tones["flac"]), ring, out_rate=RATE, out_channels=2).start()
    try:
        assert decoder.eof.wait(10)
        assert ring.drained is False and ring.eos
        decoder.seek(2.5)
        _wait(lambda: decoder.seeks_done == 1 and decoder.eof.is_set())
        assert ring.position_frames == round(2.5 * RATE)
        assert ring.frames_available == round(17.5 * RATE)
        decoder.seek(99)
        _wait(lambda: decoder.seeks_done == 2 and decoder.eof.is_set())
        assert ring.drained
        assert decoder.error is None
    finally:
        decoder.stop()
        assert decoder.join(5)


def test_decode_at_the_source_rate_keeps_every_sample(tones: dict[str, Path]) -> None:
    ring = PcmRing(48000 * (SECONDS + 1), 2)
    decoder = Decoder(
        FileInput(tones["ogg"].open("rb")), ring, out_rate=48000, out_channels=2
    ).start()
    try:
        assert decoder.eof.wait(10)
        assert ring.frames_available == SECONDS * 48000
        assert decoder.info is not None
        assert (decoder.info.codec, decoder.info.sample_rate) == ("opus", 48000)
    finally:
        decoder.stop()
        assert decoder.join(5)


def test_mono_output_and_format_hints(tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE * (SECONDS + 1), 1)
    # A wrong hint falls back to probing; a MIME type is understood.
    assert demuxer_for_hint("audio/mpeg") == "mp3"
    assert demuxer_for_hint(".M4A") == "mp4"
    assert demuxer_for_hint("text/html") is None
    decoder = Decoder(
        FileInput(tones["mp3"].open("rb")), ring, out_rate=RATE, out_channels=1, format_hint="flac"
    ).start()
    try:
        assert decoder.eof.wait(10), decoder.error
        pcm = _drain(ring)
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert pcm.shape == (SECONDS * RATE, 1)
    assert next(iter(second_frequencies(pcm, RATE))) == pytest.approx(300, abs=1)


def test_reopen_continues_seamlessly_on_a_new_source(tones: dict[str, Path]) -> None:
    """A variant switch: the ring keeps what is decoded and the new source picks up at the
    exact next sample, even when asked to start earlier (at a segment boundary)."""
    ring = PcmRing(RATE * 5, 2)
    decoder = Decoder(
        FileInput(tones["flac"].open("rb")), ring, out_rate=RATE, out_channels=2
    ).start()
    try:
        _wait(lambda: ring.frames_available == ring.capacity)
        assert decoder.position_decoded == pytest.approx(5.0)
        decoder.reopen(FileInput(tones["wav"].open("rb")), 4.0, format_hint="wav")
        chunks = []
        while not ring.drained:
            chunks.append(_drain(ring))
            time.sleep(0.01)
        pcm = np.concatenate(chunks)
        assert decoder.info is not None and decoder.info.container == "wav"
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert len(pcm) == SECONDS * RATE
    assert np.abs(pcm - stepped_tone(SECONDS, RATE)).max() < 1e-3  # no gap, no repeat


def test_reopen_with_flush_is_a_seek_into_the_new_source(tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE * 3, 2)
    decoder = Decoder(
        FileInput(tones["flac"].open("rb")), ring, out_rate=RATE, out_channels=2
    ).start()
    try:
        _wait(lambda: ring.frames_available == ring.capacity)
        decoder.reopen(FileInput(tones["m4a"].open("rb")), 12.0, flush=True)
        _wait(lambda: decoder.info is not None and decoder.info.codec == "aac")
        _wait(lambda: ring.frames_available == ring.capacity)
        assert ring.position_frames == 12 * RATE
        pcm = _drain(ring)
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert next(iter(second_frequencies(pcm, RATE))) == pytest.approx(tone_frequency(12), abs=1)


@pytest.mark.parametrize("kind", ["flac", "mp3"])
def test_a_run_that_starts_later_in_the_track_maps_onto_the_timeline(
    kind: str, tmp_path: Path
) -> None:
    """An HLS run: a source whose first sample is timeline second 8 (``timeline_origin``).
    A seek to 9.5 s opens it and drops 1.5 s without a demuxer seek."""
    run = write_tone(tmp_path / f"run.{kind}", kind, 6.0, offset=8.0)
    ring = PcmRing(RATE * 7, 2)
    decoder = Decoder(str(run), ring, out_rate=RATE, out_channels=2, timeline_origin=8.0)
    decoder.start()
    try:
        assert decoder.eof.wait(10), decoder.error
        assert ring.position_frames == 8 * RATE
        assert ring.frames_available == 6 * RATE
        decoder.reopen(str(run), 9.5, flush=True, timeline_origin=8.0)
        _wait(lambda: decoder.eof.is_set() and ring.position_frames == round(9.5 * RATE))
        pcm = _drain(ring)
    finally:
        decoder.stop()
        assert decoder.join(5)
    assert decoder.error is None
    assert len(pcm) == round(4.5 * RATE)
    assert decoder.position_decoded == pytest.approx(14.0)
    rest = pcm[RATE // 2 :]  # from 10.0 s
    assert list(second_frequencies(rest, RATE)) == pytest.approx(
        [tone_frequency(s) for s in (10, 11, 12, 13)], abs=1.0
    )
    reference = stepped_tone(14.0, RATE)[round(9.5 * RATE) :]
    error = np.abs(pcm - reference).mean()
    assert error < (1e-4 if kind in LOSSLESS else 0.03), error


@pytest.mark.parametrize("kind", ["mp3", "flac", "m4a"])
def test_truncated_input_reports_a_decoder_error_and_ends(
    kind: str, tones: dict[str, Path]
) -> None:
    data = tones[kind].read_bytes()
    ring = PcmRing(RATE * (SECONDS + 1), 2)
    events: list[Event] = []
    started = time.monotonic()
    decoder = Decoder(
        FileInput(io.BytesIO(data[: int(len(data) * 0.6)])),
        ring,
        out_rate=RATE,
        out_channels=2,
        on_event=events.append,
    ).start()
    assert decoder.done.wait(10)
    assert decoder.join(1)
    assert time.monotonic() - started < 5
    errors = [e for e in events if isinstance(e, DecoderError)]
    assert len(errors) == 1, events
    assert "truncated" in errors[0].message
    assert isinstance(decoder.error, DecoderFailure)
    assert not ring.eos  # a truncated stream is not a clean end


def test_a_failing_source_ends_the_thread_with_its_error(tones: dict[str, Path]) -> None:
    source = GatedSource(tones["mp3"].read_bytes(), fail_at=100_000)
    ring = PcmRing(RATE * (SECONDS + 1), 2)
    events: list[Event] = []
    decoder = Decoder(
        FileInput(source), ring, out_rate=RATE, out_channels=2, on_event=events.append
    )
    decoder.start()
    assert decoder.done.wait(10)
    assert isinstance(decoder.error, NetworkError)  # the source's own typed error survives
    assert [type(e) for e in events] == [DecoderError]
    assert "connection reset" in events[0].message  # type: ignore[attr-defined]
    assert decoder.first_audio.is_set()


def test_garbage_is_reported_not_raised() -> None:
    ring = PcmRing(RATE, 2)
    events: list[Event] = []
    decoder = Decoder(
        FileInput(io.BytesIO(b"<html>not audio</html>" * 500)),
        ring,
        out_rate=RATE,
        out_channels=2,
        on_event=events.append,
    ).start()
    assert decoder.done.wait(10)
    assert isinstance(decoder.error, KitharaError)
    assert len(events) == 1 and isinstance(events[0], DecoderError)


def test_stop_while_the_ring_is_full_ends_promptly(tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE // 2, 2)
    decoder = Decoder(str(tones["wav"]), ring, out_rate=RATE, out_channels=2).start()
    _wait(lambda: ring.frames_available == ring.capacity)
    started = time.monotonic()
    decoder.stop()
    assert decoder.join(2)
    assert time.monotonic() - started < 0.5
    assert decoder.done.is_set() and decoder.error is None


def test_linger_false_ends_the_thread_at_end_of_stream(tones: dict[str, Path]) -> None:
    ring = PcmRing(RATE * (SECONDS + 1), 2)
    decoder = Decoder(
        str(tones["flac"]), ring, out_rate=RATE, out_channels=2, linger=False, start_at=15
    ).start()
    assert decoder.done.wait(10)
    assert ring.eos and ring.position_frames == 15 * RATE
    assert ring.frames_available == 5 * RATE
