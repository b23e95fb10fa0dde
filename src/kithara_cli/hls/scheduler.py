"""The segment scheduler: one way to window, fetch, key and decrypt segments, for fetch
(``writer``) and play (``source``) alike, and the typed messages their loops take.

Each consumer runs one loop thread that owns its ``SegmentWindow`` (what it has submitted,
what is in flight); the downloader's callbacks and the playlist worker only post messages
(``SegmentDone``, ``SegmentsAdded``, ``FeedFailed``, ``Wake``) to that loop's inbox, never
touch its state. How far ahead to fetch is one rule (``window.WindowPolicy``), each consumer
stating its parameters; ``SegmentFetcher.fill`` submits what it allows. What a consumer still
decides itself: which variant serves a segment (fetch: the chosen one; play: the ABR), and
what a failure means (fetch: an error or a gap; play: failover to another variant).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass

from kithara_cli.dl import (
    Downloader,
    FetchCmd,
    FetchHandle,
    FetchOutcome,
    Priority,
    memory_sink,
)
from kithara_cli.errors import DecryptionError, KitharaError
from kithara_cli.hls.keys import KeyStore
from kithara_cli.hls.model import InitSection, Segment
from kithara_cli.hls.playlist import check_key
from kithara_cli.hls.sniff import container_of
from kithara_cli.hls.window import WindowPolicy, WindowView

MAX_SEGMENT_BYTES = 64 * 1024 * 1024
# Live segments gone (404/410) in a row before fetch or play ends with that error: a stream
# whose every segment is missing (URIs that lead nowhere) is not skipped through for ever.
MAX_GONE_IN_A_ROW = 10


@dataclass(frozen=True)
class SegmentDone:
    """A segment's fetch ended (ok, failed or cancelled); ``data`` is its body when ok."""

    index: int  # in the consumer's timeline
    variant: int  # -1: the fetch writer's one variant
    epoch: int  # the run it was fetched for (a seek starts a new one); 0 for fetch
    segment: Segment
    outcome: FetchOutcome
    data: bytearray


@dataclass(frozen=True)
class SegmentsAdded:
    """New live segments from the playlist worker; ``ended``: EXT-X-ENDLIST came."""

    segments: list[Segment]
    ended: bool


@dataclass(frozen=True)
class FeedFailed:
    """The playlist worker gave up (a fatal reload error, a stuck live playlist)."""

    error: KitharaError


@dataclass(frozen=True)
class Wake:
    """Look again now (a seek, playback started): nothing else to say."""


Message = SegmentDone | SegmentsAdded | FeedFailed | Wake


def check_encryption(segment: Segment) -> None:
    """Refuse a segment kithara cannot decrypt (``playlist.check_key``) before its key or
    bytes are asked for."""
    check_key(segment.key)


def decode_segment(keys: KeyStore, segment: Segment, data: bytes | bytearray) -> bytes | bytearray:
    """Decrypt when the segment is AES-128; a wrong key is an error, not output."""
    key = segment.key
    if key is None or key.method == "NONE":
        return data
    check_encryption(segment)
    from kithara_cli.hls.crypto import decrypt_segment, segment_iv  # cryptography: ~20 ms

    key_bytes = keys.get(key)
    try:
        clear = decrypt_segment(data, key_bytes, segment_iv(key, segment.sequence), key.method)
    except DecryptionError as exc:
        raise DecryptionError(f"segment {segment.sequence} ({segment.uri}): {exc}") from None
    if container_of(clear) is None:
        raise DecryptionError(f"segment {segment.sequence} does not decrypt to media: wrong key?")
    return clear


def decode_init(keys: KeyStore, init: InitSection, data: bytes) -> bytes:
    """Decrypt an init section encrypted under the EXT-X-KEY before its EXT-X-MAP (with that
    tag's IV: the parser refuses one without); it must come out as MP4 boxes."""
    key = init.key
    if key is None:
        return data
    from kithara_cli.hls.crypto import decrypt_segment

    assert key.iv is not None  # playlist._init_section refuses a MAP's key without an IV
    try:
        clear = decrypt_segment(data, keys.get(key), key.iv, key.method)
    except DecryptionError as exc:
        raise DecryptionError(f"init section ({init.uri}): {exc}") from None
    if container_of(clear) != "fmp4":
        raise DecryptionError(f"init section {init.uri} does not decrypt to MP4: wrong key?")
    return clear


@dataclass(frozen=True)
class Ask:
    """What a consumer wants fetched for one index of its timeline: this variant's segment,
    with at most ``max_attempts`` attempts (None: the downloader's retry policy)."""

    segment: Segment
    variant: int = -1  # -1: the fetch writer's one variant
    max_attempts: int | None = None

    @property
    def label(self) -> str:
        seq = self.segment.sequence
        return f"segment {seq}" if self.variant < 0 else f"segment {seq} v{self.variant}"


class SegmentWindow:
    """One consumer's window: how far it has submitted (``frontier``) and what is in flight.
    A fetch has one; playback one per run (``epoch``: a seek starts a new one)."""

    def __init__(self, start: int = 0, epoch: int = 0) -> None:
        self.epoch = epoch
        self.frontier = start
        self.in_flight: dict[int, FetchHandle] = {}  # index -> its fetch under way

    def take(self, msg: SegmentDone) -> bool:
        """True when ``msg`` answers the fetch this window has in flight for its index (not
        one of an older run, nor one abandoned or dropped since); it leaves the window."""
        if msg.epoch != self.epoch:
            return False
        current = self.in_flight.get(msg.index)
        if current is None or current.request_id != msg.outcome.request_id:
            return False
        del self.in_flight[msg.index]
        return True

    def drop(self, index: int, reason: str) -> None:
        """Cancel what is in flight for ``index`` (its answer will not be taken)."""
        handle = self.in_flight.pop(index, None)
        if handle is not None:
            handle.cancel(reason)

    def abandon(self, request_id: int) -> int | None:
        """Cancel the fetch ``request_id`` (the ABR found it too slow); its index, to ask again."""
        for index, handle in list(self.in_flight.items()):
            if handle.request_id == request_id:
                del self.in_flight[index]
                handle.cancel("abandon")
                return index
        return None

    def cancel_all(self, reason: str, *, wait: float | None = None) -> None:
        """Cancel everything in flight; ``wait``: then wait up to that long for each to end.
        Safe from another thread (a seek retires a run): it works on a snapshot."""
        handles = list(self.in_flight.values())
        for h in handles:
            h.cancel(reason)
        if wait is None:
            return
        for h in handles:
            try:
                h.result(timeout=wait)
            except Exception:
                pass


class SegmentFetcher:
    """Submits segment fetches to the downloader and posts each outcome to its ``inbox``,
    which the consumer's loop reads (``next_message``).

    Keys are fetched once per URI before their segments land (``keys``); a byterange is
    asked as a Range; a body is collected in memory up to ``MAX_SEGMENT_BYTES``; an init
    section is fetched once. A live stream's segments are not kept in the persistent cache
    (``live``). It is also the ``worker.SegmentFeed`` a live playlist's follower hands new
    segments to: they reach the consumer's loop as messages. ``on_request`` (request id,
    variant) is told of every segment request (playback's ABR measures them).
    """

    def __init__(
        self,
        downloader: Downloader,
        policy: WindowPolicy,
        *,
        live: bool = False,
        on_request: Callable[[int, int], None] | None = None,
    ) -> None:
        self.dl = downloader
        self.bus = downloader.bus
        self.keys = KeyStore(downloader)
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()  # put: C, no Condition
        self.policy = policy
        self.live = live
        self.on_request = on_request
        self._init_cache: dict[InitSection, bytes] = {}

    # --- the inbox ---------------------------------------------------------------------------

    def next_message(self, timeout: float) -> Message | None:
        """The next message for the consumer's loop; None when none came within ``timeout``."""
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def wake(self) -> None:
        """Have the consumer's loop look again now (a seek, playback started)."""
        self.inbox.put(Wake())

    # --- the playlist worker's feed (its thread) --------------------------------------------

    def add_segments(self, segments: list[Segment], ended: bool) -> None:
        self.inbox.put(SegmentsAdded(segments, ended))

    def fail_feed(self, error: KitharaError) -> None:
        self.inbox.put(FeedFailed(error))

    # --- submitting (the consumer's loop thread) ------------------------------------------

    def fill(
        self,
        window: SegmentWindow,
        position: int,
        known: int,
        ask: Callable[[int], Ask],
        *,
        buffered: float = 0.0,
        started: bool = True,
    ) -> None:
        """Submit what the window policy allows past ``position`` (the consumer's first
        segment not yet taken); ``ask`` names the variant and segment of each index, in
        order, as it is submitted. The one at ``position`` goes at demand priority."""
        view = WindowView(
            position, window.frontier, known, len(window.in_flight), buffered, started
        )
        for index in self.policy.to_submit(view):
            self.request(window, index, ask(index), demand=index == position)
            window.frontier = index + 1

    def request(self, window: SegmentWindow, index: int, ask: Ask, *, demand: bool) -> None:
        """Fetch ``ask`` for ``index`` of ``window`` now (a fill, a failover, an abandon).

        Its outcome reaches the inbox as a ``SegmentDone`` whatever it is."""
        segment, variant, epoch = ask.segment, ask.variant, window.epoch
        check_encryption(segment)
        if segment.key is not None and segment.key.method == "AES-128":
            self.keys.get(segment.key)  # fetched once, before its segments land
        start, end = 0, None
        if segment.byterange is not None:
            start, end = segment.byterange[0], segment.byterange[0] + segment.byterange[1]
        sink, buf = memory_sink(segment.uri, MAX_SEGMENT_BYTES, start)
        inbox = self.inbox

        def done(outcome: FetchOutcome) -> None:
            inbox.put(SegmentDone(index, variant, epoch, segment, outcome, buf))

        handle = self.dl.submit(
            FetchCmd(
                url=segment.uri,
                sink=sink,
                start=start,
                end=end,
                priority=Priority.DEMAND if demand else Priority.PREFETCH,
                label=ask.label,
                epoch=epoch,
                on_complete=done,
                max_attempts=ask.max_attempts,
                # A segment's URI names its bytes; a live one is not kept past the run.
                cache="none" if self.live else "immutable",
            )
        )
        window.in_flight[index] = handle
        if self.on_request is not None:
            self.on_request(handle.request_id, variant)

    # --- what lands ---------------------------------------------------------------------------

    def decode(self, segment: Segment, data: bytes | bytearray) -> bytes | bytearray:
        return decode_segment(self.keys, segment, data)

    def init_bytes(self, init: InitSection) -> bytes:
        """An init section's bytes, fetched once (a switch back to a variant reuses them) and
        decrypted when an EXT-X-KEY came before its EXT-X-MAP."""
        cached = self._init_cache.get(init)
        if cached is None:
            check_key(init.key)
            if init.key is not None:
                self.keys.get(init.key)  # a refused key server keeps its exit code
            data, _ = self.dl.fetch_bytes(
                init.uri,
                label="init",
                byterange=init.byterange,
                max_bytes=MAX_SEGMENT_BYTES,
                cache="immutable",
            )
            cached = decode_init(self.keys, init, data)
            self._init_cache[init] = cached
        return cached
