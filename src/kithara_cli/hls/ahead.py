"""What playback has ahead of it in an HLS source: the audio placed past the playhead (the
dashboard's buffer, the ABR's), and which variant plays where. A mixin of
``source.HlsSource``: the attributes declared below are the source's own."""

from __future__ import annotations

from collections.abc import Callable

from kithara_cli.hls.run import _Run


class Ahead:
    """The playhead, and what is placed past it."""

    _run: _Run | None
    _playhead: float
    _listener: tuple[float, float] | None  # an unpaced sink: (when, where) playback began
    live: bool
    clock: Callable[[], float]

    def set_playhead(self, seconds: float) -> None:
        self._playhead = seconds

    def unpaced_sink(self) -> None:
        """Playback started into a sink that drains as fast as audio comes (a WAV file):
        from now on the ABR judges a live stream by a real-time listener (``_abr_buffer``)."""
        if self._listener is None:
            self._listener = (self.clock(), self._playhead)

    def _abr_buffer(self) -> float:
        """The audio placed ahead of the playhead; live, into an unpaced sink (whose
        playhead runs to the live edge: 0 s, though nothing more is listed yet and the link
        is fast), ahead of a real-time listener who started with it."""
        if self._listener is None or not self.live:
            return self.buffer_ahead()
        since, origin = self._listener
        listener = min(self._playhead, origin + (self.clock() - since))
        return max(0.0, self.buffered_until() - listener)

    def buffered_until(self) -> float:
        run = self._run
        if run is None or not run.placed:
            return self._playhead
        last = run.placed[-1]
        return last.start + last.duration

    def buffer_ahead(self) -> float:
        return max(0.0, self.buffered_until() - self._playhead)

    def variant_at(self, seconds: float) -> int | None:
        run = self._run
        if run is None:
            return None
        for placed in reversed(run.placed):
            if placed.start <= seconds:
                return placed.variant
        return run.placed[0].variant if run.placed else None
