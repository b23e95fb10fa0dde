"""PcmRing: exact SPSC hand-off under real threads, clears, positions, blocking and close."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from kithara_cli.audio.ring import PcmRing


def _ramp(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Frame i holds i in channel 0 and -i in channel 1 (exact in float32 below 2**24)."""
    values = np.arange(start, start + n, dtype=np.float32)
    out = np.empty((n, channels), dtype=np.float32)
    out[:, 0] = values
    out[:, 1] = -values
    return out


def test_concurrent_producer_consumer_loses_and_repeats_nothing() -> None:
    total = 600_000
    ring = PcmRing(4096, 2)
    rng = np.random.default_rng(1)
    chunks = rng.integers(1, 5000, size=2000)
    received: list[np.ndarray] = []

    def produce() -> None:
        pos = 0
        i = 0
        while pos < total:
            n = int(min(chunks[i % len(chunks)], total - pos))
            assert ring.write(_ramp(pos, n), timeout=10) == n
            pos += n
            i += 1
        ring.mark_eos()

    def consume() -> None:
        sizes = rng.integers(1, 3000, size=1000)
        j = 0
        while True:
            out = np.full((int(sizes[j % len(sizes)]), 2), np.nan, dtype=np.float32)
            j += 1
            n = ring.read_into(out)
            if n:
                received.append(out[:n].copy())
            elif ring.drained:
                return
            else:
                time.sleep(0.0002)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    got = np.concatenate(received)
    assert len(got) == total
    np.testing.assert_array_equal(got, _ramp(0, total))
    assert ring.frames_played == total
    assert ring.position_frames == total


def test_clear_under_a_concurrent_reader_never_mixes_or_rewinds() -> None:
    """Frames carry (epoch, index); after clears the reader sees epochs only move forward and,
    within an epoch, consecutive indices from where that epoch's writing started."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows: widen the races
    try:
        _race_clears_against_reader()
    finally:
        sys.setswitchinterval(switch)


def _race_clears_against_reader() -> None:
    ring = PcmRing(2048, 2)
    stop = threading.Event()
    errors: list[str] = []
    blocks: list[np.ndarray] = []

    def produce() -> None:
        epoch = 0
        while not stop.is_set():
            epoch += 1
            ring.clear(base_frame=epoch * 1_000_000)
            index = 0
            for _ in range(int(np.random.default_rng(epoch).integers(1, 20))):
                n = 700
                chunk = np.empty((n, 2), dtype=np.float32)
                chunk[:, 0] = epoch
                chunk[:, 1] = np.arange(index, index + n)
                if ring.write(chunk, timeout=0.5) < n:
                    break
                index += n
        ring.mark_eos()

    def consume() -> None:
        out = np.zeros((256, 2), dtype=np.float32)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            n = ring.read_into(out)
            if n:
                blocks.append(out[:n].copy())
            time.sleep(0.0001)
        stop.set()

    producer = threading.Thread(target=produce)
    consumer = threading.Thread(target=consume)
    producer.start()
    consumer.start()
    consumer.join(10)
    while producer.is_alive():  # drain so a blocked write returns
        ring.read_into(np.zeros((4096, 2), dtype=np.float32))
        producer.join(0.01)
    assert len(blocks) > 50
    frames = np.concatenate(blocks)
    epochs, indices = frames[:, 0], frames[:, 1]
    back = np.nonzero(np.diff(epochs) < 0)[0]
    same = np.diff(epochs) == 0
    skips = np.nonzero(same & (np.diff(indices) != 1))[0]
    for i in list(back[:3]) + list(skips[:3]):
        errors.append(f"at {i}: {frames[i].tolist()} -> {frames[i + 1].tolist()}")
    assert not errors, errors
    assert len(np.unique(epochs)) > 10  # the clears really raced the reader


def test_positions_clear_and_end_of_stream() -> None:
    ring = PcmRing(1000, 2)
    assert ring.write(_ramp(0, 600), timeout=0) == 600
    assert ring.frames_available == 600
    assert ring.seconds(100) == pytest.approx(6.0)
    out = np.zeros((250, 2), dtype=np.float32)
    assert ring.read_into(out) == 250
    assert ring.position_frames == 250
    assert ring.frames_played == 250
    generation = ring.generation

    ring.clear(base_frame=17_000)  # a seek to 17 s at 1 kHz
    assert ring.generation == generation + 1
    assert ring.frames_available == 0
    assert ring.position_frames == 17_000
    assert ring.write(_ramp(5000, 100), timeout=0) == 100
    assert ring.read_into(out) == 100
    assert out[0, 0] == 5000  # nothing from before the clear
    assert ring.position_frames == 17_100
    assert ring.frames_played == 350
    assert not ring.drained
    ring.mark_eos()
    assert ring.drained


def test_write_blocks_while_full_then_times_out_or_wakes_on_close() -> None:
    ring = PcmRing(100, 2)
    assert ring.write(_ramp(0, 150), timeout=0.05) == 100  # only what fits
    started = time.monotonic()
    assert ring.write(_ramp(0, 10), timeout=0.1) == 0
    assert time.monotonic() - started >= 0.09

    result: list[int] = []
    writer = threading.Thread(target=lambda: result.append(ring.write(_ramp(0, 10))))
    writer.start()
    time.sleep(0.05)
    assert writer.is_alive()  # blocked: no timeout, no space
    ring.close()
    writer.join(1)
    assert not writer.is_alive()
    assert result == [0]


def test_write_resumes_when_reader_frees_space() -> None:
    ring = PcmRing(100, 2)
    ring.write(_ramp(0, 100))
    result: list[int] = []
    writer = threading.Thread(target=lambda: result.append(ring.write(_ramp(100, 50), 2)))
    writer.start()
    out = np.zeros((60, 2), dtype=np.float32)
    time.sleep(0.02)
    assert ring.read_into(out) == 60
    writer.join(1)
    assert result == [50]
    rest = np.zeros((200, 2), dtype=np.float32)
    assert ring.read_into(rest) == 90
    np.testing.assert_array_equal(rest[:90], _ramp(60, 90))


def test_paused_reader_applies_a_clear_without_reading() -> None:
    ring = PcmRing(100, 2)
    ring.write(_ramp(0, 100))
    ring.clear(base_frame=0)
    ring.skip_pending()
    assert ring.frames_played == 0
    assert ring.write(_ramp(0, 100), timeout=0) == 100


class _InterleavingRing(PcmRing):
    """A ring that runs ``hook`` once, just before it copies out to a reader: the worst moment
    for the producer to clear and refill (the reader has taken its snapshot)."""

    hook: object = None

    def _copy_out(self, dst: memoryview, at: int, offset: int, size: int) -> None:
        hook, self.hook = self.hook, None
        if callable(hook):
            hook()
        super()._copy_out(dst, at, offset, size)


def test_producer_refill_during_a_read_does_not_overwrite_frames_being_copied() -> None:
    ring = _InterleavingRing(1000, 2)
    ring.write(_ramp(0, 1000))  # full
    out = np.zeros((400, 2), dtype=np.float32)
    written: list[int] = []

    def producer_seeks() -> None:
        ring.clear(base_frame=0)
        written.append(ring.write(_ramp(50_000, 1000), timeout=0))

    ring.hook = producer_seeks
    assert ring.read_into(out) == 400
    # The copy in progress still saw the old frames intact...
    np.testing.assert_array_equal(np.asarray(out), _ramp(0, 400))
    # ...because the producer could only use the slots nobody was reading.
    assert written == [0]
    rest = np.zeros((1000, 2), dtype=np.float32)
    assert ring.write(_ramp(50_000, 1000), timeout=0) == 1000  # reader idle: all space free
    assert ring.read_into(rest) == 1000
    np.testing.assert_array_equal(rest, _ramp(50_000, 1000))
