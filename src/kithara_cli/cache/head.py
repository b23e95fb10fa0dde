"""A play URL's head: the first second of its decoded audio, kept beside its cached bytes.

A replay from the cache plays it while PyAV loads (``play.head``), then decodes from byte 0
and drops as many frames. It is stored through the store as an entry of its own under
``paths.head_key(url)``, so eviction, size accounting, ``cache clear`` and crash safety are
the store's (``CacheStore.remove`` takes a resource's head with it; ``cache ls`` hides heads).
Its payload names every cached resource it was decoded from, each at its version (ETag,
Last-Modified, length): a progressive file is one; an HLS head names its variant's media
playlist, init section and first segment, and that variant (the replay starts on it). The
PCM's format is named too, and the store checks the hash on read. A head whose parts are not
the versions the cache holds now, whose format is not the one asked for, or that does not
parse, is never used: it must not stand before another version's audio.

The payload holds its URLs as the index does, a ``user:password@`` as ``***@``; on loading,
``***@`` takes back the play URL's own userinfo (the parts of one play inherit it). A part
that had other credentials is then not found, and the play goes without a head.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kithara_cli.cache.paths import head_key
from kithara_cli.ui.sanitize import redact_userinfo

if TYPE_CHECKING:  # the store (sqlite3) loads on the cache's own thread, off play's start-up
    from kithara_cli.cache.store import CacheStore

MAGIC = b"KITHARA-HEAD-2\n"  # (version 1 heads named one resource: never read now)
SAMPLE_FORMAT = "f32le"  # interleaved float32, as the ring holds it
CONTENT_TYPE = "application/x-kithara-head"


@dataclass(frozen=True)
class HeadPart:
    """A cached resource a head was decoded from, at the version it had: validators, length."""

    url: str
    etag: str | None
    last_modified: str | None
    total: int | None


@dataclass(frozen=True)
class HeadVersion:
    """What a head was decoded from: its parts, and for HLS the variant (media playlist URL)
    whose first segment it is and the ``--audio`` choice that picked its rendition."""

    parts: tuple[HeadPart, ...]
    variant: str | None = None
    rendition: str | None = None


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
    masked = redact_userinfo
    meta = {
        "url": masked(head.url),
        "parts": [[masked(p.url), p.etag, p.last_modified, p.total] for p in v.parts],
        "variant": None if v.variant is None else masked(v.variant),
        "rendition": v.rendition,
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
        parts = tuple(HeadPart(*_part(p)) for p in meta["parts"])
        variant, rendition = meta["variant"], meta["rendition"]
        if not parts or not all(t is None or isinstance(t, str) for t in (variant, rendition)):
            return None
        version = HeadVersion(parts, variant, rendition)
        fmt = HeadFormat(int(meta["rate"]), int(meta["channels"]), str(meta["sample"]))
        url, size = str(meta["url"]), int(meta["bytes"])
    except (ValueError, KeyError, TypeError):
        return None
    pcm = data[end + 1 :]
    if len(pcm) != size or fmt.channels <= 0 or not pcm or len(pcm) % fmt.frame_bytes:
        return None
    return Head(url, version, fmt, pcm)


def _part(raw: object) -> tuple[str, str | None, str | None, int | None]:
    if not isinstance(raw, list) or len(raw) != 4 or not isinstance(raw[0], str):
        raise ValueError("a head part is [url, etag, last_modified, total]")
    url, etag, last_modified, total = raw
    for text in (etag, last_modified):
        if text is not None and not isinstance(text, str):
            raise ValueError("validators are text")
    if total is not None and (not isinstance(total, int) or total < 0):
        raise ValueError("a length is a count of bytes")
    return url, etag, last_modified, total


def save(store: CacheStore, head: Head) -> None:
    """Keep ``head`` (a head of another version replaces the one there)."""
    from kithara_cli.cache.store import EntryMeta

    first = head.version.parts[0]
    payload = encode(head)
    meta = EntryMeta(
        head_key(head.url), first.etag, first.last_modified, len(payload), False, CONTENT_TYPE
    )
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
    head = decode(data)
    return None if head is None else _with_userinfo(head, url)


_USERINFO = re.compile(r"(?<=://)([^/\s@]+)@")  # as ui.sanitize.redact_userinfo finds it


def _with_userinfo(head: Head, url: str) -> Head:
    """``head`` with each ``***@`` its payload holds given back ``url``'s userinfo."""
    found = _USERINFO.search(url)
    if found is None:
        return head

    def full(text: str) -> str:
        return text.replace("://***@", f"://{found[1]}@", 1)

    parts = tuple(replace(p, url=full(p.url)) for p in head.version.parts)
    variant = None if head.version.variant is None else full(head.version.variant)
    version = replace(head.version, parts=parts, variant=variant)
    return replace(head, url=full(head.url), version=version)
