"""The progressive peer for playback: one URL, fetched from wherever the reader is."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kithara_cli.dl import (
    Downloader,
    FetchCmd,
    FetchHandle,
    FetchOutcome,
    Priority,
    ResponseInfo,
    check_identity,
)
from kithara_cli.errors import ServerBusyError
from kithara_cli.events.types import Notice
from kithara_cli.file.body_rate import BodyRate
from kithara_cli.radio.live import ICY_REQUEST, LiveStream, is_icy_answer
from kithara_cli.radio.window import BEHIND
from kithara_cli.storage import ResourceClosed, SparseResource
from kithara_cli.stream import Source

TAIL_PROBE = 256 * 1024  # reads this close to the end are a demuxer's peek, not a seek
# Until the first audio plays, fetch only this much from the start: on loopback a whole file
# arrives at once, and taking in megabytes costs the CPU (one GIL) that PyAV's import and the
# first decode need. 512 KB is ~30 s of 128k MP3 and ~3 s of CD-quality FLAC; a read past it
# before playback starts fetches on demand as usual.
START_UP_BYTES = 512 * 1024
# A body with no length that ignores Range (a file served chunked or close-delimited) is kept
# whole, like any file, up to this; past it, it is taken for endless and goes on in a live
# window. It is fetched at most UNSIZED_AHEAD past the reader (its one request waits).
UNSIZED_CAP = 256 << 20
UNSIZED_AHEAD = 32 << 20
BACKPRESSURE_SLICE = 0.05


class ProgressiveSource(Source):
    """Implements ``stream.Source`` for a single URL, backed by a sparse cache file.

    One open-ended Range request runs from the reader's position; a seek outside what it will
    soon deliver cancels it (reason ``epoch``) and starts a new one at demand priority. When a
    request reaches the end, the holes left by earlier seeks are filled at prefetch priority.
    Every request after the first is pinned to the first response's identity: bytes of
    another version fail playback (RemoteChangedError) rather than play spliced. A server
    that answers a Range with a 200 gets that one request, read to its end: another would start
    at byte 0 again (mpv and ffmpeg read forward on a stream they cannot seek).

    A body with no length that ignores Range and is not ICY (a file served chunked or
    close-delimited) is *unsized*: its one request is read to its end (paced to stay within
    ``unsized_ahead`` of the reader) and kept, so seeking back works, forward waits, and the
    length is known at its end. Past ``unsized_cap`` it is taken for endless: it goes on in a
    ``LiveStream`` window (a Notice says so), the kept bytes are read to their end and
    dropped, and no seek goes back. Only an ICY answer is live from its first byte.

    Two side requests in a row turned away busy (429/5xx) beside another show a server that
    grants one connection per client (nginx ``limit_conn 1``; one alone may be a CDN's blip):
    from then on a read that waits for bytes no request brings moves the one request there,
    as mpv and ffmpeg do (closing the first connection and reopening at the offset); a mere
    peek waits for it to be free.
    """

    def __init__(
        self,
        downloader: Downloader,
        url: str,
        cache_path: Path,
        *,
        first_attempts: int | None = None,
        unsized_cap: int = UNSIZED_CAP,
        unsized_ahead: int = UNSIZED_AHEAD,
    ) -> None:
        self.dl = downloader
        self.first_attempts = first_attempts  # a mirror with others behind it: give up sooner
        self.url = url
        self.resource = SparseResource(cache_path)
        self.info: ResponseInfo | None = None
        self._lock = threading.Lock()
        self._epoch = 0
        self._handle: FetchHandle | None = None
        self._stream_start = 0
        self._frontier = 0  # next byte the running request will write
        self._arrival = BodyRate()  # how far past the frontier a read waits (``body_rate``)
        self._running = False
        self._closed = False
        self._reader_pos = 0
        self.first_response = threading.Event()
        self._side: set[tuple[int, int]] = set()
        self._side_handles: dict[tuple[int, int], FetchHandle] = {}
        self._single = False  # side requests turned away busy: one connection at a time
        self._refused = 0  # side requests turned away busy beside another since one was served
        self._started = False  # playback started: prefetch the rest of the file
        self._held = False  # the start-up request ended before playback started
        self.live: LiveStream | None = None  # the first response showed an endless stream
        self.unsized_cap = unsized_cap
        self.unsized_ahead = unsized_ahead
        self.unsized = False  # no length, no Range, not ICY: one request, kept (the class doc)
        self.one_stream = False  # a 200 to a Range: that request brings every byte (unsized too)
        self._live_from: int | None = None  # an unsized body past its cap: live from here
        self._live_sink: Callable[[int, bytes], None] | None = None
        self._kept_dropped = False  # the bytes below ``_live_from`` are gone
        self.audio_start = 0  # where the audio begins, past a leading ID3 tag (play.opening)

    @property
    def sequential(self) -> bool:
        """A live stream is read front to back (known once ``first_response`` is set)."""
        return self.live is not None

    # --- stream.Source ---------------------------------------------------------------------

    def _in_live(self, offset: int) -> LiveStream | None:
        """The live stream that serves ``offset`` (None: the cache file does)."""
        live, since = self.live, self._live_from
        if live is None or (since is not None and offset < since and not self._kept_dropped):
            return None
        if since is not None and offset >= since + BEHIND and not self._kept_dropped:
            self._kept_dropped = True  # read past them: free the disk (no seeking back)
            self.resource.close()
            with contextlib.suppress(OSError):
                self.resource.path.unlink()
        return live

    def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
        live = self._in_live(offset)
        if live is not None:
            return live.wait_readable(offset, size, timeout)
        total = self.resource.total
        if total is not None and offset >= total:
            return 0
        self._reader_pos = offset
        if not self.resource.contains(offset, offset + 1):
            self._ensure_fetching(offset)
        if not self.resource.wait_range(offset, offset + 1, timeout):
            return -1
        total = self.resource.total
        if total is not None and offset >= total:
            return 0
        return min(size, self.resource.available_from(offset) - offset)

    def read_at(self, offset: int, size: int) -> bytes:
        live = self._in_live(offset)
        if live is not None:
            return live.read_at(offset, size)
        return self.resource.read_at(offset, size)

    def length(self) -> int | None:
        return self.resource.total

    def reader_moved(self, offset: int) -> None:
        if self.live is not None:
            return
        self._reader_pos = offset
        total = self.resource.total
        if (total is None or offset < total) and not self.resource.contains(offset, offset + 1):
            self._ensure_fetching(offset)

    # --- fetching ----------------------------------------------------------------------------

    def start(self, offset: int = 0) -> None:
        self._open(offset, Priority.DEMAND, limit=START_UP_BYTES)

    def playback_started(self) -> None:
        """Lift the start-up limit: fetch the rest of the file."""
        with self._lock:
            self._started = True
            held, self._held = self._held, False
        if held:
            self._fill_gaps()

    @property
    def read_position(self) -> int:
        """Where the reader last asked for bytes (with the seconds decoded: a byte rate)."""
        return self._reader_pos

    def available_ahead(self, offset: int) -> int:
        """How many bytes from ``offset`` on are already in the cache (the buffer gauge)."""
        return max(0, self.resource.available_from(offset) - offset)

    def wait_length(self, timeout: float = 30.0) -> int | None:
        """The length once the first response tells it (demuxers ask for it to seek by byte)."""
        self.first_response.wait(timeout)
        return self.resource.total

    def _ensure_fetching(self, offset: int) -> None:
        with self._lock:
            if self._closed or self.live is not None:
                return
            if self._running and self._brings(offset):
                return
            if self._running and self.one_stream:
                return  # its one request brings every byte in order: the reader waits
            if any(a <= offset < b for a, b in self._side):
                return  # a side request brings it (an MP4's index past its audio, read aside)
            if self._running and self.info is None:
                return  # no length yet: a request past the end is a 416; the first response
                # tells (the reader's next wait asks again, or ends there)
            info = self.info
            if (
                self._running
                and info is not None
                and not info.range_honoured
                and not info.identity.known
            ):
                return  # one unverifiable stream from byte 0: a second could not be checked
            total = self.resource.total
            aside = self._running and not self._single  # one connection: it moves (class doc)
            if aside and total is not None and total - offset <= TAIL_PROBE:
                # A demuxer peeking at the end (ID3v1, an MP4 index, Ogg's last page) gets a
                # side request; the stream from the reader's position keeps going.
                self._submit_side(offset, total)
                return
        self._open(offset, Priority.DEMAND)

    def peek_ready(self, offset: int, size: int, urgent: bool = False) -> bool:
        """``stream.Source.peek_ready``: present, or fetched aside (never by moving the
        running request, which serves the reader). Unless ``urgent``, no side request when
        the running request brings the bytes soon (``_brings``: a small file's tail comes)."""
        total = self.resource.total
        if self.live is not None or total is None:
            return True  # no length: no tail to peek at (a read says so at once)
        end = min(offset + size, total)
        if offset >= end or self.resource.contains(offset, end):
            return True
        with self._lock:
            if self._closed:
                return True
            near = self._brings(offset)
            if self._running and near and (not urgent or self._single):
                return False
            if self._running and self.one_stream:
                return False  # another request would start at byte 0 too: this one brings it
            info = self.info
            if info is None or (not info.range_honoured and not info.identity.known):
                return False  # no second request could be checked: the first brings it
            if not (self._single and (self._running or self._side)):
                self._submit_side(offset, total)
                return False
            if not urgent:
                return False  # one connection, in use: asked again when it is free
        self._open(offset, Priority.DEMAND)  # a read waits next: the one request moves
        return False

    def read_aside(self, offset: int, size: int) -> bytes:
        if self.live is not None:
            return b""  # a live window is read front to back, by its reader alone
        return self.resource.read_at(offset, size)  # present bytes only

    def fetching(self, offset: int) -> bool:
        """``stream.Source.fetching``: the running request (or a side one) is to bring
        ``offset``; its timeouts and retries bound the wait (a stalled server is theirs).
        Once live: the live stream's answer (its connection, or a reconnect under way)."""
        live, since = self.live, self._live_from
        if live is not None and (since is None or offset >= since or self._kept_dropped):
            return not self._closed and live.fetching(offset)  # its connection or reconnect
        with self._lock:
            if self._closed or self.live is not None:
                return False
            if self._running and (self.one_stream or self._brings(offset)):
                return True
            return any(a <= offset < b for a, b in self._side)

    def skip_aside(self, start: int, end: int) -> None:
        """The side request bringing ``start`` stops there and goes on from ``end``: the bytes
        between (an MP4's pictures, past its audio) come later, with the other holes. With
        one connection (the one request moved to ``start``), that request moves on."""
        with self._lock:
            span = next(((a, b) for a, b in self._side if a <= start < b), None)
            near = self._brings(start)
            if self._closed or (span is None and not (self._single and self._running and near)):
                return
            if span is not None:
                self._side.discard(span)
                self._side_handles.pop(span).cancel("epoch")
                if end < span[1]:
                    self._submit_side(end, span[1])
                return
        self._open(end, Priority.DEMAND)  # one connection: the one request, moved here

    def _brings(self, offset: int) -> bool:
        """The running body (if any runs) reaches ``offset`` soon enough to wait for it."""
        return self._stream_start <= offset <= self._frontier + self._arrival.near()

    def _submit_side(self, offset: int, total: int) -> None:
        """A request for ``[offset, total)`` beside the running one (under ``_lock``)."""
        if any(a <= offset < b for a, b in self._side):
            return
        beside = self._running or bool(self._side)  # busy then: one connection, perhaps
        self._side.add((offset, total))
        self._side_handles[(offset, total)] = self.dl.submit(
            FetchCmd(
                url=self.url,
                sink=self._side_sink,
                start=offset,
                end=total,
                priority=Priority.DEMAND,
                label=f"bytes {offset}-{total - 1}",
                identity=self.info.identity if self.info is not None else None,
                on_change="fail",
                on_busy="fail" if beside else "wait" if self._single else "retry",
                on_response=self._check_version,
                on_complete=functools.partial(self._side_done_at, (offset, total)),
            )
        )

    def _side_sink(self, offset: int, data: bytes) -> None:
        self.resource.write_at(offset, data)

    def _side_done_at(self, span: tuple[int, int], outcome: FetchOutcome) -> None:
        self._side_done(outcome, span)

    def _on_complete_in(self, epoch: int, outcome: FetchOutcome) -> None:
        self._on_complete(outcome, epoch)

    def _side_done(self, outcome: FetchOutcome, span: tuple[int, int]) -> None:
        with self._lock:
            self._side.discard(span)
            handle = self._side_handles.pop(span, None)
            beside = handle is not None and handle.cmd.on_busy == "fail"
            # A server that caps connections per client (503/429 to a second one) while
            # another request serves: not the stream's failure; the bytes are asked again.
            busy = isinstance(outcome.error, ServerBusyError) and (beside or self._running)
            if beside and (busy or outcome.state == "ok"):
                self._refused = self._refused + 1 if busy else 0
            self._single = self._single or (busy and beside and self._refused >= 2)
        if outcome.state == "failed" and not busy:
            assert outcome.error is not None
            self.resource.fail(outcome.error)

    def _open(self, offset: int, priority: Priority, limit: int | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            old = self._handle
            self._epoch += 1
            epoch = self._epoch
            end: int | None = None
            total = self.resource.total
            if total is not None:
                gaps = self.resource.gaps(offset, total)
                if not gaps:
                    self._running = False
                    return
                offset, end = gaps[0]
                limit = None
            last = end if limit is None else offset + limit
            self._stream_start = offset
            self._frontier = offset
            self._arrival.restart()
            self._running = True
            self._held = False  # a request runs again: playback's start need not restart it
            cmd = FetchCmd(
                url=self.url,
                sink=self._sink,
                start=offset,
                end=end,
                priority=priority,
                limit=limit,  # the start-up cap: a file shorter than it is no error
                label=f"bytes {offset}-" if last is None else f"bytes {offset}-{last - 1}",
                epoch=epoch,
                headers=_first_headers(offset, last, first=self.info is None),
                max_attempts=self.first_attempts if self.info is None else None,
                identity=self.info.identity if self.info is not None else None,
                on_change="fail",
                on_busy="wait" if self._single else "retry",  # (a connection just closed)
                on_complete=functools.partial(self._on_complete_in, epoch),
            )
            cmd.on_response = lambda info, c=cmd: self._on_response(info, c)
            self._handle = self.dl.submit(cmd)
        if old is not None:
            old.cancel("epoch")

    def _sink(self, offset: int, data: bytes) -> None:
        if self.unsized:
            self._unsized_sink(offset, data)
            return
        self.resource.write_at(offset, data)
        self._frontier = offset + len(data)
        self._arrival.arrived(len(data))

    def _unsized_sink(self, offset: int, data: bytes) -> None:
        """Runs on the downloader's thread, which is this body's alone (no other request)."""
        if self._live_sink is None:
            keep = max(0, min(len(data), self.unsized_cap - offset))
            if keep:
                while not self._closed and offset - self._reader_pos > self.unsized_ahead:
                    time.sleep(BACKPRESSURE_SLICE)  # as a live window's writer waits
                if self._closed:
                    raise ResourceClosed("source closed")
                self.resource.write_at(offset, data[:keep])
                self._frontier = offset + keep
            if keep == len(data):
                return
            offset, data = offset + keep, data[keep:]
            self._live_sink = self._go_live(offset)
        self._live_sink(offset, data)

    def _go_live(self, offset: int) -> Callable[[int, bytes], None]:
        live = LiveStream(self.dl, self.url)
        sink = live.continue_body(offset)
        with self._lock:
            self._live_from = offset
            self.live = live
        if self._handle is not None:
            live.rename(self._handle.cmd, self._handle.request_id)
            self._handle.cmd.cache = "none"  # live: the persistent cache drops what it kept
        text = f"no length and past {self.unsized_cap >> 20} MiB: taken as a live stream (no seeking back)"
        self.dl.bus.publish(Notice(level="warning", message=text))
        return sink

    def _check_version(self, info: ResponseInfo) -> None:
        if self.info is not None and self.info is not info:
            check_identity(self.info.identity, info.identity, self.url)

    def _on_response(self, info: ResponseInfo, cmd: FetchCmd) -> None:
        if self.info is None and cmd.start == 0 and is_icy_answer(info):
            # An endless stream: its own peer takes this response over (no Range, no cap).
            self.info = info
            live = LiveStream(self.dl, self.url)
            handle = self._handle
            live.adopt(cmd, info, handle.request_id if handle is not None else 0, rename=True)
            with self._lock:
                self.live = live
                self._running = False
            self.first_response.set()
            return
        self._check_version(info)
        if self.info is None:
            self.info = info
        if not info.range_honoured and cmd.start == 0 and info.total_size is None:
            self.unsized = info.encoding is None  # a gzip body has no length either
        if not info.range_honoured and cmd.start == 0:
            # A 200 to a Range: any other request (a seek, a tail peek, the rest after the
            # start-up cap) would start at byte 0 too; this one is read on and serves all.
            self.one_stream = True
            cmd.limit = None
        if info.total_size is not None and self.resource.total is None:
            self.resource.set_total(info.total_size)
        self.first_response.set()

    def _on_complete(self, outcome: FetchOutcome, epoch: int) -> None:
        if outcome.state == "cancelled":
            if epoch == self._epoch:  # (shut down: no response is coming to wait for)
                self.first_response.set()
            return
        if self._live_from is not None and self.live is not None:
            self.live.body_ended(outcome)  # an unsized body past its cap ended
            return
        if outcome.state == "failed":
            assert outcome.error is not None
            if epoch == self._epoch:
                self.resource.fail(outcome.error)
                self.first_response.set()
            return
        if self.resource.total is None and outcome.resource_end is not None:
            self.resource.set_total(outcome.resource_end)  # a body without a length ended
        with self._lock:
            if epoch != self._epoch:
                return
            self._running = False
            if not self._started:
                self._held = True  # the rest waits for playback (``playback_started``)
                return
        self._fill_gaps()

    def _fill_gaps(self) -> None:
        """Fetch what is missing: from the reader's position first, then the start."""
        total = self.resource.total
        if total is None:
            return
        gaps = self.resource.gaps(0, total)
        if gaps:
            after = [g for g in gaps if g[1] > self._reader_pos]
            start = (after or gaps)[0][0]
            self._open(max(start, self._reader_pos) if after else start, Priority.PREFETCH)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            handle = self._handle
        if self.live is not None:
            self.live.close()
        if handle is not None:
            handle.cancel("shutdown")
        self.resource.close()
        with contextlib.suppress(OSError):
            self.resource.path.unlink()


def _first_headers(offset: int, last: int | None, *, first: bool) -> dict[str, str] | None:
    """The first request asks for ICY titles (a file server ignores it); ``bytes=0-`` learns
    whether Range works when nothing else would ask it."""
    headers = dict(ICY_REQUEST) if first and offset == 0 else {}
    if offset == 0 and last is None:
        headers["Range"] = "bytes=0-"
    return headers or None
