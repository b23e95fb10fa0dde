"""Ctrl-C and SIGTERM as a request, raised only where the code is ready for it.

Python's default raises KeyboardInterrupt between any two bytecodes, which can leave a lock
held mid-``with`` (and so wedge the downloader thread waiting on it). The handler here only
sets a flag; every blocking wait goes through ``wait``/``result``/``join`` below (or polls
``check()``), which wake at least every ``POLL`` seconds and raise at a safe point. That is
what bounds the time from a signal to the exit: a bare ``Event.wait()`` or ``Future.result()``
would resume after the handler returns and sleep on. A second Ctrl-C while the first is still
being handled raises at once.

Only the main thread raises (KeyboardInterrupt; the CLI turns it into exit 130, or 143 for
SIGTERM). On other threads these waits are plain waits: those threads are woken by the main
thread's teardown (the downloader cancels their requests, resources close under their
readers), so no worker's error path ever has to tell an interrupt from a failure (a live
fetch's playlist reloader would otherwise report it as a failed reload).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, TypeVar

from kithara_cli.errors import Cancelled, Terminated

if TYPE_CHECKING:
    import concurrent.futures

POLL = 0.1  # seconds: how late a wait may notice an interrupt (the promise is < 1 s to exit)

T = TypeVar("T")

_requested = threading.Event()
_signal: int | None = None


def _handler(signum: int, frame: object) -> None:
    global _signal
    if _requested.is_set() and signum == signal.SIGINT:
        raise KeyboardInterrupt
    _signal = _signal or signum
    _requested.set()


def install() -> None:
    """Call from the main thread at start-up."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def requested() -> bool:
    return _requested.is_set()


def as_error(message: str = "interrupted") -> Cancelled:
    """The error for the signal received: ``Terminated`` (143) for SIGTERM, else ``Cancelled``."""
    if _signal == signal.SIGTERM:
        return Terminated(message)
    return Cancelled(message)


def check() -> None:
    """On the main thread, raise KeyboardInterrupt if an interrupt was requested."""
    if _requested.is_set() and threading.current_thread() is threading.main_thread():
        raise KeyboardInterrupt


def _slices(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _next_slice(deadline: float | None) -> float:
    if deadline is None:
        return POLL
    return max(0.0, min(POLL, deadline - time.monotonic()))


def wait(event: threading.Event, timeout: float | None = None) -> bool:
    """``event.wait(timeout)`` that raises (see ``check``) within POLL s of an interrupt."""
    deadline = _slices(timeout)
    while True:
        check()
        step = _next_slice(deadline)
        if event.wait(step):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return event.is_set()


def result(future: concurrent.futures.Future[T], timeout: float | None = None) -> T:
    """``future.result(timeout)`` that raises within POLL s of an interrupt."""
    import concurrent.futures  # loaded by whoever made the future: free here

    deadline = _slices(timeout)
    while True:
        check()
        try:
            return future.result(_next_slice(deadline))
        except concurrent.futures.TimeoutError:
            if deadline is not None and time.monotonic() >= deadline:
                raise


def join(thread: threading.Thread, timeout: float | None = None) -> None:
    """``thread.join(timeout)`` that raises within POLL s of an interrupt."""
    deadline = _slices(timeout)
    while thread.is_alive():
        check()
        thread.join(_next_slice(deadline))
        if deadline is not None and time.monotonic() >= deadline:
            return


def reset() -> None:
    global _signal
    _signal = None
    _requested.clear()
