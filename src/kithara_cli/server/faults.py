"""Fault knobs and the table that maps URL paths to them.

Faults are per route: a route is one ``set_faults`` call (an fnmatch pattern). Bandwidth shared
by a route (``rate_total``, ``bandwidth_profile``) is shared by every path it matches. Request
counters (``fail_first``, ``faults_times``) are kept per concrete path inside the route, so
``set_faults("*.ts", Faults(fail_first=1))`` makes *every* segment fail once — the case a
retrying downloader has to survive.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import threading
import time
from dataclasses import dataclass, field

from .throttle import Pacer, RateSchedule


@dataclass
class Faults:
    """Per-route fault knobs; every one defaults to off."""

    latency: float = 0.0
    """Seconds added before every response (each request, redirects and failures too)."""
    first_byte_delay: float = 0.0
    """Extra delay after the headers are sent, before the first body byte."""
    rate_per_conn: float | None = None
    """Bytes/s limit for each response body."""
    rate_total: float | None = None
    """Bytes/s shared by all responses on this route."""
    bandwidth_profile: list[tuple[float, float]] | None = None
    """[(duration_s, bytes_per_s), ...] from set_faults (or server start); the last step holds.

    The total rate of all connections on the route follows it; 0 bytes/s is an outage."""
    reset_after: int | None = None
    """Abort the TCP connection with a real RST after N body bytes."""
    close_after: int | None = None
    """Close cleanly (FIN) after N body bytes; Content-Length still announces the full body."""
    fail_first: int = 0
    """The first K requests for each path on this route answer ``fail_status``."""
    fail_status: int = 503
    retry_after: float | None = None
    """Retry-After on those failures (written as ``%g``; fractions are non-standard)."""
    ignore_range: bool = False
    """Answer 200 with the whole body even when Range is asked (and omit Accept-Ranges)."""
    no_content_length: bool = False
    """No Content-Length: chunked on HTTP/1.1, close-delimited on HTTP/1.0."""
    redirects: int = 0
    """A chain of N 302 redirects before the real resource."""
    faults_times: int | None = None
    """reset_after/close_after/stall_after hit only the first N GETs of each path (None: all)."""
    stall_after: int | None = None
    """Send N body bytes, then send nothing (connection open) for ``stall_seconds``."""
    stall_seconds: float = 30.0
    # --- servers that lie (integrity tests) ---
    etag_per_request: bool = False
    """Every response carries a new ETag (same bytes): a CDN whose nodes disagree."""
    no_validators: bool = False
    """No ETag and no Last-Modified."""
    ignore_if_range: bool = False
    """Apply Range even when If-Range no longer matches (a 206 of another version)."""
    swap_from: str = ""
    swap_to: str = ""
    """Serve the path with ``swap_from`` replaced by ``swap_to`` (another version of it)..."""
    swap_after: int = 0
    """...for requests of each path numbered above this (0: every request)..."""
    swap_alternate: bool = False
    """...and then every other one, the first of them unswapped: A, B, A, B (two origins)."""
    content_encoding: str | None = None
    """``gzip`` or ``deflate``: the whole body compressed, sent as a 200 whatever Range asks."""
    http10: bool = False
    """Answer as HTTP/1.0 (with ``no_content_length``: a close-delimited body)."""
    endless: bool = False
    """The file repeated for ever, no length, Range ignored: a radio mount."""
    cache_control: str | None = None
    """A Cache-Control header on file responses, e.g. ``public, max-age=86400`` (what a
    podcast CDN sends on media) or ``no-cache``; None: none, as a plain file server."""

    def __post_init__(self) -> None:
        for name in ("latency", "first_byte_delay", "stall_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("rate_per_conn", "rate_total"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 (use bandwidth_profile for outages)")
        for name in ("reset_after", "close_after", "stall_after", "faults_times"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.fail_first < 0 or self.redirects < 0:
            raise ValueError("fail_first and redirects must be >= 0")
        if self.content_encoding not in (None, "gzip", "deflate"):
            raise ValueError("content_encoding must be gzip or deflate")
        if self.swap_after < 0 or bool(self.swap_from) != bool(self.swap_to):
            raise ValueError("swap_from and swap_to go together; swap_after must be >= 0")
        if not 100 <= self.fail_status <= 599:
            raise ValueError("fail_status must be an HTTP status")
        if self.bandwidth_profile is not None:
            if not self.bandwidth_profile:
                raise ValueError("bandwidth_profile needs at least one step")
            for dur, rate in self.bandwidth_profile:
                if dur <= 0 or rate < 0:
                    raise ValueError("bandwidth_profile steps need duration > 0, rate >= 0")

    def swapped(self, path: str, request_number: int) -> str:
        """The path actually served for the ``request_number``-th request of ``path``."""
        n = request_number - self.swap_after
        if not self.swap_from or n <= 0 or (self.swap_alternate and n % 2 == 1):
            return path
        return path.replace(self.swap_from, self.swap_to, 1)

    @property
    def paced(self) -> bool:
        return (
            self.rate_per_conn is not None
            or self.rate_total is not None
            or self.bandwidth_profile is not None
        )


NO_FAULTS = Faults()


@dataclass
class Route:
    """One set_faults call: its knobs, its counters, its shared pacers (loop thread only)."""

    pattern: str
    faults: Faults
    t0: float
    requests: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, int] = field(default_factory=dict)
    _total: Pacer | None = None
    _profile: Pacer | None = None

    def __post_init__(self) -> None:
        self.rebase(self.t0)

    def rebase(self, t0: float) -> None:
        """Restart the bandwidth profile (and the shared timeline) at ``t0``."""
        self.t0 = t0
        f = self.faults
        self._total = Pacer(RateSchedule.constant(f.rate_total)) if f.rate_total else None
        self._profile = (
            Pacer(RateSchedule(f.bandwidth_profile, t0)) if f.bandwidth_profile else None
        )

    def count_request(self, path: str) -> int:
        """Count a request for ``path``; return its 1-based number on this route."""
        n = self.requests.get(path, 0) + 1
        self.requests[path] = n
        return n

    def count_body(self, path: str) -> int:
        n = self.bodies.get(path, 0) + 1
        self.bodies[path] = n
        return n

    def pacers(self) -> list[Pacer]:
        """Pacers for one response: its own per-connection one plus the route's shared ones."""
        f = self.faults
        out: list[Pacer] = []
        if f.rate_per_conn:
            out.append(Pacer(RateSchedule.constant(f.rate_per_conn)))
        if self._total is not None:
            out.append(self._total)
        if self._profile is not None:
            out.append(self._profile)
        return out


class FaultTable:
    """Routes in set order; the most recent matching one wins. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[Route] = []

    def set(self, pattern: str, faults: Faults) -> None:
        # A copy, so that editing the caller's Faults later cannot half-change a live route.
        route = Route(pattern.lstrip("/"), dataclasses.replace(faults), time.monotonic())
        with self._lock:
            # Replacing a pattern drops the old route, so its counters start again.
            self._routes = [r for r in self._routes if r.pattern != route.pattern]
            self._routes.append(route)

    def clear(self) -> None:
        with self._lock:
            self._routes = []

    def rebase(self, t0: float) -> None:
        with self._lock:
            for route in self._routes:
                route.rebase(t0)

    def match(self, path: str) -> Route | None:
        with self._lock:
            for route in reversed(self._routes):
                if fnmatch.fnmatchcase(path, route.pattern):
                    return route
        return None
