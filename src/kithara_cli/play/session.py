"""A playback session: source -> ByteStream -> Decoder -> PcmRing -> sink, and its controls.

The session owns the threads' lifetimes and turns what they do into playback events
(PlaybackStarted, Position, BufferLevel, rebuffers, seeks, EndOfStream). Keys and the UI drive
it (``toggle_pause``, ``change_volume``, ``seek_*``, ``snapshot``); it never draws nor reads keys.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kithara_cli.errors import KitharaError, UsageError
from kithara_cli.events import Event, EventBus
from kithara_cli.events.types import (
    EndOfStream,
    Notice,
    PlaybackStarted,
    PlaybackState,
    RebufferEnded,
    RebufferStarted,
    SeekCompleted,
    SeekRequested,
    TrackInfo,
    VolumeChanged,
)
from kithara_cli.hls import looks_like_hls
from kithara_cli.play.chapter_start import ChapterStart
from kithara_cli.play.clock import seconds_since_process_start
from kithara_cli.play.head import head_allowed, head_notice, keeper_for, play_head
from kithara_cli.play.levels import report_levels
from kithara_cli.play.now_playing import NowPlaying
from kithara_cli.play.opening import (
    Feed,
    OpenContext,
    Opened,
    join_opening,
    live_start,
    new_run_dir,
    open_link_url,
    open_url,
    start_past_end,
)
from kithara_cli.play.output import open_output
from kithara_cli.play.settings import PlayerSettings
from kithara_cli.play.snapshot import Snapshot
from kithara_cli.play.targets import check_target, open_link_file

if TYPE_CHECKING:
    from kithara_cli.audio import Decoder, PcmRing, Sink
    from kithara_cli.dl import Downloader
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.hls.source import HlsSource
    from kithara_cli.play.head import HeadCache, HeadKeeper, HeadStart
    from kithara_cli.play.record import PlayRecording
    from kithara_cli.radio.live import LiveStream

AUDIO_LOAD_WAIT = 0.5  # at most this long, the audio imports wait for the network to start
STARTUP_SWITCH_INTERVAL = 0.0005  # GIL hand-over until first audio (Python's default: 0.005)
SEEK_POLL = 0.002  # seconds between looks for a seek's first audio while one is pending...
SEEK_POLL_FOR = 0.5  # ...for this long (a seek that waits on the network is not timed so)


class Player:
    """One playback of one URL or file: ``open(target, start_at)``, then ``wait()`` until
    ``ended`` while keys drive ``toggle_pause``/``change_volume``/``seek_*``; ``close()``
    always (it stops and joins every thread, whatever state ``open`` got to). ``error`` is
    the first failure (decoder, sink, or ``fail`` from outside); ``snapshot`` is for the UI."""

    def __init__(
        self,
        bus: EventBus,
        settings: PlayerSettings,
        downloader: Downloader | None = None,
        heads: HeadCache | None = None,
    ) -> None:
        """``heads``: the cache's heads (``play.head``): a replay may start from one."""
        self.bus = bus
        self.heads = heads
        self._head: HeadStart | None = None  # the head playing, if any
        self._keeper: HeadKeeper | None = None
        self.settings = settings
        self.dl = downloader
        self.snapshot = Snapshot(volume=settings.volume)
        self.now_playing = NowPlaying(bus, self.snapshot)
        self.error: KitharaError | None = None
        self.message: str | None = None  # e.g. "no audio output device found ..."
        self._cache_dir: Path | None = None  # the run files of a URL's play (made by open)
        self._source: Feed | None = None  # the network side, HLS or progressive
        self._hls: HlsSource | None = None
        self._progressive: ProgressiveSource | None = None
        self._decoder: Decoder | None = None  # these three: built by open(), in this order
        self._ring: PcmRing | None = None
        self._sink: Sink | None = None
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
        self._live: LiveStream | None = None
        self._start_at = 0.0  # --start (a live stream's is 0: it plays from now)
        self._recording: PlayRecording | None = None  # --record (a tap, or a live stream's)

    # --- opening ------------------------------------------------------------------------------

    def open(
        self, target: str, start_at: float = 0.0, title: str = "", chapter: int | None = None
    ) -> None:
        """Build the pipeline for ``target`` and start playing at ``start_at``, or at the
        start of its ``chapter`` (from 1: ``chapter_start``, a seek once the media is open).

        A replay's cached head plays first (``play.head``). The network side starts next, on
        its own thread; PyAV and PortAudio load once the requests that gate the chain are on
        their way (progressive: the first; HLS: the master playlist parsed), so the imports
        overlap the round trips instead of sharing the CPU (the GIL) with the requests.
        """
        self._title = title or target  # (a link's or feed's name for the entry, else the URL)
        self._chapter = ChapterStart(chapter) if chapter is not None else None
        self._target = target
        local = check_target(target)
        opened: list[Opened] = []
        errors: list[BaseException] = []  # (the network thread's)
        setup: threading.Thread | None = None
        self._audio_may_load = threading.Event()
        # Until first audio, hand the GIL over 10x as often: the network thread's round trips
        # need it while this thread loads PyAV (at 5 ms, a request took ~2.5x its round trip).
        sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)
        if "://" not in target:  # (an existing file: check_target said so)
            open_link_file(local)  # a station list raises its entries for the queue
            opened.append(Opened(str(local)))
            self._title = title or local.name
        else:
            is_hls = looks_like_hls(target)
            dl = self.dl
            if dl is None:
                raise UsageError("playing a URL needs a downloader")
            is_link = urlsplit(target).path.lower().endswith((".pls", ".xspf"))
            if self.settings.record is not None:
                from kithara_cli.play.record import PlayRecording

                self._recording = PlayRecording(self.settings.record_files(), self.bus)
            if chapter is None:  # (a head is the audio from 0)
                self.start_head(target, start_at)
            self._cache_dir = new_run_dir()
            ctx = (dl, self.bus, self.settings, self._cache_dir, self._audio_may_load)
            variant = self._head.variant if self._head else None
            context = OpenContext(*ctx, self._recording, variant, read_tags=chapter is not None)

            def start_network() -> None:
                try:
                    if is_link:
                        open_link_url(dl, target)
                    got = open_url(context, target, start_at, hls=is_hls)
                    opened.append(got)
                    self._hls, self._progressive, self._source = got.hls, got.progressive, got.feed
                    if self._stop.is_set() and got.feed is not None:  # closed first (n/q)
                        got.feed.close()  # (else set as soon as known: close() stops them)
                    if got.progressive is not None and got.progressive.live is not None:
                        self._live = got.progressive.live
                        self.snapshot.live = True
                        self.snapshot.station = self._live.station.name
                        self._start_recording()
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    self._audio_may_load.set()

            setup = threading.Thread(target=start_network, name="kithara-open", daemon=True)
            setup.start()
            self._audio_may_load.wait(AUDIO_LOAD_WAIT)

        from kithara_cli.audio import Decoder

        head = self._head
        if head is not None:
            head.av_loaded = time.monotonic()
        ring, sink = self._open_output()
        if setup is not None:  # a slow playlist must not hold off Ctrl-C/SIGTERM, nor n/q
            join_opening(setup, self._ended)  # (pressed while it opens: ``fail``)
        if self.error is not None:
            raise self.error
        if errors:
            raise errors[0]
        result = opened[0]
        if result.live:  # (nor at a chapter)
            start_at = live_start(self.bus, start_at > 0 or self._chapter is not None)
            self._chapter = None
        self._start_at = start_at
        if self.settings.record is not None and self._live is None and self._recording is None:
            self.bus.publish(
                Notice(level="warning", message="--record: a local file, nothing recorded")
            )
        origin = self._origin = result.origin
        recording = self._recording is not None
        if (
            head is None
            and self._chapter is None
            and head_allowed(target, start_at, recording=recording)
        ):
            parts = (self._progressive, self._hls, ring, sink, self.settings.audio)
            self._keeper = keeper_for(self.heads, target, *parts)
        decoder = self._decoder = Decoder(
            result.stream,
            ring,
            out_rate=sink.rate,
            out_channels=ring.channels,
            on_event=self._event,
            start_at=start_at,
            fast_seek=self._source is not None,  # over the network: never seek by reading
            format_hint=result.hint,
            timeline_origin=origin if self._hls is not None else 0.0,
            covered=head.frames if head is not None else 0,
            keep_head=self._keeper.frames if self._keeper is not None else 0,
        )
        decoder.start()
        self.now_playing.follow_tag(self._progressive)  # its chapters, past the audio's start
        if head is None and self._chapter is None:
            sink.start()
        self._publish_state("buffering")
        self._monitor = threading.Thread(target=self._watch, name="kithara-player", daemon=True)
        self._monitor.start()

    def start_head(self, target: str, start_at: float = 0.0) -> bool:
        """Play ``target``'s cached head now if it has one (``play.head``); ``open`` goes on
        from it. It needs no network: called before the downloader exists, a replay is heard
        while the rest of start-up loads (the output opens for a head only)."""
        allowed = head_allowed(target, start_at, recording=self.settings.record is not None)
        if self._head is None and self.heads is not None and allowed:
            sys.setswitchinterval(STARTUP_SWITCH_INTERVAL)  # the sink's first read: no 5 ms wait
            self._head = play_head(self.heads, target, self._open_output, self.settings.audio)
        return self._head is not None

    def _open_output(self) -> tuple[PcmRing, Sink]:
        """The ring and the sink (not started; opened once): PyAV is not loaded for them."""
        if self._ring is not None and self._sink is not None:
            return self._ring, self._sink
        ring, sink, self.message = open_output(self.settings, self._event)
        self._ring, self._sink, self._realtime = ring, sink, sink.realtime
        return ring, sink

    def _start_recording(self) -> None:
        if self._recording is not None and self._live is not None:
            self._recording.record_live(self._live)

    # --- events -------------------------------------------------------------------------------

    def _event(self, event: Event) -> None:
        self.bus.publish(event)

    def _publish_state(self, state: str) -> None:
        if self.snapshot.state != state:
            self.snapshot.state = state
            self.bus.publish(PlaybackState(state=state))

    # --- the watcher --------------------------------------------------------------------------

    def _parts(self) -> tuple[Decoder, PcmRing, Sink]:
        """What open() built (the watcher and the controls run only once it has)."""
        decoder, ring, sink = self._decoder, self._ring, self._sink
        assert decoder is not None and ring is not None and sink is not None
        return decoder, ring, sink

    def _position(self) -> float:
        _, ring, sink = self._parts()
        pos = ring.position_frames / sink.rate - sink.latency
        return max(pos, 0.0)

    def _watch(self) -> None:
        """Polls the pipeline every 10-20 ms (first audio is timed by the ring: no faster)."""
        decoder, ring, sink = self._parts()
        last_slow = 0.0
        info_sent = False
        while not self._stop.is_set():
            now = time.monotonic()
            played = sink.frames_played
            if not self._started and played > 0:
                self._started = True
                if self._source is not None:  # HLS or progressive: prefetch in full now
                    self._source.playback_started()
                if self._hls is not None and not self._realtime:  # its ABR: as a listener
                    self._hls.unpaced_sink()
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
                if self._head is not None:
                    self.bus.publish(head_notice(self._head, first_out))
            if self._keeper is not None:
                self._keeper.poll(decoder)
            if self._chapter is not None:  # --start #N: its seek, then the output starts
                try:
                    if (at := self._chapter.poll(decoder, ring, sink)) is not None:
                        self._start_at, self._chapter = at, None
                except UsageError as err:
                    self.fail(err)
                    return
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
                    if self._hls is not None:  # its prefetch waited for this first audio
                        self._hls.playback_started()
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
                self._titles_played(limit - 1e-6)  # one begun since the last poll, before it
                self._publish_state("ended")
                self._finish()
                return
            # Drained before any audio: a --start at or past the end (nothing to play).
            if ring.drained and (self._started or decoder.eof.is_set()):
                if not self._started and self._start_at > 0:  # no EndOfStream: an error
                    self.fail(start_past_end(self._start_at, self.snapshot.duration))
                    return
                self.bus.publish(EndOfStream(position=self._position()))
                self._publish_state("ended")
                self._finish()
                return
            self._check_rebuffer(now)
            if self._started:
                self._titles_played()
            if now - last_slow >= 0.1:
                last_slow = now
                sources = (self._live, self._progressive, self._hls)
                levels = (self._position(), ring.seconds(sink.rate), decoder, sources)
                report_levels(self.bus, self.snapshot, *levels)
            # A pending seek is timed by this poll: at 20 ms it added 0-20 ms to every one.
            seeking = self._seek is not None and now - self._seek[1] < SEEK_POLL_FOR
            self._stop.wait(SEEK_POLL if seeking else 0.01 if not self._started else 0.02)

    def _titles_played(self, upto: float = float("inf")) -> None:
        """Publish titles and chapters as their audio plays, to ``upto`` (not mid-seek)."""
        if self._seek is None:
            decoder = self._parts()[0]
            queues = [decoder.titles] + ([self._hls.titles] if self._hls is not None else [])
            self.now_playing.poll(min(self._position(), upto), self._live, queues, decoder.chapters)

    def _check_rebuffer(self, now: float) -> None:
        decoder, ring, sink = self._parts()
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

    def _finish(self) -> None:
        self._ended.set()

    def fail(self, error: KitharaError) -> None:
        """Stop playback with ``error`` (any thread; the first wins, its code is the exit's)."""
        if self.error is None:
            self.error = error
        self._finish()

    # --- controls (any thread) -----------------------------------------------------------------

    def toggle_pause(self) -> None:
        self._paused = not self._paused
        self._parts()[2].pause(self._paused)
        self._publish_state("paused" if self._paused else "playing")

    def change_volume(self, delta: float) -> None:
        sink = self._parts()[2]
        sink.volume = sink.volume + delta
        self.snapshot.volume = sink.volume
        self.bus.publish(VolumeChanged(volume=sink.volume))

    def seek_relative(self, delta: float) -> None:
        """A seek still landing counts on from its target, as mpv adds relative seeks up."""
        self.seek_to((self._seek or (self._position(),))[0] + delta)

    def seek_to(self, target: float) -> None:
        from kithara_cli.stream import ByteStream

        src = self._progressive
        if self._live is not None or (src is not None and src.live is not None):
            self.bus.publish(Notice(level="info", message="live stream: no seeking"))
            return
        duration = self.snapshot.duration
        target = max(0.0, target)
        if duration is not None:
            target = min(target, max(duration - 0.5, 0.0))
        self.bus.publish(SeekRequested(target=target))
        self.now_playing.seek(target)
        self._publish_state("paused" if self._paused else "seeking")  # (lands on resume)
        decoder, ring, sink = self._parts()
        self._seek_generation = ring.generation
        self._seek = (target, time.monotonic(), sink.frames_played)
        self._rebuffering_since = None
        if not self._paused:
            sink.pause(False)
        if self._hls is not None:
            origin = self._hls.open_run(target)
            run = self._recording.tap(self._hls, origin) if self._recording else self._hls
            stream = ByteStream(run, name=self._target)
            decoder.reopen(stream, target, flush=True, timeline_origin=origin)
        else:
            decoder.seek(target)

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
            # First: a thread waiting on a request (a slow key, init, playlist) wakes now.
            self.dl.cancel_where(lambda cmd: True, "shutdown")
        if self._monitor is not None:
            self._monitor.join(timeout=2)
        if self._sink is not None:
            self._sink.stop()
        if self._decoder is not None:
            self._decoder.stop()
        if self._ring is not None:
            self._ring.close()
        if self._source is not None:
            self._source.close()
        if self._recording is not None:
            try:
                files = self._recording.finish()  # what came, whole and playable, with its CUE
            except KitharaError as err:
                self.fail(err)
            else:
                if files:
                    self.bus.publish(Notice(level="info", message=f"recorded {files[0]}"))
        if self._decoder is not None:
            self._decoder.join(timeout=2)
            if self._keeper is not None:  # a stream shorter than a head ends with the watcher
                self._keeper.poll(self._decoder)
        if self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
