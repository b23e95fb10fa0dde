"""Folding playback and ABR events into the dashboard's state (``DashboardState``'s handlers
for them; requests and fetch progress stay in ``dashboard_state``). A base class of
``DashboardState``, whose attributes are declared below."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kithara_cli.events.types import (
    AbrDecision,
    BandwidthEstimate,
    BufferLevel,
    DecoderError,
    EndOfStream,
    Event,
    LadderInfo,
    PlaybackStarted,
    PlaybackState,
    Position,
    RebufferEnded,
    RebufferStarted,
    SeekCompleted,
    SeekRequested,
    SegmentLoaded,
    TrackInfo,
    Underrun,
    VolumeChanged,
)
from kithara_cli.ui.format import fmt_bits, fmt_clock
from kithara_cli.ui.sanitize import sanitize


class PlaybackFolding:
    """The playback and HLS/ABR event handlers of ``DashboardState``."""

    title: str
    url: str
    codec: str
    state: str
    position: float | None
    duration: float | None
    volume: float | None
    buffer_downloaded: float | None
    buffer_decoded: float | None
    live: bool
    ladder: tuple[tuple[int, int, str], ...]
    ladder_measured: frozenset[int]
    current_variant: int | None
    target_variant: int | None
    abr_estimate: float | None
    underruns: int
    rebuffers: int

    def _log(self, ts: float, kind: str, text: str, level: str = "info", key: str = "") -> None:
        raise NotImplementedError

    # --- playback -----------------------------------------------------------------------------

    def _on_state(self, ev: PlaybackState) -> None:
        self.state = sanitize(ev.state, 16)

    def _on_started_playing(self, ev: PlaybackStarted) -> None:
        self._log(
            ev.ts, "STARTED", f"first audio {ev.time_to_first_audio:.2f} s after launch", "good"
        )

    def _on_position(self, ev: Position) -> None:
        self.position = ev.seconds
        if ev.duration is not None:
            self.duration = ev.duration

    def _on_buffer(self, ev: BufferLevel) -> None:
        self.buffer_downloaded = ev.downloaded_ahead
        self.buffer_decoded = ev.decoded_ahead

    def _on_underrun(self, ev: Underrun) -> None:
        self.underruns = ev.count if ev.count > 0 else self.underruns + 1
        self._log(ev.ts, "UNDERRUN", f"audio device ran dry ({ev.count} so far)", "error")

    def _on_rebuffer_started(self, ev: RebufferStarted) -> None:
        self.rebuffers += 1
        self._log(ev.ts, "REBUFFER", f"waiting for data at {fmt_clock(ev.position)}", "error")

    def _on_rebuffer_ended(self, ev: RebufferEnded) -> None:
        self._log(
            ev.ts,
            "RESUMED",
            f"playing again at {fmt_clock(ev.position)} after {ev.duration:.2f} s",
            "good",
        )

    def _on_seek(self, ev: SeekRequested) -> None:
        self._log(ev.ts, "SEEK", f"to {fmt_clock(ev.target)}", "seek")

    def _on_seek_done(self, ev: SeekCompleted) -> None:
        self.position = ev.target
        self._log(
            ev.ts,
            "SEEK DONE",
            f"at {fmt_clock(ev.target)} in {ev.latency * 1000:.0f} ms",
            "seek",
        )

    def _on_volume(self, ev: VolumeChanged) -> None:
        self.volume = ev.volume

    def _on_eos(self, ev: EndOfStream) -> None:
        self._log(ev.ts, "END", f"end of stream at {fmt_clock(ev.position)}", "info")

    def _on_decoder_error(self, ev: DecoderError) -> None:
        self._log(ev.ts, "DECODER", sanitize(ev.message), "error")

    def _on_track(self, ev: TrackInfo) -> None:
        self.title = sanitize(ev.title)
        self.url = sanitize(ev.url)
        if ev.duration is not None:
            self.duration = ev.duration
        self.live = ev.duration is None
        parts = [sanitize(ev.codec, 24)] if ev.codec else []
        if ev.sample_rate:
            parts.append(f"{ev.sample_rate / 1000:g} kHz")
        if ev.channels:
            parts.append(f"{ev.channels} ch")
        self.codec = " ".join(parts)

    # --- HLS / ABR ----------------------------------------------------------------------------

    def _on_ladder(self, ev: LadderInfo) -> None:
        self.ladder = tuple(
            (int(i), int(bw), sanitize(codecs, 40)) for i, bw, codecs in ev.variants
        )
        self.ladder_measured = frozenset(int(i) for i in ev.measured)

    def _on_abr(self, ev: AbrDecision) -> None:
        self.target_variant = ev.to_variant
        if self.current_variant is None:
            self.current_variant = ev.to_variant
        if ev.estimate_bps > 0:
            self.abr_estimate = ev.estimate_bps
        src = "start" if ev.from_variant is None else f"v{ev.from_variant}"
        est = fmt_bits(ev.estimate_bps) if ev.estimate_bps > 0 else "no estimate"
        self._log(
            ev.ts,
            "ABR",
            f"{src} → v{ev.to_variant} ({sanitize(ev.reason, 24)}): {est}, "
            f"buffer {ev.buffer:.1f} s",
            "abr",
        )

    def _on_estimate(self, ev: BandwidthEstimate) -> None:
        if ev.estimate_bps > 0:
            self.abr_estimate = ev.estimate_bps

    def _on_segment(self, ev: SegmentLoaded) -> None:
        if self.current_variant is None:
            self.current_variant = ev.variant


PLAYBACK_HANDLERS: dict[type[Event], Callable[[PlaybackFolding, Any], None]] = {
    PlaybackState: PlaybackFolding._on_state,
    PlaybackStarted: PlaybackFolding._on_started_playing,
    Position: PlaybackFolding._on_position,
    BufferLevel: PlaybackFolding._on_buffer,
    Underrun: PlaybackFolding._on_underrun,
    RebufferStarted: PlaybackFolding._on_rebuffer_started,
    RebufferEnded: PlaybackFolding._on_rebuffer_ended,
    SeekRequested: PlaybackFolding._on_seek,
    SeekCompleted: PlaybackFolding._on_seek_done,
    VolumeChanged: PlaybackFolding._on_volume,
    EndOfStream: PlaybackFolding._on_eos,
    DecoderError: PlaybackFolding._on_decoder_error,
    TrackInfo: PlaybackFolding._on_track,
    LadderInfo: PlaybackFolding._on_ladder,
    AbrDecision: PlaybackFolding._on_abr,
    BandwidthEstimate: PlaybackFolding._on_estimate,
    SegmentLoaded: PlaybackFolding._on_segment,
}
