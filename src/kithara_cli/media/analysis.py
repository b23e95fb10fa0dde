"""Recover the tone's position from decoded or captured PCM.

Tests use these to tell *where* playback is (which second of the stepped tone was heard) rather
than trusting timestamps, so they survive codec delay, resampling and capture jitter.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from kithara_cli.media.tone import BASE_HZ, STEP_HZ, second_for_frequency

SILENCE_RMS = 1e-3
"""Windows quieter than this (float scale) are reported as silence (-1)."""


def _as_float_mono(pcm: np.ndarray) -> np.ndarray:
    """Mix to mono float64; int16/int32 input is scaled to [-1, 1)."""
    arr = np.asarray(pcm)
    if np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64) / float(np.iinfo(arr.dtype).max + 1)
    else:
        arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    elif arr.ndim != 1:
        raise ValueError(f"pcm must be (frames,) or (frames, channels), got {arr.shape}")
    return arr


def dominant_frequency(pcm: np.ndarray, rate: int) -> float:
    """Frequency (Hz) of the strongest spectral peak of ``pcm`` (mono mix).

    Hann window against leakage, then parabolic interpolation on the log magnitude around the
    peak bin so the estimate is far finer than the bin width (2 Hz for a 0.5 s window); the tone
    steps are 25 Hz apart. Returns 0.0 for empty or silent input.
    """
    mono = _as_float_mono(pcm)
    if mono.size < 4:
        return 0.0
    mono = mono - mono.mean()
    if not np.any(mono):
        return 0.0
    nfft = 1 << int(np.ceil(np.log2(mono.size)))
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size), n=nfft))
    spectrum[0] = 0.0
    peak = int(np.argmax(spectrum))
    offset = 0.0
    if 0 < peak < spectrum.size - 1:
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-300)
        denom = a - 2.0 * b + c
        if denom != 0.0:
            offset = 0.5 * (a - c) / denom
    return (peak + offset) * rate / nfft


def seconds_heard(
    pcm: np.ndarray,
    rate: int,
    window: float = 0.5,
    *,
    base_hz: float = BASE_HZ,
    step_hz: float = STEP_HZ,
) -> list[int]:
    """Tone second index for each consecutive full ``window`` of ``pcm``; -1 where silent.

    A trailing partial window is ignored. Windows that straddle a step boundary report the
    louder side, so align windows to whole seconds (or ignore boundary windows) when exactness
    matters.
    """
    mono = _as_float_mono(pcm)
    size = round(window * rate)
    if size <= 0:
        raise ValueError("window too small for this rate")
    heard: list[int] = []
    for i in range(mono.size // size):
        chunk = mono[i * size : (i + 1) * size]
        if float(np.sqrt(np.mean(chunk * chunk))) < SILENCE_RMS:
            heard.append(-1)
            continue
        hz = dominant_frequency(chunk, rate)
        heard.append(second_for_frequency(hz, base_hz, step_hz))
    return heard


def decode_pcm(
    source: Path | str | bytes | BinaryIO, *, format: str | None = None
) -> tuple[np.ndarray, int]:
    """Decode the first audio stream to float32 (frames, channels) and its sample rate.

    Accepts a path, raw bytes (e.g. concatenated HLS segments) or a file object; ``format``
    forces a demuxer ("mpegts", "aac", ...) when probing would be ambiguous.
    """
    src: Path | str | BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    if isinstance(src, Path):
        src = str(src)
    chunks: list[np.ndarray] = []
    with av.open(src, "r", format=format) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        resampler = av.AudioResampler(format="flt", layout=stream.codec_context.layout, rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, channels))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1, channels))
    if not chunks:
        return np.zeros((0, channels), dtype=np.float32), rate
    return np.concatenate(chunks, axis=0).astype(np.float32, copy=False), rate
