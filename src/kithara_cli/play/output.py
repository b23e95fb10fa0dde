"""The ring and the sink of a play, opened without PyAV (a cached head plays before it loads)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from kithara_cli import interrupt
from kithara_cli.events import Event
from kithara_cli.play.settings import PlayerSettings

if TYPE_CHECKING:
    from kithara_cli.audio import PcmRing, Sink

RING_RATE_CAP = 48_000  # the ring is sized before the device's rate is known
CHANNELS = 2


def open_output(
    settings: PlayerSettings, on_event: Callable[[Event], None]
) -> tuple[PcmRing, Sink, str | None]:
    """The ring and the sink (not started), and the sink's one-line message if any."""
    from kithara_cli.audio.devices import open_sink
    from kithara_cli.audio.ring import PcmRing

    ring = PcmRing(int(max(settings.buffer, 0.25) * RING_RATE_CAP), CHANNELS)
    sink, message = open_sink(
        settings.output, ring, rate=None, channels=CHANNELS, on_event=on_event
    )
    sink.volume = settings.volume
    if settings.length:  # exact, for a sink that drains faster than real time too (0: first audio)
        ring.play_limit = round(settings.length * sink.rate)
    return ring, sink, message


class OutputOpening:
    """``open_output`` on a thread of its own, begun as PyAV starts loading.

    Opening a device starts PortAudio: sounddevice finds its library (``ldconfig``, a
    subprocess), ``Pa_Initialize`` enumerates the ALSA, PulseAudio and JACK devices (100 ms
    and more on some desktops), then the stream opens. That is mostly waiting outside the
    GIL, so it overlaps PyAV's import and the first round trip instead of following them.
    """

    def __init__(self, settings: PlayerSettings, on_event: Callable[[Event], None]) -> None:
        self._opened: tuple[PcmRing, Sink, str | None] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._open, args=(settings, on_event), name="kithara-output", daemon=True
        )
        self._thread.start()

    def _open(self, settings: PlayerSettings, on_event: Callable[[Event], None]) -> None:
        try:
            self._opened = open_output(settings, on_event)
        except BaseException as exc:  # raised by result(), on the caller's thread
            self._error = exc

    def result(self) -> tuple[PcmRing, Sink, str | None]:
        """What ``open_output`` returned, or raise what it raised."""
        interrupt.join(self._thread)  # (Ctrl-C and SIGTERM are not held off)
        if self._error is not None:
            raise self._error
        assert self._opened is not None
        return self._opened
