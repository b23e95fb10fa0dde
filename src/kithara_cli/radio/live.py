"""LiveStream: the peer of an endless stream (an Icecast/SHOUTcast mount, a body with no end).

It takes over the first response of the progressive peer once that response shows a live
stream, and from then on owns the connection: the body goes through the ICY demuxer (audio
to a :class:`LiveWindow`, titles to a list by audio offset), no Range is ever sent, and
slowness is judged against playback, not a soft timeout: a :class:`PaceJudge` compares the
audio bytes' arrival rate with the stream's byte rate (``icy-br``, else measured from the
decoder, ``note_decoded``) and LoadSlow is published when arrival stays under it, a
LoadRecovered when it is back. When an ICY stream drops (RST, clean close, 5xx, stall) it reconnects with
backoff to the live edge, never by byte offset; the new bytes follow the old in the window,
so the decoder reads on across the gap, which is published as a StreamGap. After
``max_failures`` reconnects in a row that bring no audio (or too little to count: under
``STEADY_SECONDS`` of it, a server that drops every listener at once), the window fails with
:class:`LiveStreamLost`. A non-ICY body without a length ends where its body ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kithara_cli.dl import Downloader, FetchCmd, FetchHandle, FetchOutcome, Priority, ResponseInfo
from kithara_cli.errors import FatalError, NetworkError, UsageError
from kithara_cli.events.types import (
    LoadRecovered,
    LoadSlow,
    Notice,
    RequestRelabeled,
    StationDetails,
    StreamGap,
    StreamReconnecting,
)
from kithara_cli.radio.frame_rate import PROBE_BYTES, frame_byterate, trusted_byterate
from kithara_cli.radio.icy import IcyDemux, IcyTitle, is_icy_answer_headers, station_info
from kithara_cli.radio.pace import PaceConfig, PaceJudge, measured_byterate
from kithara_cli.radio.record import Recorder
from kithara_cli.radio.window import LiveWindow

MAX_FAILURES = 5
MAX_JOINS = 64
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 2.0
ICY_REQUEST = {"Icy-MetaData": "1"}
LIVE_LABEL = "live stream"  # its requests' label (a play's first request is given it too)
STEADY_SECONDS = 2.0  # audio a connection must bring to count as back (not a flap)
STEADY_FALLBACK_RATE = 16_000.0  # bytes/s to judge that by when the rate is unknown (128k)


class LiveStreamLost(NetworkError):
    """A live stream dropped and did not come back."""


class NotLiveError(UsageError):
    """A live-only action (``fetch --duration``) on a response that is a file."""


class LiveStreamFound(FatalError):
    """A file download met an Icecast/SHOUTcast answer: the command records it instead,
    from ``stream``, which has taken that answer over (a station's listener limit may
    refuse a second connection), when the download could hand it over."""

    def __init__(self, message: str, stream: LiveStream | None = None) -> None:
        super().__init__(message)
        self.stream = stream


def is_live(info: ResponseInfo) -> bool:
    """An ICY answer, or a whole body with no length: an endless stream, not a file."""
    if is_icy_answer_headers(info.icy):
        return True
    return info.total_size is None and not info.range_honoured and info.encoding is None


def is_icy_answer(info: ResponseInfo) -> bool:
    """An Icecast/SHOUTcast answer: endless for playback (a body that merely has no length
    may be a finite file, and is kept as one up to a cap: ``file.source``)."""
    return is_icy_answer_headers(info.icy)


class LiveStream:
    """``stream.Source`` over a live stream's window; see the module docstring."""

    sequential = True  # read front to back: the decoder opens it as a stream

    def __init__(
        self,
        dl: Downloader,
        url: str,
        *,
        max_failures: int = MAX_FAILURES,
        clock: Callable[[], float] = time.monotonic,
        window: LiveWindow | None = None,
        pace: PaceConfig | None = None,
    ) -> None:
        self.dl = dl
        self.url = url
        self.max_failures = max_failures
        self.clock = clock
        self.window = window or LiveWindow()
        self.station = StationDetails()
        self.icy = False
        self._lock = threading.Lock()
        self._titles: list[IcyTitle] = []
        self._demux: IcyDemux | None = None  # the last connection's
        self._joins: list[int] = []  # where each connection's audio starts in the window
        self._failures = 0
        self._conn_audio = 0  # audio bytes the current connection brought
        self._reconnects = 0
        self._dropped_at: float | None = None
        self._drop_reason = ""
        self._closed = False
        self._handle: FetchHandle | None = None
        self._timer: threading.Timer | None = None
        self._rec_lock = threading.Lock()  # the reader never takes it: a blocked write may
        self.recorder: Recorder | None = None
        self._rec_base = 0  # the window offset the recording starts at
        self.pace = PaceJudge(pace, clock)
        self._pace_lock = threading.Lock()
        self._request_id = 0  # the connection LoadSlow names
        self._measured: float | None = None  # byte rate from the decoder, without icy-br
        self._probe: bytearray | None = bytearray()  # first audio bytes, until framed (None)
        self._framed: float | None = None  # byte rate from the frame headers (``frame_rate``)

    # --- taking over ---------------------------------------------------------------------------

    def adopt(
        self,
        cmd: FetchCmd,
        info: ResponseInfo,
        request_id: int = 0,
        handle: FetchHandle | None = None,
        *,
        rename: bool = False,
    ) -> None:
        """Make the running command (inside its ``on_response``) feed this stream; with its
        ``handle``, the stream's own from now on (``close`` cancels it). ``rename``: it was
        made for something else (a file's first request, fetch's probe): ``rename`` it."""
        self._request_id = request_id
        if rename:
            self.rename(cmd, request_id)
        if handle is not None:
            self._handle = handle
        with self._pace_lock:
            self.pace.connected()
        station = station_info(info.icy)
        first = not self._reconnects and self._dropped_at is None
        self.station = station
        self.icy = self.icy or is_icy_answer_headers(info.icy)
        demux = None
        if station.metaint:  # a reconnect's first block repeats the title in force: no news
            last = self._demux or IcyDemux(station.metaint)
            demux = self._demux = IcyDemux(station.metaint, last.title, last.url)
        base = self.window.end
        with self._lock:
            self._joins = [*self._joins[-MAX_JOINS + 1 :], base]
        cmd.sink = self._sink_for(demux, base)
        cmd.end = None
        cmd.limit = None
        cmd.max_attempts = 1  # a retry would ask by byte offset: reconnects are ours
        cmd.soft_timeout = 0
        cmd.on_complete = self._on_complete
        if first and station.is_icy:
            self.dl.bus.publish(station)

    def rename(self, cmd: FetchCmd, request_id: int) -> None:
        """``cmd``, made for something else, fetches this stream now: its label, its row and
        log lines say so (they named a byte range or a probe)."""
        cmd.label = LIVE_LABEL
        if request_id:
            self.dl.bus.publish(RequestRelabeled(request_id=request_id, label=LIVE_LABEL))

    def continue_body(self, offset: int) -> Callable[[int, bytes], None]:
        """Take over a body already ``offset`` bytes in (a file with no length past its
        cap): the window starts there, and the returned sink feeds it."""
        window = self.window
        window.start = window.end = window.reader = offset
        return self._sink_for(None, offset)

    def body_ended(self, outcome: FetchOutcome) -> None:
        """The body taken over by ``continue_body`` ended (no reconnect: it is not ICY)."""
        self._on_complete(outcome)

    def _sink_for(self, demux: IcyDemux | None, base: int) -> Callable[[int, bytes], None]:
        def sink(_offset: int, data: bytes) -> None:
            titles: list[IcyTitle] = []
            if demux is not None:
                data, found = demux.feed(data)
                titles = [IcyTitle(base + t.offset, t.title, t.url) for t in found]
                if titles:
                    with self._lock:
                        self._titles.extend(titles)
            if data and self._probe is not None:
                self._frame(data)
            with self._rec_lock:
                rec = self.recorder
                if rec is not None:
                    rec.byterate = self.byterate  # (once the frames are read: theirs)
                    for t in titles:
                        rec.title(t.title, rec.seconds_at(t.offset - self._rec_base))
                    rec.write(data)
                if data:
                    self._conn_audio += len(data)
                    self._arrived()
                    with self._pace_lock:
                        self.pace.arrived(len(data))
                    self._judge()
                    self.window.write(data)

        return sink

    def _arrived(self) -> None:
        dropped = self._dropped_at
        if dropped is None:
            return
        self._dropped_at = None
        self.dl.bus.publish(
            StreamGap(
                seconds=self.clock() - dropped,
                reconnects=self._reconnects,
                reason=self._drop_reason,
            )
        )

    def attach_recorder(self, recorder: Recorder) -> None:
        """Record from the start of what is kept (at open: byte 0) and from now on."""
        with self._rec_lock:
            start, kept = self.window.snapshot()
            self._rec_base = start
            with self._lock:
                pending = list(self._titles)
            for t in pending:
                recorder.title(t.title, recorder.seconds_at(max(t.offset - start, 0)))
            recorder.write(kept)
            self.recorder = recorder

    # --- pace ------------------------------------------------------------------------------

    def note_decoded(self, seconds: float) -> None:
        """The player's decoded seconds so far: with the bytes read, the stream's byte rate
        when the station does not say it (and a moment to judge the pace)."""
        self._measured = measured_byterate(self.window.reader, seconds)
        self._judge()

    def _judge(self) -> None:
        window = self.window
        held_back = window.end - window.reader > window.ahead // 2  # our backpressure
        with self._pace_lock:
            change = self.pace.judge(self.byterate or self._measured, held_back=held_back)
        if change is None:
            return
        if change.slow:
            self.dl.bus.publish(
                LoadSlow(
                    request_id=self._request_id,
                    elapsed=change.since_connect,
                    bytes_done=change.bytes_done,
                )
            )
        else:
            self.dl.bus.publish(
                LoadRecovered(
                    request_id=self._request_id, elapsed=change.since_connect, ratio=change.ratio
                )
            )

    # --- titles ------------------------------------------------------------------------------

    def _frame(self, data: bytes) -> None:
        probe = self._probe
        assert probe is not None
        probe += data[: PROBE_BYTES - len(probe)]
        self._framed = frame_byterate(bytes(probe))
        if self._framed is not None or len(probe) >= PROBE_BYTES:
            self._probe = None  # decided (or not MP3/AAC: Ogg, or no run of frames)

    @property
    def byterate(self) -> float | None:
        """Audio bytes per second (the player maps title offsets with it): ``icy-br``'s,
        unless the stream's own frame headers say otherwise (``frame_rate``)."""
        kbps = self.station.bitrate_kbps
        return trusted_byterate(kbps * 125.0 if kbps else None, self._framed)

    def titles_until(self, audio_offset: int) -> list[IcyTitle]:
        """Titles whose audio starts at or before ``audio_offset``, each given out once."""
        with self._lock:
            due = [t for t in self._titles if t.offset <= audio_offset]
            if due:
                self._titles = self._titles[len(due) :]
            return due

    def connection_starts(self) -> list[int]:
        """Where each connection's audio (the last ``MAX_JOINS``) starts: a page or frame cut
        by the drop before it ends there (``ogg_parts`` finds its pages again from there)."""
        with self._lock:
            return list(self._joins)

    # --- reconnecting ------------------------------------------------------------------------

    def _on_complete(self, outcome: FetchOutcome) -> None:
        if self._closed or outcome.state == "cancelled":
            return
        error = outcome.error
        if not self.icy:
            # A body with no length and no ICY answer: its end is the end.
            self.window.finish(error)
            return
        if self._dropped_at is None:
            self._dropped_at = self.clock()
        with self._pace_lock:
            self.pace.connected()  # the gap is a StreamGap, not slowness
        self._drop_reason = str(error) if error is not None else "the server closed the stream"
        steady = STEADY_SECONDS * (self.byterate or STEADY_FALLBACK_RATE)
        if self._conn_audio >= steady:
            self._failures = 0  # it was back: a new run of failures starts
        self._conn_audio = 0
        self._failures += 1
        if error is not None and not error.retryable:
            self.window.finish(error)  # a 404, a full disk under --record: no reconnect helps
            return
        if self._failures > self.max_failures:
            self.window.finish(
                LiveStreamLost(
                    f"live stream lost after {self._failures} attempts: {self._drop_reason}"
                )
            )
            return
        backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self._failures - 1))
        self.dl.bus.publish(
            StreamReconnecting(
                attempt=self._failures,
                max_attempts=self.max_failures,
                backoff=backoff,
                reason=self._drop_reason,
            )
        )
        timer = threading.Timer(backoff, self._reconnect)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def start(self) -> None:
        """Connect (for a recording: the player's first request comes from the file peer)."""
        self._connect(LIVE_LABEL, first=True)

    def _reconnect(self) -> None:
        if self._closed:
            return
        self._reconnects += 1
        self._connect(f"{LIVE_LABEL} (reconnect)", first=False)
        self.dl.bus.publish(Notice(level="info", message="live stream: reconnecting"))

    def _on_first(self, cmd: FetchCmd, info: ResponseInfo) -> None:
        if not is_live(info):
            raise NotLiveError(f"not a live stream (a file with a length): {self.url}")
        self.adopt(cmd, info, self._request_of(cmd))

    def _connect(self, label: str, *, first: bool) -> None:
        cmd = FetchCmd(
            url=self.url,
            sink=lambda _o, _d: None,
            priority=Priority.DEMAND,
            label=label,
            headers=ICY_REQUEST,
            max_attempts=None if first else 1,
            soft_timeout=0,
            cache="none",  # an endless stream: never kept (nor a reconnect's answer)
        )
        if first:
            cmd.on_response = lambda info, c=cmd: self._on_first(c, info)
            cmd.on_complete = self._on_first_complete
        else:
            cmd.on_response = lambda info, c=cmd: self.adopt(c, info, self._request_of(c))
            cmd.on_complete = self._on_complete
        self._handle = self.dl.submit(cmd)

    def _request_of(self, cmd: FetchCmd) -> int:
        handle = self._handle
        return handle.request_id if handle is not None and handle.cmd is cmd else 0

    def _on_first_complete(self, outcome: FetchOutcome) -> None:
        """Before any response: a failure is the stream's (no reconnect to a stream never had)."""
        if outcome.state == "failed" and outcome.error is not None:
            self.window.finish(outcome.error)

    # --- stream.Source ---------------------------------------------------------------------

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        self._judge()  # a stalled stream calls no sink: the waiting reader asks instead
        return self.window.wait_readable(offset, size, timeout)

    def read_at(self, offset: int, size: int) -> bytes:
        return self.window.read_at(offset, size)

    def length(self) -> int | None:
        return None

    def reader_moved(self, offset: int) -> None:
        pass  # nothing to fetch: a live stream is only ever at its edge

    def fetching(self, offset: int) -> bool:
        """``stream.Source.fetching``: until the stream ends or is closed, a connection (its
        first response, its body) or a reconnect after a drop is under way to bring the
        next bytes, and a wait for them is the network's to bound: its inactivity timeout,
        then the reconnects, then LiveStreamLost. A station that goes silent for longer
        than the decoder's hang watchdog allows is a network matter, not a hang."""
        return offset >= self.window.start and self.window.open

    def close(self) -> None:
        self._closed = True
        timer = self._timer
        if timer is not None:
            timer.cancel()
        handle = self._handle
        if handle is not None:
            handle.cancel("shutdown")
        self.window.close()
