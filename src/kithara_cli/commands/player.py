"""A playback session: source -> ByteStream -> Decoder -> PcmRing -> sink, and its controls.

The session owns the threads' lifetimes and turns what they do into playback events
(PlaybackStarted, Position, BufferLevel, rebuffers, seeks, EndOfStream). The UI and the keys
drive it through a handful of methods; nothing here draws or reads the terminal.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kithara_cli import interrupt
from kithara_cli.errors import DecoderError as DecoderFailure
from kithara_cli.errors import KitharaError, UsageError
from kithara_cli.events import EventBus
from kithara_cli.events.types import (
    BufferLevel,
    EndOfStream,
    LadderInfo,
    PlaybackStarted,
    PlaybackState,
    Position,
    RebufferEnded,
    RebufferStarted,
    SeekCompleted,
    SeekRequested,
    TrackInfo,
    VolumeChanged,
)

RING_RATE_CAP = 48_000  # the ring is sized before the device's rate is known
AUDIO_LOAD_WAIT = 0.5  # at most this long, the audio imports wait for the network to start
STARTUP_SWITCH_INTERVAL = 0.0005  # GIL hand-over until first audio (Python's default: 0.005)


def _import_hls_modules() -> None:
    import kithara_cli.abr.controller
    import kithara_cli.hls.loader
    import kithara_cli.hls.source  # noqa: F401


def seconds_since_process_start() -> float:
    """Seconds since kithara was launched (see :mod:`kithara_cli.launch`)."""
    from kithara_cli.launch import seconds_since_launch

    return seconds_since_launch()


def parse_time(text: str | None) -> float:
    """``90``, ``1:30`` or ``1:02:03`` -> seconds."""
    if not text:
        return 0.0
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError as exc:
        raise UsageError(f"bad time {text!r}: use seconds or mm:ss") from exc
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    if seconds < 0 or len(parts) > 3:
        raise UsageError(f"bad time {text!r}: use seconds or mm:ss")
    return seconds


def parse_bitrate(text: str | None) -> int | None:
    if not text:
        return None
    t = text.strip().lower()
    scale = 1
    if t.endswith("k"):
        scale, t = 1000, t[:-1]
    elif t.endswith("m"):
        scale, t = 1_000_000, t[:-1]
    try:
        return int(float(t) * scale)
    except ValueError as exc:
        raise UsageError(f"bad bitrate {text!r}: use e.g. 128k") from exc


@dataclass
class PlayerSettings:
    output: str = "default"
    buffer: float = 2.0
    volume: float = 1.0
    abr: str = "auto"
    max_bitrate: int | None = None
    min_bitrate: int | None = None
    audio: str | None = None
    prefetch_segments: int = 2
    length: float | None = None  # stop after this much playback (seconds)


@dataclass
class Snapshot:
    """What the UI shows, read without locks (plain values)."""

    state: str = "buffering"
    position: float = 0.0
    duration: float | None = None
    volume: float = 1.0
    buffer_downloaded: float = 0.0
    buffer_decoded: float = 0.0
    variant: int | None = None


class Player:
    """One playback of one URL or file. ``start()``, then ``run_until_done()`` or drive it."""

    def __init__(self, bus: EventBus, settings: PlayerSettings, downloader: Any = None) -> None:
        self.bus = bus
        self.settings = settings
        self.dl = downloader
        self.snapshot = Snapshot(volume=settings.volume)
        self.error: KitharaError | None = None
        self.message: str | None = None  # e.g. "no audio output device found ..."
        self._cache_dir = Path(tempfile.mkdtemp(prefix="kithara-play-"))
        self._source: Any = None
        self._hls: Any = None
        self._decoder: Any = None
        self._ring: Any = None
        self._sink: Any = None
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._started = False
        self._paused = False
        self._rebuffering_since: float | None = None
        self._seek: tuple[float, float, int] | None = None  # (target, t0, frames_played at t0)
        self._ended = threading.Event()
        self.first_audio = threading.Event()  # set once PlaybackStarted is published
        self._origin = 0.0
        self._realtime = True
        self._switch_interval = sys.getswitchinterval()

    # --- opening ------------------------------------------------------------------------------

    def open(self, target: str, start_at: float = 0.0) -> None:
        """Build the pipeline for ``target`` and start playing at ``start_at``.

        The network side starts first, on its own thread, and this thread waits until the
        requests that gate the chain are on their way (progressive: the first one; HLS: once
        the master playlist is parsed) before loading PyAV and PortAudio: under the GIL the
        two would otherwise share the CPU, and each request would leave later. The imports
        then overlap the round trips.
        """
        self._title = target
        self._target = target
        local = Path(target)
        opened: dict[str, Any] = {}
        setup: threading.Thread | None = None
        self._audio_may_load = threading.Event()
        # Until first audio, hand the GIL over 10x as often: the network thread's round trips
        # need it for moments at a time while this thread loads PyAV; at Python's default 5 ms
        # each hand-over, a request took ~2.5x its round trip.
        sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)
        if "://" not in target and local.exists():
            opened["source"], opened["origin"] = str(local), 0.0
            self._title = local.name
        elif "://" not in target:
            raise UsageError(f"no such file: {target} (and not an http(s) URL)")
        else:
            is_hls = target.lower().split("?")[0].endswith((".m3u8", ".m3u"))

            def start_network() -> None:
                try:
                    if is_hls:
                        opened["source"], opened["origin"] = self._open_hls(target, start_at)
                    else:
                        opened["source"], opened["origin"] = self._open_progressive(target), 0.0
                except BaseException as exc:
                    opened["error"] = exc
                finally:
                    self._audio_may_load.set()

            setup = threading.Thread(target=start_network, name="kithara-open", daemon=True)
            setup.start()
            self._audio_may_load.wait(AUDIO_LOAD_WAIT)

        from kithara_cli.audio import Decoder, PcmRing, WavSink, open_sink

        channels = 2
        self._ring = PcmRing(int(max(self.settings.buffer, 0.25) * RING_RATE_CAP), channels)
        sink, message = open_sink(
            self.settings.output, self._ring, rate=None, channels=channels, on_event=self._event
        )
        self._sink = sink
        self._realtime = not isinstance(sink, WavSink)  # a file sink drains as fast as we decode
        self.message = message
        sink.volume = self.settings.volume
        if setup is not None:
            interrupt.join(setup)  # a slow playlist must not hold off Ctrl-C/SIGTERM
        if "error" in opened:
            raise opened["error"]
        origin = opened["origin"]
        self._origin = origin
        self._decoder = Decoder(
            opened["source"],
            self._ring,
            out_rate=sink.rate,
            out_channels=channels,
            on_event=self._event,
            start_at=start_at,
            fast_seek=self._source is not None,  # over the network: never seek by reading
            **({"timeline_origin": origin} if self._hls is not None else {}),
        )
        self._decoder.start()
        sink.start()
        self._publish_state("buffering")
        self._monitor = threading.Thread(target=self._watch, name="kithara-player", daemon=True)
        self._monitor.start()

    def _open_progressive(self, url: str) -> Any:
        from kithara_cli.file.source import ProgressiveSource
        from kithara_cli.net import check_http_url
        from kithara_cli.stream import ByteStream

        check_http_url(url)
        src = ProgressiveSource(self.dl, url, self._cache_dir / "progressive.bin")
        src.start(0)
        self._audio_may_load.set()
        self._source = src
        return ByteStream(src, name=url)

    def _open_hls(self, url: str, start_at: float) -> tuple[Any, float]:
        from kithara_cli.dl import Priority
        from kithara_cli.hls import MAX_PLAYLIST_BYTES
        from kithara_cli.net import check_http_url

        check_http_url(url)
        # The HLS modules (m3u8 among them) load while the master playlist is in flight.
        loader = threading.Thread(target=_import_hls_modules, name="kithara-import", daemon=True)
        loader.start()
        body, final_url = self.dl.fetch_bytes(
            url, label="playlist", priority=Priority.DEMAND, max_bytes=MAX_PLAYLIST_BYTES
        )
        loader.join()
        from kithara_cli.abr.controller import AbrController, VariantInfo
        from kithara_cli.hls.loader import media_url_for
        from kithara_cli.hls.model import MediaPlaylist
        from kithara_cli.hls.playlist import parse_playlist
        from kithara_cli.hls.select import audio_ladder
        from kithara_cli.hls.source import HlsSource, Rung
        from kithara_cli.stream import ByteStream

        playlist = parse_playlist(body, final_url)
        if isinstance(playlist, MediaPlaylist):
            rungs = [Rung(0, 0, "", playlist.url, playlist)]
        else:
            variants = audio_ladder(playlist)  # no video-only variants
            rungs = []
            for v in variants:
                selection = media_url_for(playlist, v, self.settings.audio)
                rungs.append(Rung(v.index, v.bandwidth, ",".join(v.codecs), selection.media_url))
            # Variants that share one audio rendition are one rung for audio purposes.
            seen: dict[str, Rung] = {}
            for rung in rungs:
                seen.setdefault(rung.media_url, rung)
            rungs = sorted(seen.values(), key=lambda r: r.bandwidth)
        infos = [VariantInfo(r.index, max(r.bandwidth, 1), r.codecs) for r in rungs]
        self.bus.publish(
            LadderInfo(variants=tuple((r.index, r.bandwidth, r.codecs) for r in rungs))
        )
        mode = self.settings.abr
        if mode.startswith("fixed:"):
            mode = self._fixed_mode(mode, rungs)
        controller = AbrController(
            infos,
            mode=mode,
            max_bitrate=self.settings.max_bitrate,
            min_bitrate=self.settings.min_bitrate,
        )
        hls = HlsSource(
            self.dl, rungs, controller, self._cache_dir, prefetch=self.settings.prefetch_segments
        )
        # The media playlist goes next, then the first segment: PyAV loads during those.
        self._audio_may_load.set()
        origin = hls.open_run(start_at)
        self._hls = hls
        self._source = hls
        return ByteStream(hls, name=url), origin

    @staticmethod
    def _fixed_mode(mode: str, rungs: list[Any]) -> str:
        spec = mode.split(":", 1)[1].strip().lower()
        if spec == "best":
            return f"fixed:{rungs[-1].index}"
        if spec == "worst":
            return f"fixed:{rungs[0].index}"
        if spec.endswith("k"):
            want = parse_bitrate(spec) or 0
            fitting = [r for r in rungs if r.bandwidth <= want] or rungs[:1]
            return f"fixed:{fitting[-1].index}"
        return mode

    # --- events -------------------------------------------------------------------------------

    def _event(self, event: Any) -> None:
        self.bus.publish(event)

    def _publish_state(self, state: str) -> None:
        if self.snapshot.state != state:
            self.snapshot.state = state
            self.bus.publish(PlaybackState(state=state))

    # --- the watcher --------------------------------------------------------------------------

    def _position(self) -> float:
        ring, sink = self._ring, self._sink
        pos = ring.position_frames / sink.rate - sink.latency
        return max(pos, 0.0)

    def _watch(self) -> None:
        """Polls the pipeline every 10-20 ms (first audio is timed by the ring itself, so a
        faster poll would only take the GIL from the start-up work)."""
        decoder, ring, sink = self._decoder, self._ring, self._sink
        last_slow = 0.0
        info_sent = False
        while not self._stop.is_set():
            now = time.monotonic()
            played = sink.frames_played
            if not self._started and played > 0:
                self._started = True
                if self._source is not None:  # HLS or progressive: prefetch in full now
                    self._source.playback_started()
                sys.setswitchinterval(self._switch_interval)
                first_out = ring.first_read_at or time.monotonic()
                self.bus.publish(
                    PlaybackStarted(
                        ts=first_out,
                        time_to_first_audio=seconds_since_process_start()
                        - (time.monotonic() - first_out),
                        output_rate=sink.rate,
                        output=type(sink).__name__.removesuffix("Sink").lower(),
                    )
                )
                self._publish_state("paused" if self._paused else "playing")
                self.first_audio.set()
            if not info_sent and decoder.ready.is_set():
                info_sent = True
                info = decoder.info
                duration = self._hls.duration if self._hls is not None else decoder.duration
                self.snapshot.duration = duration
                self.bus.publish(
                    TrackInfo(
                        title=self._title,
                        url=self._target,
                        duration=duration,
                        codec=info.codec if info else "",
                        sample_rate=info.sample_rate if info else 0,
                        channels=info.channels if info else 0,
                    )
                )
            if self._seek is not None:
                target, t0, _ = self._seek
                # Done when a frame at or after the target has been handed to the output (the
                # ring re-bases its position at the target when the decoder clears it).
                landed = ring.position_frames > round(target * sink.rate)
                if ring.generation != self._seek_generation and landed:
                    self._seek = None
                    self.bus.publish(SeekCompleted(target=target, latency=now - t0))
                    if not self._paused:
                        self._publish_state("playing")
            if decoder.error is not None and self.error is None:
                self.error = decoder.error
                self._finish()
                return
            if sink.error is not None:  # a full disk under wav:, a lost device
                self.fail(sink.error)
                return
            limit = self.settings.length
            if limit is not None and self._started and played >= limit * sink.rate:
                self._publish_state("ended")
                self._finish()
                return
            if self._started and ring.drained:
                self.bus.publish(EndOfStream(position=self._position()))
                self._publish_state("ended")
                self._finish()
                return
            self._check_rebuffer(now)
            if now - last_slow >= 0.1:
                last_slow = now
                self._tick(now)
            self._stop.wait(0.01 if not self._started else 0.02)

    def _check_rebuffer(self, now: float) -> None:
        ring, sink, decoder = self._ring, self._sink, self._decoder
        if not self._started or self._paused or self._seek is not None or not self._realtime:
            return
        if self._rebuffering_since is None:
            if ring.frames_available == 0 and not ring.eos and not decoder.eof.is_set():
                self._rebuffering_since = now
                sink.pause(True)  # silence, not clicks, while we wait
                self.bus.publish(RebufferStarted(position=self._position()))
                self._publish_state("rebuffering")
        else:
            enough = min(0.5, self.settings.buffer * 0.5) * sink.rate
            if ring.frames_available >= enough or ring.eos or decoder.eof.is_set():
                sink.pause(False)
                self.bus.publish(
                    RebufferEnded(position=self._position(), duration=now - self._rebuffering_since)
                )
                self._rebuffering_since = None
                self._publish_state("playing")

    def _tick(self, now: float) -> None:
        pos = self._position()
        self.snapshot.position = pos
        self.bus.publish(Position(seconds=pos, duration=self.snapshot.duration))
        decoded = self._ring.seconds(self._sink.rate)
        if self._hls is not None:
            self._hls.set_playhead(pos)
            downloaded = self._hls.buffer_ahead()
            self.snapshot.variant = self._hls.variant_at(pos)
        else:
            downloaded = self._progressive_ahead(pos)
        self.snapshot.buffer_downloaded = downloaded
        self.snapshot.buffer_decoded = decoded
        self.bus.publish(BufferLevel(downloaded_ahead=downloaded, decoded_ahead=decoded))

    def _progressive_ahead(self, pos: float) -> float:
        src = self._source
        duration = self.snapshot.duration
        if src is None or not hasattr(src, "resource") or not duration:
            return self._ring.seconds(self._sink.rate)
        total = src.resource.total
        if not total:
            return 0.0
        byte_pos = int(pos / duration * total)
        ahead = src.resource.available_from(byte_pos) - byte_pos
        return max(0.0, ahead / total * duration)

    def _finish(self) -> None:
        self._ended.set()

    def fail(self, error: KitharaError) -> None:
        """Stop playback with ``error`` (any thread): a sink or the --events file that cannot
        write. The first error wins; the command exits with its code."""
        if self.error is None:
            self.error = error
        self._finish()

    # --- controls (any thread) -----------------------------------------------------------------

    def toggle_pause(self) -> None:
        self._paused = not self._paused
        self._sink.pause(self._paused)
        self._publish_state("paused" if self._paused else "playing")

    def change_volume(self, delta: float) -> None:
        self._sink.volume = self._sink.volume + delta
        self.snapshot.volume = self._sink.volume
        self.bus.publish(VolumeChanged(volume=self._sink.volume))

    def seek_relative(self, delta: float) -> None:
        self.seek_to(self._position() + delta)

    def seek_to(self, target: float) -> None:
        from kithara_cli.stream import ByteStream

        duration = self.snapshot.duration
        target = max(0.0, target)
        if duration is not None:
            target = min(target, max(duration - 0.5, 0.0))
        self.bus.publish(SeekRequested(target=target))
        self._publish_state("seeking")
        self._seek_generation = self._ring.generation
        self._seek = (target, time.monotonic(), self._sink.frames_played)
        self._rebuffering_since = None
        if not self._paused:
            self._sink.pause(False)
        if self._hls is not None:
            origin = self._hls.open_run(target)
            self._decoder.reopen(
                ByteStream(self._hls, name=self._target),
                target,
                flush=True,
                timeline_origin=origin,
            )
        else:
            self._decoder.seek(target)

    # --- running and stopping ------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def close(self) -> None:
        sys.setswitchinterval(self._switch_interval)
        self._stop.set()
        if self.dl is not None:
            # First, so that a thread waiting on a request (a slow key, init or playlist) is
            # woken now rather than when the downloader closes after the joins below.
            self.dl.cancel_where(lambda cmd: True, "shutdown")
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        if self._sink is not None:
            self._sink.stop()
        if self._decoder is not None:
            self._decoder.stop()
        if self._ring is not None:
            self._ring.close()
        if self._source is not None and hasattr(self._source, "close"):
            self._source.close()
        if self._decoder is not None:
            self._decoder.join(timeout=2)
        shutil.rmtree(self._cache_dir, ignore_errors=True)


__all__ = [
    "DecoderFailure",
    "Player",
    "PlayerSettings",
    "Snapshot",
    "parse_bitrate",
    "parse_time",
    "seconds_since_process_start",
]
