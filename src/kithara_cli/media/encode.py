"""Encode the stepped tone (or any PCM) to progressive audio files with PyAV alone.

There is no ffmpeg CLI on the machines that run tests and benchmarks, so every container the
progressive path must handle is produced here from the encoders bundled with PyAV's FFmpeg.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast, get_args

import av
import numpy as np

if TYPE_CHECKING:
    from av.audio.stream import AudioStream

from kithara_cli.media.tone import DEFAULT_RATE, tone_blocks

Format = Literal["mp3", "aac", "m4a", "flac", "wav", "ogg"]
FORMATS: tuple[str, ...] = get_args(Format)

OPUS_RATES = (48000, 24000, 16000, 12000, 8000)

AAC_OPTIONS: dict[str, str] = {"aac_ms": "0"}
"""FFmpeg's native AAC encoder spends ~4x longer on its mid/side search for our identical
channels (256k: 2.3 s -> 0.5 s CPU for 30 s of stereo) and undershoots the target bitrate with
it on; turning it off keeps ladder builds fast and variant sizes proportional to bitrates."""

AAC_FAST_MAX_BITRATE = 96_000
"""At or below this the "fast" coder hits the target bitrate at a quarter of the CPU (64k:
0.96 s -> 0.24 s for 30 s); above it, "fast" caps out near 120k, so "twoloop" stays."""


def aac_options(bitrate: int) -> dict[str, str]:
    """Encoder options for FFmpeg's ``aac`` at ``bitrate``: fast, yet on target."""
    options = dict(AAC_OPTIONS)
    if bitrate <= AAC_FAST_MAX_BITRATE:
        options["aac_coder"] = "fast"
    return options


@dataclass(frozen=True)
class _Spec:
    container: str
    codec: str
    default_bitrate: int | None
    container_options: dict[str, str]
    codec_options: dict[str, str]


_SPECS: dict[str, _Spec] = {
    "mp3": _Spec("mp3", "libmp3lame", 128_000, {}, {}),
    "aac": _Spec("adts", "aac", 128_000, {}, {}),
    # moov first so the file plays while it downloads (progressive streaming without seeks).
    "m4a": _Spec("mp4", "aac", 128_000, {"movflags": "+faststart"}, {}),
    "flac": _Spec("flac", "flac", None, {}, {}),
    "wav": _Spec("wav", "pcm_s16le", None, {}, {}),
    "ogg": _Spec("ogg", "libopus", 96_000, {}, {}),
}


def layout_for(channels: int) -> str:
    """FFmpeg layout name for a channel count (the fixtures are mono or stereo only)."""
    if channels == 1:
        return "mono"
    if channels == 2:
        return "stereo"
    raise ValueError(f"only mono or stereo is supported, got {channels} channels")


def to_frame(block: np.ndarray, rate: int, pts: int) -> av.AudioFrame:
    """Wrap a float32 (frames, channels) block as a planar float frame with pts in 1/rate.

    PyAV re-chunks to the encoder's frame size and converts the sample format itself.
    """
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(block.T, dtype=np.float32),
        format="fltp",
        layout=layout_for(block.shape[1]),
    )
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = Fraction(1, rate)
    return frame


def encode_blocks(
    path: Path,
    blocks: Iterable[np.ndarray],
    fmt: Format,
    *,
    rate: int = DEFAULT_RATE,
    channels: int = 2,
    bitrate: int | None = None,
) -> Path:
    """Encode float32 (frames, channels) blocks at ``rate`` to ``path`` in format ``fmt``."""
    if fmt not in _SPECS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    spec = _SPECS[fmt]
    if fmt == "ogg" and rate not in OPUS_RATES:
        raise ValueError(f"libopus needs one of {OPUS_RATES} Hz, got {rate}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=spec.container, options=spec.container_options) as out:
        bit_rate = bitrate or spec.default_bitrate
        options = dict(spec.codec_options)
        if spec.codec == "aac" and bit_rate is not None:
            options.update(aac_options(bit_rate))
        stream = cast("AudioStream", out.add_stream(spec.codec, rate=rate, options=options))
        stream.layout = layout_for(channels)
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        pts = 0
        for block in blocks:
            if block.shape[1] != channels:
                raise ValueError(f"block has {block.shape[1]} channels, expected {channels}")
            out.mux(stream.encode(to_frame(block, rate, pts)))
            pts += block.shape[0]
        out.mux(stream.encode(None))
    return path


def encode_pcm(
    path: Path,
    pcm: np.ndarray,
    fmt: Format,
    *,
    rate: int = DEFAULT_RATE,
    bitrate: int | None = None,
) -> Path:
    """Encode an in-memory float32 (frames, channels) signal, e.g. a hand-made edge case."""
    return encode_blocks(path, [pcm], fmt, rate=rate, channels=pcm.shape[1], bitrate=bitrate)


def encode_file(
    path: Path,
    seconds: float,
    fmt: Format,
    *,
    rate: int = DEFAULT_RATE,
    channels: int = 2,
    bitrate: int | None = None,
) -> Path:
    """Write ``seconds`` of the stepped tone to ``path`` as ``fmt`` and return ``path``.

    Formats: mp3 (libmp3lame), aac (raw ADTS), m4a (AAC in MP4, faststart), flac, wav
    (pcm_s16le), ogg (Opus in Ogg). Opus only runs at 48 kHz family rates, so ``ogg`` with the
    default 44.1 kHz is encoded at 48 kHz. ``bitrate`` is ignored by the lossless formats.
    """
    if fmt == "ogg" and rate not in OPUS_RATES:
        rate = 48000
    return encode_blocks(
        path,
        tone_blocks(seconds, rate=rate, channels=channels),
        fmt,
        rate=rate,
        channels=channels,
        bitrate=bitrate,
    )
