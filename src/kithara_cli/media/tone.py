"""A stepped test tone whose frequency tells you where in the stream you are.

Second ``k`` of the tone is a sine at ``base_hz + step_hz * k``. A test that captures any half
second of playback can recover the position by FFT (see :mod:`kithara_cli.media.analysis`),
which is what makes seek, resume, ABR switch and gap tests possible without timing assumptions.

The phase is carried across steps so the signal has no clicks: clicks are broadband and would
make the codecs spend bits unevenly (and the FFT peak less clean) right at the boundaries.

The staircase restarts every ``period`` seconds (default 240 s, top step 6275 Hz): FFmpeg's AAC
encoder low-passes at about 9.6 kHz at 64k (6.3 kHz at 48k), so a never-ending climb would turn
the low variants of a 10-minute bench ladder silent after ~6 minutes. Within the first period the
mapping is exactly ``base_hz + step_hz * k``; beyond it, analysis yields ``k % period``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TypedDict, Unpack

import numpy as np

BASE_HZ = 300.0
STEP_HZ = 25.0
AMPLITUDE = 0.5
DEFAULT_RATE = 44100
DEFAULT_BLOCK_FRAMES = 1 << 16
PERIOD = 240


def frequency_for_second(
    k: int,
    base_hz: float = BASE_HZ,
    step_hz: float = STEP_HZ,
    *,
    period: int | None = PERIOD,
) -> float:
    """Frequency played during second ``k`` of the tone (``period=None``: never wraps)."""
    return base_hz + step_hz * (k % period if period else k)


def second_for_frequency(hz: float, base_hz: float = BASE_HZ, step_hz: float = STEP_HZ) -> int:
    """Second index whose frequency is nearest to ``hz`` (inverse of frequency_for_second;
    with a wrapping tone this is the second modulo the period)."""
    return round((hz - base_hz) / step_hz)


def _cycles_before_second(
    k: np.ndarray, base_hz: float, step_hz: float, period: int | None
) -> np.ndarray:
    """Cycles (fractional) completed before second ``k``: the sum of f_j for j < k."""
    kf = k.astype(np.float64)
    if not period:
        return base_hz * kf + step_hz * kf * (kf - 1.0) / 2.0
    laps, r = np.divmod(k, period)
    rf = r.astype(np.float64)
    per_lap = period * (period - 1) / 2.0
    return base_hz * kf + step_hz * (laps.astype(np.float64) * per_lap + rf * (rf - 1.0) / 2.0)


def tone_blocks(
    seconds: float,
    *,
    rate: int = DEFAULT_RATE,
    channels: int = 2,
    base_hz: float = BASE_HZ,
    step_hz: float = STEP_HZ,
    start: float = 0.0,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    period: int | None = PERIOD,
) -> Iterator[np.ndarray]:
    """Yield the tone from ``start`` for ``seconds`` as float32 (frames, channels) blocks.

    Streaming lets long fixtures (10 min ladders) be encoded without holding the whole signal.
    ``start`` continues the same tone (same phase) from a later point, e.g. for the second part
    of a discontinuity stream.
    """
    if seconds < 0 or rate <= 0 or channels <= 0 or block_frames <= 0:
        raise ValueError("seconds must be >= 0; rate, channels, block_frames must be > 0")
    first = round(start * rate)
    total = round(seconds * rate)
    pos = 0
    while pos < total:
        count = min(block_frames, total - pos)
        n = np.arange(first + pos, first + pos + count, dtype=np.int64)
        k = n // rate
        frac = (n % rate).astype(np.float64) / rate
        step = k % period if period else k
        cycles = (
            _cycles_before_second(k, base_hz, step_hz, period) + (base_hz + step_hz * step) * frac
        )
        # Reduce to [0, 1) before scaling so precision does not decay over long tones.
        mono = (AMPLITUDE * np.sin(2.0 * math.pi * np.mod(cycles, 1.0))).astype(np.float32)
        yield np.repeat(mono[:, None], channels, axis=1)
        pos += count


class ToneShape(TypedDict, total=False):
    """Keywords of :func:`tone_blocks` that shape the signal, passed on by :func:`stepped_tone`."""

    base_hz: float
    step_hz: float
    start: float
    period: int | None


def stepped_tone(
    seconds: float, rate: int = DEFAULT_RATE, channels: int = 2, **shape: Unpack[ToneShape]
) -> np.ndarray:
    """The whole tone as float32 (frames, channels); amplitude 0.5, identical channels."""
    blocks = list(tone_blocks(seconds, rate=rate, channels=channels, **shape))
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32)
    return np.concatenate(blocks, axis=0)
