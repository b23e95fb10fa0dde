"""``kithara fetch`` for a progressive file: parallel ranged parts, resumable, atomic."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kithara_cli import interrupt
from kithara_cli.dl import (
    Downloader,
    FetchCmd,
    FetchOutcome,
    Identity,
    Priority,
    ResponseInfo,
)
from kithara_cli.errors import (
    Cancelled,
    HttpStatusError,
    KitharaError,
    OutputError,
    RemoteChangedError,
    UnsupportedError,
    UsageError,
)
from kithara_cli.events.types import FetchProgress, Notice
from kithara_cli.file.busy_parts import BusyParts
from kithara_cli.file.sizes import format_size
from kithara_cli.file.state import (
    ResumeState,
    load_state,
    part_holds,
    part_paths,
    remove_quietly,
    save_state,
)
from kithara_cli.radio.icy import is_icy_answer_headers
from kithara_cli.radio.links import (
    StationLinkServed,
    holds_playlist,
    is_link_type,
    max_link_bytes,
    may_be_link,
    media_type,
)
from kithara_cli.radio.live import ICY_REQUEST, LiveStream, LiveStreamFound
from kithara_cli.storage import RangeSet, SparseResource

MIN_PART = 1 << 20  # smaller parts cost more in requests than they gain
# A body with no length is read to its end, but not past this without --max-size: beyond it,
# it is taken for an endless stream (a radio mount) rather than a file.
UNKNOWN_LENGTH_LIMIT = 2 << 30
PAGE_TYPES = ("text/html", "application/xhtml+xml")  # a portal's or a station's home page


class SizeLimitError(UsageError):
    """The body is larger than --max-size, or has no length and no end in sight."""


@dataclass(frozen=True)
class FetchResult:
    path: Path
    bytes: int
    downloaded: int  # bytes that came over the network in this run
    resumed_from: int
    seconds: float


def check_output(out: Path, force: bool) -> None:
    """Refuse early: an existing --out (without --force), a missing or unwritable folder."""
    if out.exists() and out.is_dir():
        raise OutputError(f"{out} is a directory")
    if out.exists() and not force:
        raise OutputError(f"{out} already exists (use --force to overwrite)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write {out}: folder {parent} is not writable")


def split_gaps(gaps: list[tuple[int, int]], parts: int) -> list[tuple[int, int]]:
    """Cut missing ranges into about ``parts`` x 2 pieces: a fast connection can take a second
    piece, while each new request (an RTT and a rate ramp) stays rare. Measured on 24 MB at
    2 MB/s per connection: x2 3.43 s, x1 3.54 s, x8 3.64 s."""
    missing = sum(b - a for a, b in gaps)
    if missing == 0:
        return []
    size = max(MIN_PART, -(-missing // (parts * 2)))
    out: list[tuple[int, int]] = []
    for a, b in gaps:
        while a < b:
            out.append((a, min(b, a + size)))
            a += size
    return out


class ProgressiveFetch:
    """One download of one URL into ``out``; run() blocks until done, failed or interrupted."""

    def __init__(
        self,
        downloader: Downloader,
        url: str,
        out: Path,
        *,
        connections: int = 4,
        state_interval: float = 0.25,
        max_size: int | None = None,
        unknown_length_limit: int = UNKNOWN_LENGTH_LIMIT,
        follow_links: bool = True,
        audio_only: bool = False,
    ) -> None:
        """``follow_links``: stop at a station link's (or plain XML's) Content-Type, for the
        command to read it as a link (``StationLinkServed``); False saves it as any file."""
        self.dl = downloader
        self.audio_only = audio_only  # a station link's entry: a web page is a dead mirror
        self.bus = downloader.bus
        self.url = url
        self.out = out
        self.connections = max(1, connections)
        self.state_interval = state_interval
        self.part, self.state_path = part_paths(out)
        self.max_size = max_size
        self.unknown_length_limit = unknown_length_limit
        self.follow_links = follow_links
        self._capped = False  # stopped at --max-size, the body going on
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._busy = BusyParts()  # parts the server turned away as busy, asked again later
        self._handles: list = []
        self._error: KitharaError | None = None
        self._all_done = threading.Event()
        self._resource: SparseResource | None = None
        self._state: ResumeState | None = None
        self._network_bytes = 0
        self._write_failed = False  # the .part could not take more (disk full, size limit)
        self._save_lock = threading.Lock()

    # --- public ---------------------------------------------------------------------------

    def run(self) -> FetchResult:
        started = time.monotonic()
        try:
            return self._run_once(started)
        except RemoteChangedError:
            self.bus.publish(Notice(level="warning", message="remote file changed: starting over"))
            remove_quietly(self.part, self.state_path)
            if self.dl.cache is not None:
                # The parts the change cut short recorded their bytes of the old version as
                # they ended (after the cache dropped it): drop them too, or the new start
                # would be served them.
                self.dl.cache.forget(self.url)
            return self._run_once(started)

    # --- internals ------------------------------------------------------------------------

    def _run_once(self, started: float) -> FetchResult:
        state = load_state(self.state_path) if self.part.exists() else None
        if state is not None and (
            not state.belongs_to(self.url) or not part_holds(self.part, state)
        ):
            state = None
        if state is None:
            remove_quietly(self.part, self.state_path)
            state = ResumeState(url=self.url)
        if state.ranges and not state.identity().known:
            # Bytes on disk of a version nothing can identify: no resuming onto them.
            remove_quietly(self.part, self.state_path)
            state = ResumeState(url=self.url)
        ranges = RangeSet((a, b) for a, b in state.ranges)
        resumed_from = ranges.total()
        self._state = state
        self._error = None
        self._busy = BusyParts()
        self._write_failed = False
        self._all_done.clear()
        resource = SparseResource(self.part, total=state.total, ranges=ranges)
        self._resource = resource
        if resumed_from:
            self.bus.publish(
                Notice(level="info", message=f"resuming: {resumed_from} bytes already on disk")
            )
        saver = threading.Thread(target=self._save_loop, name="kithara-state", daemon=True)
        saver.start()
        try:
            self._start_first(resource, state)
            self._wait()
            if self._error is not None:
                raise self._error
            total = resource.total
            if self._capped:
                self.bus.publish(
                    Notice(level="info", message=f"stopped at --max-size ({total} bytes)")
                )
            if total is None or not resource.is_complete():
                raise OutputError(f"download incomplete: {self.url}")
            resource.truncate(total)
            if self.follow_links and holds_playlist(resource.read_at, total):
                # HLS or a station link under a plain name, its type no link's (the RFC's
                # own application/vnd.apple.mpegurl, text/plain, octet-stream): the command
                # reads it as one (``StationLinkServed``), as play and FFmpeg do by content,
                # instead of saving the playlist's text as the audio.
                raise StationLinkServed(f"a playlist: {self.url}")
            # Stop the state saver first: a save that checked for .part just before the rename
            # would write FILE.kithara.json after it was removed, beside a finished file.
            self._all_done.set()
            saver.join(timeout=2)
            resource.close()
            os.replace(self.part, self.out)
            remove_quietly(self.state_path)
            return FetchResult(
                self.out, total, self._network_bytes, resumed_from, time.monotonic() - started
            )
        except KeyboardInterrupt:
            self._cancel_all("user")
            if self._resumable(resource):
                raise Cancelled.part_kept(self.part) from None
            had_bytes = resource.bytes_present() > 0
            self._drop_partial(resource)
            if not had_bytes:
                raise Cancelled("interrupted") from None
            raise Cancelled(
                "interrupted: nothing kept (the server gives no length, ETag or "
                "Last-Modified to resume by)"
            ) from None
        except BaseException as exc:
            self._cancel_all("peer")
            fatal = isinstance(exc, KitharaError) and not exc.retryable
            if self._write_failed and isinstance(exc, OutputError) and self._resumable(resource):
                # A full disk or a file-size limit: every byte recorded was written whole, so
                # the .part and its state stay beside --out (as curl -C -, wget -c and aria2
                # keep theirs) for the same command to resume once there is room.
                kept = resource.bytes_present()
                raise OutputError(
                    f"{exc} (kept {kept} bytes in {self.part.name}: free some space "
                    "and run the same command to resume)"
                ) from exc
            if isinstance(exc, HttpStatusError) and self._resumable(resource):
                # A 403/404 after bytes came (a CDN's hiccup, a rate limit, a resume met by
                # one): kept, as curl -C - and wget -c keep theirs; a later run checks them.
                note = f"kept {resource.bytes_present()} bytes in {self.part.name}"
                raise HttpStatusError(
                    f"{exc} ({note}: run the same command to resume)", exc.status
                ) from exc
            if fatal or not self._resumable(resource):
                # Nothing to resume from a 404, a bad URL, an empty start, or bytes of a
                # version nothing identifies (a later run would throw them away).
                self._drop_partial(resource)
            raise
        finally:
            self._all_done.set()
            saver.join(timeout=2)
            self._save_state_now()
            resource.close()

    def _start_first(self, resource: SparseResource, state: ResumeState) -> None:
        """The first request probes size, Range support and validators, then fans out."""
        if state.total is not None:
            gaps = resource.gaps(0, state.total)
            if not gaps:
                self._all_done.set()
                return
            first_start, first_end = gaps[0]
        else:
            first_start, first_end = 0, None
        pinned = state.identity() if state.ranges else None

        def on_response(info: ResponseInfo) -> None:
            self._on_first_response(info, cmd)

        cmd = FetchCmd(
            url=self.url,
            sink=self._sink,
            start=first_start,
            end=first_end,
            priority=Priority.DEMAND,
            label="probe" if first_start == 0 else f"bytes {first_start}-",
            # From byte 0 it asks for ICY titles too (a file server ignores it): a station's
            # answer is then recorded from this connection with its titles (``LiveStream``).
            headers={"Range": "bytes=0-", **ICY_REQUEST}
            if first_start == 0 and first_end is None
            else None,
            identity=pinned,
            # Resuming onto bytes on disk: another version must start over, not restart
            # this request alone. Fresh: a lone stream may rewrite itself from a new 200.
            on_change="fail" if pinned is not None else "restart",
            on_response=on_response,
        )
        self._submit(cmd)

    def _on_first_response(self, info: ResponseInfo, cmd: FetchCmd) -> None:
        state = self._state
        resource = self._resource
        assert state is not None and resource is not None
        if state.ranges and not state.same_remote(info.total_size, info.etag, info.last_modified):
            raise RemoteChangedError(f"remote file changed: {self.url}")
        # (ICY blocks interleaved: a stream, whatever length it claims; never saved raw)
        if is_icy_answer_headers(info.icy) and (
            info.total_size is None or "icy-metaint" in info.icy
        ):
            self._hand_over_live(cmd, info)  # recorded, not downloaded
            return
        small = info.total_size is None or info.total_size <= max_link_bytes(info.content_type)
        if self.follow_links and not state.ranges and small and may_be_link(info.content_type):
            maybe = not is_link_type(info.content_type)  # plain XML: a feed, or just a file
            raise StationLinkServed(f"a station link: {self.url}", maybe=maybe)
        page = media_type(info.content_type)
        if self.audio_only and page in PAGE_TYPES:
            raise UnsupportedError(f"not audio: {self.url} is a web page ({page})")
        state.etag, state.last_modified = info.etag, info.last_modified
        total = info.total_size
        if total is not None:
            if self.max_size is not None and total > self.max_size:
                raise SizeLimitError(
                    f"the file is {total} bytes, more than --max-size {self.max_size}"
                )
            state.total = total
            resource.set_total(total)
        # The state on disk before the bytes: should they fill the disk, the state is
        # rewritten in place (``save_state``), not lost for want of room for a new file.
        self._save_state_now()
        if not info.range_honoured or total is None:
            if cmd.start > 0:
                # The whole object came back (a 200): its one stream rewrites from here on.
                self.bus.publish(Notice(level="info", message="server ignores Range"))
            if total is None:
                # No length: read to the end, but not for ever.
                limit = self.max_size if self.max_size is not None else self.unknown_length_limit
                cmd.limit = limit
            else:
                cmd.end = total
            return  # one stream, to the end
        cmd.on_change = "fail"  # other requests share the file: a change restarts it all
        gaps = resource.gaps(cmd.start, total)
        if not gaps:
            return
        # Keep the first part for this connection; hand the rest to the others.
        pieces = split_gaps(gaps, self.connections) if self.connections > 1 else []
        if len(pieces) <= 1:
            cmd.end = gaps[0][1]
            rest = gaps[1:]
            pieces = list(rest)
        else:
            cmd.end = pieces[0][1]
            pieces = pieces[1:]
        for a, b in pieces:
            self._submit_part(a, b, info.identity)

    def _submit_part(self, a: int, b: int, identity: Identity | None) -> None:
        part = FetchCmd(self.url, self._sink, a, b, label=f"bytes {a}-{b - 1}", identity=identity)
        part.on_change = "fail"  # (a PREFETCH, the default priority)
        self._submit(part)

    def _hand_over_live(self, cmd: FetchCmd, info: ResponseInfo) -> None:
        """An Icecast/SHOUTcast answer: a ``LiveStream`` takes this very response over (its
        body, reconnects) and the run ends with ``LiveStreamFound`` carrying it, for the
        command to record from. No second connection: a station at its listener limit would
        refuse it (Icecast's 403, SHOUTcast's ICY 401)."""
        with self._lock:
            handle = next((h for h in self._handles if h.cmd is cmd), None)
            live = LiveStream(self.dl, self.url)
            rid = handle.request_id if handle is not None else 0
            live.adopt(cmd, info, rid, handle, rename=True)
            if handle is not None:  # the stream's now: not cancelled with the download
                self._handles.remove(handle)
                self._pending.discard(handle.request_id)
            if self._error is None:
                self._error = LiveStreamFound(f"a radio stream: {self.url}", live)
            else:
                live.close()
            self._all_done.set()

    def _submit(self, cmd: FetchCmd) -> None:
        cmd.on_complete = self._on_complete
        with self._lock:
            handle = self.dl.submit(cmd)
            self._pending.add(handle.request_id)
            self._handles.append(handle)

    def _sink(self, offset: int, data: bytes) -> None:
        assert self._resource is not None
        try:
            self._resource.write_at(offset, data)
        except OutputError:
            self._write_failed = True  # what was written before stays good: keep it
            raise
        self._network_bytes += len(data)

    def _on_complete(self, outcome: FetchOutcome) -> None:
        resource = self._resource
        if outcome.state == "ok" and resource is not None and resource.total is None:
            self._learn_length(outcome, resource)  # before anyone is told it is done
        again: list[tuple[int, int, Identity | None]] = []
        with self._lock:
            self._pending.discard(outcome.request_id)
            if outcome.state == "failed" and self._error is None:
                cmds = {h.request_id: h.cmd for h in self._handles}
                cmd = cmds.get(outcome.request_id)
                if cmd is None or not self._busy.put_off(cmd, outcome.error, bool(self._pending)):
                    self._error = outcome.error
            if outcome.ok and self._error is None and resource is not None:
                again = self._busy.next_gaps(resource)  # a connection is free
            if not again and not self._pending and self._busy and self._error is None:
                self._error = self._busy.error
            if self._error is not None or not (self._pending or again):
                self._all_done.set()
        for a, b, identity in again:
            self._submit_part(a, b, identity)
        if self._error is not None:
            self._cancel_all("peer", wait=False)  # on the loop thread: never wait here

    def _learn_length(self, outcome: FetchOutcome, resource: SparseResource) -> None:
        """A body without a length has ended: at its end, or at the size limit."""
        end = outcome.resource_end
        if end is None:
            if self.max_size is not None:
                end = self.max_size
                self._capped = True
            else:
                with self._lock:
                    if self._error is None:
                        self._error = SizeLimitError(
                            "no length from the server and more than "
                            f"{format_size(self.unknown_length_limit)} so far: an endless "
                            "stream? Give --max-size SIZE (or --duration for live HLS)"
                        )
                    self._all_done.set()
                return
        resource.set_total(end)
        if self._state is not None:
            self._state.total = end

    def _resumable(self, resource: SparseResource) -> bool:
        """Bytes on disk that a later run may resume onto (see ``_run_once``)."""
        state = self._state
        return resource.bytes_present() > 0 and state is not None and state.identity().known

    def _drop_partial(self, resource: SparseResource) -> None:
        resource.close()
        remove_quietly(self.part, self.state_path)
        self._state = None

    def _wait(self) -> None:
        resource = self._resource
        assert resource is not None
        while not self._all_done.wait(0.1):
            interrupt.check()
            self.bus.publish(
                FetchProgress(bytes_done=resource.bytes_present(), bytes_total=resource.total)
            )
        self.bus.publish(
            FetchProgress(bytes_done=resource.bytes_present(), bytes_total=resource.total)
        )

    def _cancel_all(self, reason: str, *, wait: bool = True) -> None:
        with self._lock:
            handles = list(self._handles)
        for h in handles:
            h.cancel(reason)
        deadline = time.monotonic() + 5
        for h in handles if wait else ():
            try:
                h.result(timeout=max(0.01, deadline - time.monotonic()))
            except Exception:
                pass

    def _save_loop(self) -> None:
        while not self._all_done.wait(self.state_interval):
            self._save_state_now()

    def _save_state_now(self) -> None:
        state, resource = self._state, self._resource
        if state is None or resource is None or not self.part.exists():
            return
        with self._save_lock:  # the saver thread, and the first response on the loop's
            state.ranges = resource.ranges_snapshot()
            try:
                save_state(self.state_path, state)
            except OSError:
                pass  # a full disk shows up on the data write, with a better message
