"""Generated test media: a stepped tone, progressive files and HLS fixtures, with PyAV only.

Tests, ``kithara play --demo`` and ``kithara bench`` make their media at run time (no ffmpeg CLI
exists on the target machines), so this package is part of the product, not of the test suite.

Contract:

* **The tone.** Second ``k`` of every fixture is a phase-continuous sine at ``300 + 25*k`` Hz,
  amplitude 0.5, identical in every channel (:func:`stepped_tone`, :func:`frequency_for_second`,
  :func:`second_for_frequency`); the staircase restarts every ``PERIOD`` (240) seconds so low
  AAC bitrates never low-pass it away. Any half second of decoded or captured audio therefore tells
  which second of the source it came from (:func:`seconds_heard`, :func:`dominant_frequency`).
  Lossy encodings start with encoder priming (~23 ms for AAC in TS/ADTS), so decoded audio can be
  shifted by that much; FLAC/WAV are sample-exact, MP3/M4A/Opus trim their priming.
* **Progressive files.** :func:`encode_file` writes mp3, aac (ADTS), m4a (faststart), flac,
  wav, ogg (Opus, 48 kHz); every one decodes back with PyAV to the tone.
* **HLS.** :func:`build_ladder` (TS or fMP4, optional AES-128 with IV = media sequence number),
  :func:`build_byterange_stream`, :func:`build_discontinuity_stream`,
  :func:`build_audio_rendition_master` and :func:`build_packed_audio_stream` write self-contained
  directories with relative URIs, ready to be served statically. Segments follow the muxer's
  cut points: whole AAC frames (so 2.02 s / 1.997 s, not exactly 2 s) and a last segment that
  may be a single 23 ms frame (the encoder's priming pushes the end past ``seconds``).
* **Cache.** :func:`cached` builds a fixture once per user into ``media_cache_dir()`` with an
  atomic rename, so concurrent processes never see a half-built fixture; :func:`demo_ladder` is
  the 20 s, 3-variant ladder of the bench's and tests' demo checks.

Importing the package (or :mod:`kithara_cli.media.cache`) loads neither PyAV nor numpy: each
name is loaded from its module on first use, so ``kithara play --demo`` finds its cached ladder
without paying for the encoders (PyAV and numpy load later, while the player's first requests
are on their way).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kithara_cli.media.analysis import decode_pcm, dominant_frequency, seconds_heard
    from kithara_cli.media.cache import (
        GENERATION,
        cached,
        cached_ladder,
        demo_ladder,
        media_cache_dir,
    )
    from kithara_cli.media.encode import FORMATS, Format, encode_blocks, encode_file, encode_pcm
    from kithara_cli.media.ladder import ALT_AUDIO_BASE_HZ, Ladder, build_ladder
    from kithara_cli.media.streams import (
        build_audio_rendition_master,
        build_byterange_stream,
        build_discontinuity_stream,
        build_packed_audio_stream,
        id3_timestamp_tag,
    )
    from kithara_cli.media.tone import (
        BASE_HZ,
        PERIOD,
        STEP_HZ,
        frequency_for_second,
        second_for_frequency,
        stepped_tone,
        tone_blocks,
    )

_MODULES = {
    "analysis": ("decode_pcm", "dominant_frequency", "seconds_heard"),
    "cache": ("GENERATION", "cached", "cached_ladder", "demo_ladder", "media_cache_dir"),
    "encode": ("FORMATS", "Format", "encode_blocks", "encode_file", "encode_pcm"),
    "ladder": ("ALT_AUDIO_BASE_HZ", "Ladder", "build_ladder"),
    "streams": (
        "build_audio_rendition_master",
        "build_byterange_stream",
        "build_discontinuity_stream",
        "build_packed_audio_stream",
        "id3_timestamp_tag",
    ),
    "tone": (
        "BASE_HZ",
        "PERIOD",
        "STEP_HZ",
        "frequency_for_second",
        "second_for_frequency",
        "stepped_tone",
        "tone_blocks",
    ),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    """PEP 562: load a public name from its module on first use (then it is a plain global)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ALT_AUDIO_BASE_HZ",
    "BASE_HZ",
    "FORMATS",
    "GENERATION",
    "PERIOD",
    "STEP_HZ",
    "Format",
    "Ladder",
    "build_audio_rendition_master",
    "build_byterange_stream",
    "build_discontinuity_stream",
    "build_ladder",
    "build_packed_audio_stream",
    "cached",
    "cached_ladder",
    "decode_pcm",
    "demo_ladder",
    "dominant_frequency",
    "encode_blocks",
    "encode_file",
    "encode_pcm",
    "frequency_for_second",
    "id3_timestamp_tag",
    "media_cache_dir",
    "second_for_frequency",
    "seconds_heard",
    "stepped_tone",
    "tone_blocks",
]
