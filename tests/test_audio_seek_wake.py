"""A pending command wakes a ring write blocked on a full ring: a seek is taken at once.

The rings here never poll on their own (``poll_seconds`` of an hour): a blocked producer
wakes only through an event, so a test passes only if the command path signals the ring. No
assertion is on elapsed time; the deadlines only bound a failure (which would be a hang).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audio_capture import second_frequencies, tone_frequency, write_tone
from kithara_cli.audio import Decoder, PcmRing
from kithara_cli.audio.commands import CommandQueue, SeekTo

RATE = 44100
SECONDS = 20
NEVER = 3600.0  # a producer that waits on a full ring polls the reader this rarely


@pytest.fixture(scope="module")
def tone_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tone(tmp_path_factory.mktemp("wake") / "tone.mp3", "mp3", SECONDS)


class _Blocked:
    """``abort`` for a write: records that the writer looked (it is about to wait)."""

    def __init__(self) -> None:
        self.looked = threading.Event()
        self.pending = False

    def __call__(self) -> bool:
        self.looked.set()
        return self.pending


def _writer(ring: PcmRing, frames: int, abort: _Blocked) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    data = np.ones((frames, ring.channels), dtype=np.float32)
    thread = threading.Thread(target=lambda: result.append(ring.write(data, abort=abort)))
    thread.start()
    return thread, result


def test_a_wake_ends_a_write_blocked_on_a_full_ring() -> None:
    ring = PcmRing(1000, 2, poll_seconds=NEVER)
    assert ring.write(np.zeros((1000, 2), dtype=np.float32), timeout=0) == 1000
    abort = _Blocked()
    thread, result = _writer(ring, 500, abort)
    try:
        assert abort.looked.wait(10)  # it found the ring full and looked: now it waits
        ring.wake()  # a wake with nothing pending: it looks again and goes on waiting
        thread.join(0.2)
        assert thread.is_alive() and result == []
        abort.pending = True  # a command is queued, then the ring is woken
        ring.wake()
        thread.join(10)
        assert not thread.is_alive()
        assert result == [0]  # nothing written: the seek will clear the ring anyway
    finally:
        ring.close()
        thread.join(10)


def test_a_command_wakes_the_ring_it_was_given() -> None:
    ring = PcmRing(1000, 2, poll_seconds=NEVER)
    ring.write(np.zeros((1000, 2), dtype=np.float32), timeout=0)
    commands = CommandQueue(wake=ring.wake)
    looked = threading.Event()

    def abort() -> bool:
        looked.set()
        return commands.any()

    result: list[int] = []
    data = np.ones((10, 2), dtype=np.float32)
    thread = threading.Thread(target=lambda: result.append(ring.write(data, abort=abort)))
    thread.start()
    try:
        assert looked.wait(10)
        commands.put(SeekTo(3.0))
        thread.join(10)
        assert not thread.is_alive() and result == [0]
        assert commands.take() == SeekTo(3.0)
    finally:
        ring.close()
        thread.join(10)


def test_a_command_queued_before_the_write_waits_is_seen_without_a_wake() -> None:
    """The write looks at ``abort`` after arming its wait: a wake that came before is not lost."""
    ring = PcmRing(100, 2, poll_seconds=NEVER)
    ring.write(np.zeros((100, 2), dtype=np.float32), timeout=0)
    abort = _Blocked()
    abort.pending = True
    assert ring.write(np.ones((10, 2), dtype=np.float32), abort=abort) == 0


class _NoSliceRing(PcmRing):
    """Records every write's timeout: the decoder must never wait on the ring in slices."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts: list[float | None] = []

    def write(self, frames: Any, timeout: float | None = None, **kwargs: Any) -> int:
        self.timeouts.append(timeout)
        return super().write(frames, timeout, **kwargs)


def test_the_decoder_takes_a_seek_while_the_ring_is_full(tone_mp3: Path) -> None:
    ring = _NoSliceRing(RATE * 2, 2, poll_seconds=NEVER)
    decoder = Decoder(str(tone_mp3), ring, out_rate=RATE, out_channels=2).start()
    try:
        full = threading.Event()
        for _ in range(1000):  # the decoder fills the ring, then blocks in a write
            if ring.frames_available == ring.capacity:
                full.set()
                break
            decoder.done.wait(0.01)
        assert full.is_set(), decoder.error
        # Only the seek's wake can end that write: the ring does not poll, the decoder does
        # not wait in slices.
        decoder.seek(15)
        for _ in range(1000):
            if decoder.seeks_done == 1 and ring.frames_available == ring.capacity:
                break
            decoder.done.wait(0.01)
        assert decoder.seeks_done == 1, decoder.error
        assert ring.position_frames == 15 * RATE
        assert set(ring.timeouts) == {None}
        out = np.zeros((ring.frames_available, 2), dtype=np.float32)
        pcm = out[: ring.read_into(out)]
    finally:
        decoder.stop()
        assert decoder.join(10)
    assert list(second_frequencies(pcm, RATE)) == pytest.approx(
        [tone_frequency(15), tone_frequency(16)], abs=1.0
    )
