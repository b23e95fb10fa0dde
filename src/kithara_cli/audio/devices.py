"""Choosing a sink from ``--output``: the device listing, the reasons there is no device, and
``open_sink``. sounddevice is imported only inside these functions (PortAudio stays unloaded
for commands that never play)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kithara_cli.audio.output import (
    DEFAULT_BLOCKSIZE,
    DeviceSink,
    NullSink,
    Sink,
    WavSink,
    _import_sounddevice,
)
from kithara_cli.audio.ring import PcmRing
from kithara_cli.errors import UnsupportedError, UsageError
from kithara_cli.events.types import Event

NO_DEVICE_MESSAGE = "no audio output device found; playing to the null sink"
# Set to "none" to behave as if the machine had no output device (tests, CI, scripted runs).
DEVICE_ENV = "KITHARA_AUDIO_DEVICE"


def _device_listing(sd: Any) -> list[str]:
    try:
        devices = sd.query_devices()
        default_out = sd.default.device[1]
        hostapis = sd.query_hostapis()
    except Exception:
        return []
    lines = []
    for index, info in enumerate(devices):
        if info["max_output_channels"] <= 0:
            continue
        hostapi = hostapis[info["hostapi"]]["name"]
        mark = " [default]" if index == default_out else ""
        lines.append(
            f"{index}: {info['name']} ({hostapi}, {info['max_output_channels']} ch, "
            f"{info['default_samplerate']:g} Hz){mark}"
        )
    return lines


def list_devices() -> list[str]:
    """Output devices as ``"INDEX: NAME (HOSTAPI, N ch, RATE Hz)"``; empty when none or no
    PortAudio."""
    try:
        sd = _import_sounddevice()
    except OSError:
        return []
    return _device_listing(sd)


def _no_device_reason() -> str | None:
    """Why ``default`` cannot play to a device, or None if it can."""
    if os.environ.get(DEVICE_ENV, "").strip().lower() in ("none", "null", "off"):
        return NO_DEVICE_MESSAGE
    try:
        sd = _import_sounddevice()
    except OSError:
        return (
            "no audio output device found (PortAudio library not found); playing to the null sink"
        )
    try:
        default_out = sd.default.device[1]
        if default_out is None or int(default_out) < 0:
            return NO_DEVICE_MESSAGE
        sd.query_devices(default_out, "output")
    except Exception:
        return NO_DEVICE_MESSAGE
    return None


def open_sink(
    spec: str | None,
    ring: PcmRing,
    *,
    rate: int | None = None,
    channels: int | None = None,
    blocksize: int = DEFAULT_BLOCKSIZE,
    latency: float | str = "high",
    on_event: Callable[[Event], None] | None = None,
) -> tuple[Sink, str | None]:
    """Parse ``--output`` and open the sink; returns (sink, one-line message or None).

    ``default``/None: the default device, or a NullSink plus a message when there is none.
    ``null``: NullSink. ``wav:PATH``: WavSink. Anything else: a device index or a name
    (substring, as PortAudio lists it); an unknown one is a ``UsageError`` listing devices.
    ``rate=None`` takes the device's default rate (48000 for null and wav).
    """
    text = (spec or "default").strip()
    lowered = text.lower()
    if lowered == "null":
        return NullSink(ring, rate, channels, on_event=on_event), None
    if lowered.startswith("wav:"):
        path = text[4:]
        if not path:
            raise UsageError("--output wav:PATH needs a path")
        return WavSink(path, ring, rate, channels), None
    if lowered == "default":
        reason = _no_device_reason()
        if reason is not None:
            return NullSink(ring, rate, channels, on_event=on_event), reason
        sd = _import_sounddevice()
        try:
            sink = DeviceSink(ring, None, rate, channels, blocksize, latency, on_event=on_event)
        except sd.PortAudioError as exc:
            message = f"cannot open the audio output device ({exc}); playing to the null sink"
            return NullSink(ring, rate, channels, on_event=on_event), message
        return sink, None
    # An explicit device.
    try:
        sd = _import_sounddevice()
    except OSError as exc:
        raise UnsupportedError(
            f"cannot play to {text!r}: PortAudio library not found (install libportaudio2)"
        ) from exc
    device: int | str = int(text) if text.isdigit() else text
    try:
        sd.query_devices(device, "output")
    except (ValueError, sd.PortAudioError) as exc:
        listing = _device_listing(sd)
        known = "; ".join(listing) if listing else "none"
        raise UsageError(f"no output device matches {text!r}; output devices: {known}") from exc
    try:
        sink = DeviceSink(ring, device, rate, channels, blocksize, latency, on_event=on_event)
    except sd.PortAudioError as exc:
        raise UnsupportedError(f"cannot open output device {text!r}: {exc}") from exc
    return sink, None
