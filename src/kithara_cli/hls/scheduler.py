"""The segment scheduler's shared core: one way to fetch, key and decrypt a segment, for fetch
(``writer``) and play (``source``) alike, and the typed messages their loops take.

Each consumer runs one loop thread that owns its window; the downloader's callbacks and the
playlist worker only post messages (``SegmentDone``, ``SegmentsAdded``, ``FeedFailed``,
``Wake``) to that loop's inbox, never touch its state. What a consumer decides itself:
how far ahead to fetch (fetch: a fixed window; play: the ABR's buffer target) and which
variant serves a segment (fetch: the chosen one; play: the ABR, with failover).
"""

from __future__ import annotations

import queue
from dataclasses import dataclass

from kithara_cli.dl import (
    CachePolicy,
    Downloader,
    FetchCmd,
    FetchHandle,
    FetchOutcome,
    Priority,
    memory_sink,
)
from kithara_cli.errors import DecryptionError, KitharaError, UnsupportedError
from kithara_cli.hls.keys import KeyStore
from kithara_cli.hls.model import DECRYPTABLE, InitSection, Segment
from kithara_cli.hls.sniff import container_of

MAX_SEGMENT_BYTES = 64 * 1024 * 1024


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
    key = segment.key
    if key is not None and key.method != "NONE" and key.method not in DECRYPTABLE:
        raise UnsupportedError(f"encryption method {key.method} is not supported")


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


class SegmentFetcher:
    """Submits segment fetches to the downloader and posts each outcome to ``inbox``.

    Keys are fetched once per URI before their segments land (``keys``); a byterange is
    asked as a Range; a body is collected in memory up to ``MAX_SEGMENT_BYTES``.
    """

    def __init__(self, downloader: Downloader, inbox: queue.SimpleQueue[Message]) -> None:
        self.dl = downloader
        self.keys = KeyStore(downloader)
        self.inbox = inbox

    def submit(
        self,
        index: int,
        segment: Segment,
        *,
        demand: bool,
        label: str,
        variant: int = -1,
        epoch: int = 0,
        max_attempts: int | None = None,
        cache: CachePolicy = "immutable",
    ) -> FetchHandle:
        """``cache``: "immutable" (a segment's URI names its bytes), "none" for live segments,
        which are not kept past playback."""
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

        return self.dl.submit(
            FetchCmd(
                url=segment.uri,
                sink=sink,
                start=start,
                end=end,
                priority=Priority.DEMAND if demand else Priority.PREFETCH,
                label=label,
                epoch=epoch,
                on_complete=done,
                max_attempts=max_attempts,
                cache=cache,
            )
        )

    def decode(self, segment: Segment, data: bytes | bytearray) -> bytes | bytearray:
        return decode_segment(self.keys, segment, data)

    def init_bytes(self, init: InitSection) -> bytes:
        data, _ = self.dl.fetch_bytes(
            init.uri,
            label="init",
            byterange=init.byterange,
            max_bytes=MAX_SEGMENT_BYTES,
            cache="immutable",
        )
        return data
