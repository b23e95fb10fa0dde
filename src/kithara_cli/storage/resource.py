"""The sparse resource: positional writes from the downloader, blocking reads for the decoder."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kithara_cli.errors import KitharaError, OutputError
from kithara_cli.storage.ranges import RangeSet


class ResourceFailed(KitharaError):
    """The download behind this resource failed; ``cause`` says why."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.exit_code = cause.exit_code if isinstance(cause, KitharaError) else 1


class ResourceClosed(KitharaError):
    """The resource was closed while a reader waited (seek epoch change, shutdown)."""


class SparseResource:
    """A file on disk plus the set of byte ranges written to it.

    ``total`` is the resource's length once known (Content-Length, Content-Range, or the end of
    a body with no length). Thread-safe: the downloader thread writes, any thread reads.
    """

    def __init__(
        self, path: Path, *, total: int | None = None, ranges: RangeSet | None = None
    ) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot open {path}: {exc.strerror}") from exc
        self._ranges = ranges if ranges is not None else RangeSet()
        self._total = total
        self._failure: BaseException | None = None
        self._closed = False
        self._cond = threading.Condition()
        self._waiters = 0

    # --- writer side ---------------------------------------------------------------------

    def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if not n:
            return
        try:
            written = os.pwrite(self._fd, data, offset)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from exc
        if written != n:  # short write: disk full in practice
            raise OutputError(f"cannot write {self.path}: short write (disk full?)")
        with self._cond:
            self._ranges.add(offset, offset + n)
            if self._waiters:
                self._cond.notify_all()

    def set_total(self, total: int) -> None:
        with self._cond:
            self._total = total
            self._cond.notify_all()

    def fail(self, cause: BaseException) -> None:
        with self._cond:
            self._failure = cause
            self._cond.notify_all()

    def clear_failure(self) -> None:
        with self._cond:
            self._failure = None

    # --- reader side ---------------------------------------------------------------------

    @property
    def total(self) -> int | None:
        return self._total

    def wait_range(self, start: int, end: int, timeout: float | None = None) -> bool:
        """Block until ``[start, end)`` (clamped to the total) is present.

        Returns False on timeout; raises ResourceFailed / ResourceClosed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._total is not None:
                    end = min(end, self._total)
                if self._ranges.covers(start, end):
                    return True
                if self._failure is not None:
                    raise ResourceFailed(self._failure)
                if self._closed:
                    raise ResourceClosed("resource closed")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._waiters += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiters -= 1

    def read_at(self, offset: int, size: int) -> bytes:
        """Read present bytes only (call ``wait_range`` first); never past the proven end."""
        with self._cond:
            avail = self._ranges.covered_from(offset) - offset
        return os.pread(self._fd, min(size, avail), offset) if avail > 0 else b""

    def contains(self, start: int, end: int) -> bool:
        with self._cond:
            if self._total is not None:
                end = min(end, self._total)
            return self._ranges.covers(start, end)

    def available_from(self, offset: int) -> int:
        """End of the contiguous present run that starts at ``offset``."""
        with self._cond:
            return self._ranges.covered_from(offset)

    def gaps(self, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        with self._cond:
            stop = end if end is not None else self._total
            if stop is None:
                raise ValueError("gaps() needs an end when the total is unknown")
            return self._ranges.gaps(start, stop)

    def is_complete(self) -> bool:
        with self._cond:
            return self._total is not None and self._ranges.covers(0, self._total)

    def bytes_present(self) -> int:
        with self._cond:
            return self._ranges.total()

    def ranges_snapshot(self) -> list[list[int]]:
        with self._cond:
            return self._ranges.to_list()

    def flush(self) -> None:
        os.fsync(self._fd)

    def truncate(self, size: int) -> None:
        os.ftruncate(self._fd, size)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        os.close(self._fd)

    def __enter__(self) -> SparseResource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
