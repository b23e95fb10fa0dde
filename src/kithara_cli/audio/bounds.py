"""Time bounds on a decoder's start: no probe and no wait for first audio runs forever.

A source that delivers bytes that are not the audio its container promises (a video-only
variant, an init section that does not match its segments, an HTML page) can keep FFmpeg
probing, or demuxing without one audio packet, for as long as bytes arrive. Both clocks start
at the first byte read, so a source that delivers nothing (a live playlist not yet begun) is
left to the network's own timeouts and to the hang watchdog. Neither charges the time reads
stalled on bytes a request under way was to bring (``DecoderInput.stall_waited``): a server
that sends the first bytes and then stalls is the network's to judge (its inactivity timeout,
then a resumed request, or its typed error), never "not an audio stream". A slow link's short
waits, and a wait for bytes nobody is fetching, still count: bytes FFmpeg cannot use end at
the bound.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kithara_cli.errors import DecoderError

OPEN_ENV = "KITHARA_OPEN_TIMEOUT"
FIRST_AUDIO_ENV = "KITHARA_FIRST_AUDIO_TIMEOUT"
HANG_ENV = "KITHARA_HANG_TIMEOUT"


@dataclass(frozen=True)
class DecoderLimits:
    """Seconds each bound allows (0 turns one off). Tests set small values through the
    environment (``KITHARA_OPEN_TIMEOUT``, ``KITHARA_FIRST_AUDIO_TIMEOUT``,
    ``KITHARA_HANG_TIMEOUT``) or the decoder's ``limits`` parameter."""

    open_seconds: float = 15.0
    """From the first byte read to an open container with an audio stream."""
    first_audio_seconds: float = 30.0
    """From the first byte read to the first decoded audio frames."""
    hang_seconds: float = 60.0
    """No progress at all while the decoder waits for input: dump the threads, fail."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DecoderLimits:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            open_seconds=_seconds(env.get(OPEN_ENV), default.open_seconds),
            first_audio_seconds=_seconds(env.get(FIRST_AUDIO_ENV), default.first_audio_seconds),
            hang_seconds=_seconds(env.get(HANG_ENV), default.hang_seconds),
        )


def _seconds(text: str | None, default: float) -> float:
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else default


class StartBounds:
    """The open and first-audio clocks of one (re)opened source. ``check`` is cheap: it runs
    on every read the decoder's reader makes."""

    def __init__(self, limits: DecoderLimits, clock: Callable[[], float]) -> None:
        self._limits = limits
        self._clock = clock
        self._first_byte_at: float | None = None
        self._waited_at_first_byte = 0.0
        self._opened = False
        self._audio = False

    def restart(self) -> None:
        """A new source is being opened."""
        self._first_byte_at = None
        self._waited_at_first_byte = 0.0
        self._opened = False
        self._audio = False

    def opened(self) -> None:
        self._opened = True

    def audio(self) -> None:
        self._audio = True

    def check(self, bytes_read: int, stall_waited: float = 0.0) -> DecoderError | None:
        """The error that ends this start, if a bound has passed. ``stall_waited``: the
        reader's seconds stalled on the network so far (not charged)."""
        if self._audio:
            return None
        if self._first_byte_at is None:
            if bytes_read > 0:
                self._first_byte_at = self._clock()
                self._waited_at_first_byte = stall_waited
            return None
        waited = stall_waited - self._waited_at_first_byte
        elapsed = self._clock() - self._first_byte_at - waited
        limits = self._limits
        if not self._opened and 0 < limits.open_seconds < elapsed:
            return DecoderError(
                f"no audio stream found in {limits.open_seconds:g} s of probing "
                f"({bytes_read // 1024} KB read): not an audio stream kithara can play"
            )
        if 0 < limits.first_audio_seconds < elapsed:
            return DecoderError(
                f"no audio decoded in {limits.first_audio_seconds:g} s "
                f"({bytes_read // 1024} KB read): the stream holds no audio kithara can play"
            )
        return None
