"""Ctrl-C and SIGTERM as a request, raised only where the code is ready for it.

Python's default raises KeyboardInterrupt between any two bytecodes, which can leave a lock
held mid-``with`` (and so wedge the downloader thread waiting on it). The handler here only
sets a flag; waiting loops call ``check()``, which raises KeyboardInterrupt at a safe point.
A second Ctrl-C while the first is still being handled raises at once.
"""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()


def _handler(signum: int, frame: object) -> None:
    if _requested.is_set() and signum == signal.SIGINT:
        raise KeyboardInterrupt
    _requested.set()


def install() -> None:
    """Call from the main thread at start-up."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def requested() -> bool:
    return _requested.is_set()


def check() -> None:
    """Raise KeyboardInterrupt if an interrupt was requested."""
    if _requested.is_set():
        raise KeyboardInterrupt


def reset() -> None:
    _requested.clear()
