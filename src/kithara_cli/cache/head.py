"""A resource's head: the first second of its decoded audio, kept beside its cached bytes.

A replay from the cache plays it while PyAV loads (``play.head``), then decodes from byte 0
and drops as many frames. It is stored through the store as an entry of its own under
``paths.head_key(url)``, so eviction, size accounting, ``cache clear`` and crash safety are
the store's (``CacheStore.remove`` takes a resource's head with it; ``cache ls`` hides heads).
Its payload names the version it was decoded from (ETag, Last-Modified, length) and the
PCM's format; the store checks its hash on read. A head whose version or format is not the
one asked for, or that does not parse, is never used: it must not stand before another
version's audio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kithara_cli.cache.paths import head_key

if TYPE_CHECKING:  # the store (sqlite3) loads on the cache's own thread, off play's start-up
    from kithara_cli.cache.store import CacheStore

MAGIC = b"KITHARA-HEAD-1\n"
SAMPLE_FORMAT = "f32le"  # interleaved float32, as the ring holds it
CONTENT_TYPE = "application/x-kithara-head"


@dataclass(frozen=True)
class HeadVersion:
    """The version of a resource a head was decoded from: its validators and length."""

    etag: str | None
    last_modified: str | None
    total: int | None


@dataclass(frozen=True)
class HeadFormat:
    """The PCM a head holds: as the ring takes it at the output's rate."""

    rate: int
    channels: int
    sample: str = SAMPLE_FORMAT

    @property
    def frame_bytes(self) -> int:
        return 4 * self.channels


@dataclass(frozen=True)
class Head:
    url: str
    version: HeadVersion
    format: HeadFormat
    pcm: bytes


def encode(head: Head) -> bytes:
    v, f = head.version, head.format
    meta = {
        "url": head.url,
        "etag": v.etag,
        "last_modified": v.last_modified,
        "total": v.total,
        "rate": f.rate,
        "channels": f.channels,
        "sample": f.sample,
        "bytes": len(head.pcm),
    }
    return MAGIC + json.dumps(meta).encode() + b"\n" + head.pcm


def decode(data: bytes) -> Head | None:
    """The head in ``data``, or None when it is not a whole one."""
    if not data.startswith(MAGIC):
        return None
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        return None
    try:
        meta = json.loads(data[len(MAGIC) : end])
        version = HeadVersion(meta["etag"], meta["last_modified"], meta["total"])
        fmt = HeadFormat(int(meta["rate"]), int(meta["channels"]), str(meta["sample"]))
        url, size = str(meta["url"]), int(meta["bytes"])
    except (ValueError, KeyError, TypeError):
        return None
    pcm = data[end + 1 :]
    if len(pcm) != size or fmt.channels <= 0 or not pcm or len(pcm) % fmt.frame_bytes:
        return None
    return Head(url, version, fmt, pcm)


def usable(head: Head | None, url: str, version: HeadVersion, fmt: HeadFormat) -> bool:
    """May ``head`` stand for the start of ``url`` at ``version``, played at ``fmt``?"""
    return head is not None and (head.url, head.version, head.format) == (url, version, fmt)


def save(store: CacheStore, head: Head) -> None:
    """Keep ``head`` (a head of another version replaces the one there)."""
    from kithara_cli.cache.store import EntryMeta

    v = head.version
    payload = encode(head)
    meta = EntryMeta(head_key(head.url), v.etag, v.last_modified, len(payload), False, CONTENT_TYPE)
    store.pin(meta.url)
    store.put(meta, 0, payload)


def load(store: CacheStore, url: str) -> Head | None:
    """The head kept for ``url``, hash-checked by the store; None if none is whole."""
    key = head_key(url)
    found = store.entry(key)
    if found is None or found[0].total is None:
        return None
    data = store.read(key, 0, found[0].total)
    if data is None:
        return None
    store.pin(key)
    return decode(data)
