"""Thread-safe request and byte counters, read by tests and ``kithara bench``.

A request is recorded when its status is decided, before any byte goes out, and body bytes are
counted as they are handed to the socket; so once a client has read a response, its record and
its bytes are already here.
"""

from __future__ import annotations

import threading
from typing import NamedTuple


class RequestRecord(NamedTuple):
    method: str
    path: str
    """URL path without the leading "/" (the same spelling as ``url()`` and ``set_faults``)."""
    range: str | None
    """The Range header as received, or None."""
    status: int
    if_range: str | None = None
    """The If-Range header as received, or None."""


class SeenRequest(NamedTuple):
    """A request's record and every header it came with, as received."""

    record: RequestRecord
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


class ServerStats:
    """Requests in arrival order and body bytes sent, per path and in total."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._headers: list[tuple[tuple[str, str], ...]] = []  # one per request, same order
        self._bytes: dict[str, int] = {}
        self._total = 0

    def requests(self, path: str | None = None) -> list[RequestRecord]:
        """A copy of the records, all or those for one path."""
        with self._lock:
            if path is None:
                return list(self._requests)
            key = path.lstrip("/")
            return [r for r in self._requests if r.path == key]

    def seen(self, path: str | None = None) -> list[SeenRequest]:
        """The records with the headers each request came with (Cookie, User-Agent...)."""
        with self._lock:
            pairs = [SeenRequest(r, h) for r, h in zip(self._requests, self._headers, strict=True)]
        key = None if path is None else path.lstrip("/")
        return [p for p in pairs if key is None or p.record.path == key]

    def bytes_sent(self, path: str | None = None) -> int:
        """Body bytes sent for one path, or for all paths when ``path`` is None."""
        with self._lock:
            if path is None:
                return self._total
            return self._bytes.get(path.lstrip("/"), 0)

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._headers.clear()
            self._bytes.clear()
            self._total = 0

    def record(
        self,
        method: str,
        path: str,
        range_header: str | None,
        status: int,
        if_range: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        with self._lock:
            self._requests.append(RequestRecord(method, path, range_header, status, if_range))
            self._headers.append(headers)

    def add_bytes(self, path: str, n: int) -> None:
        if n == 0:
            return
        with self._lock:
            self._bytes[path] = self._bytes.get(path, 0) + n
            self._total += n
