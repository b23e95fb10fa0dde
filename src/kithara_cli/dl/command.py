"""Fetch commands and their outcomes: the values that cross between peers and the downloader."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kithara_cli.dl.validate import Identity
from kithara_cli.errors import KitharaError, TooLargeError

if TYPE_CHECKING:
    import concurrent.futures

    from kithara_cli.dl.downloader import Downloader


class Priority(enum.IntEnum):
    DEMAND = 0  # a reader is blocked on it, a seek target, the next segment to play
    PREFETCH = 1


@dataclass(frozen=True)
class ResponseInfo:
    """What the first response said about the resource."""

    url: str  # final URL after redirects
    status: int
    total_size: int | None  # whole resource length, when known
    range_honoured: bool  # a 206: the server serves byte ranges
    etag: str | None
    last_modified: str | None
    content_type: str | None
    identity: Identity = field(
        default_factory=Identity
    )  # the version the command's bytes all belong to
    encoding: str | None = None  # a Content-Encoding the body was decoded from
    icy: Mapping[str, str] = field(default_factory=dict)  # icy-*, lower case; bytes as Latin-1
    caching: Mapping[str, str] = field(default_factory=dict)  # dl.freshness.HEADERS, lower case


# How the persistent cache (``dl.cached``) may answer a command: "auto" checks a cached copy
# with the server once per process; "always" on every fetch (playlists); "immutable" never
# (HLS segments and init sections: a new version gets a new URI); "none" neither reads nor
# stores (AES keys, live segments).
CachePolicy = Literal["auto", "always", "immutable", "none"]

ChunkSink = Callable[[int, bytes], None]  # (absolute offset, data); may raise to abort


@dataclass
class FetchCmd:
    """What to fetch and where its bytes go: a peer builds it, the downloader runs it."""

    url: str
    sink: ChunkSink
    start: int = 0
    end: int | None = None  # exclusive; None: to the end of the resource
    limit: int | None = None  # with no end: stop after this many bytes (a cap, not a range)
    priority: Priority = Priority.PREFETCH
    label: str = ""
    headers: Mapping[str, str] | None = None
    epoch: int = 0
    # The version every byte must belong to (a resource shared by several commands, or one
    # resumed from disk). None: the command's first response pins it for its own retries.
    identity: Identity | None = None
    # A later response of another version: "restart" rewrites the command's range from it
    # (the sink sees offsets go back), "fail" ends the command with RemoteChangedError (the
    # peer holds bytes of the old version elsewhere and must start over itself).
    on_change: str = "restart"
    # A busy answer (429/5xx): "retry" it as any failure; "fail" the command at once (a side
    # request beside another on a server that may grant one connection: the peer moves the
    # other instead, as a one-connection player would); "wait": retried without counting
    # for up to BUSY_WAIT seconds (the peer just closed the one connection it may have; the
    # server takes a moment to see it), then as "retry".
    on_busy: Literal["retry", "fail", "wait"] = "retry"
    deadline: float | None = None  # seconds per attempt, headers and body; None: the config's
    on_response: Callable[[ResponseInfo], None] | None = None  # may raise to refuse
    on_complete: Callable[[FetchOutcome], None] | None = None
    soft_timeout: float | None = None  # None: the downloader's default
    max_attempts: int | None = None  # None: the downloader's retry policy; never more than it
    # Set to "none" while it runs: its peer found the body live (an endless stream); what the
    # persistent cache recorded of it is dropped and nothing more is recorded.
    cache: CachePolicy = "auto"


@dataclass(frozen=True)
class FetchOutcome:
    """How a command ended: its single ``on_complete`` argument."""

    request_id: int
    state: str  # "ok" | "failed" | "cancelled"
    bytes: int  # body bytes handed to the sink
    info: ResponseInfo | None = None
    # The resource's length, where learnt: a total the server gave, or the end of a whole
    # (200) body read to its end. None: only the command's range is known to exist.
    resource_end: int | None = None
    identity: Identity | None = None  # the version the bytes handed over belong to
    error: KitharaError | None = None
    cancel_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def _future() -> concurrent.futures.Future[FetchOutcome]:
    # Loaded with the first handle (concurrent.futures loads logging): a replay's head plays
    # before any command is made.
    import concurrent.futures

    return concurrent.futures.Future()


@dataclass(eq=False)
class FetchHandle:
    """The submitter's grip on a command: cancel it, or wait for its outcome."""

    request_id: int
    cmd: FetchCmd
    _downloader: Downloader
    future: concurrent.futures.Future[FetchOutcome] = field(default_factory=_future)

    def cancel(self, reason: str = "peer") -> None:
        self._downloader.cancel(self, reason)

    def result(self, timeout: float | None = None) -> FetchOutcome:
        return self.future.result(timeout)

    def done(self) -> bool:
        return self.future.done()


def memory_sink(
    url: str, max_bytes: int, base: int = 0, what: str = ""
) -> tuple[ChunkSink, bytearray]:
    """A sink that collects a small body in memory; a resumed body overwrites from its offset."""
    buf = bytearray()

    def sink(offset: int, data: bytes) -> None:
        rel = offset - base
        if rel + len(data) > max_bytes:
            raise TooLargeError(
                f"{what or 'response'} larger than {_size_limit(max_bytes)} limit: {url}"
            )
        if rel != len(buf):
            del buf[rel:]
        buf.extend(data)

    return sink, buf


def _size_limit(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n} bytes"
