"""asyncio's own lock, event, semaphore, timeout and shield, in the shape httpcore asks of anyio.

httpcore 1.x takes every lock, event and shielded close under asyncio through anyio: a
~15 ms import before the first request, and per request several anyio locks, events and
cancel scopes (each scope arms a loop timer and looks up the current task). On a 301-segment
fetch that was 10-15 % of the downloader thread. ``install`` points httpcore's
synchronisation module at this one instead (and answers its "which async library?" with
asyncio, without the failed ``import sniffio`` it made for every lock); asyncio's primitives
do the same job.

Why a shield can be a no-op here: anyio cancellation is level-triggered (a cancelled scope
cancels every later await), so httpcore shields its clean-up. asyncio delivers a cancel once;
the downloader and ``asyncio.timeout`` cancel a task once, so clean-up awaits run through.

Written by hand because no library offers it; ``tests/test_net_asyncio_sync.py`` checks that
a fetch never imports anyio and that a proxied fetch (httpcore's own anyio backend) still
works, so an httpcore upgrade that moves these names fails CI.
"""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any

Lock = asyncio.Lock
Event = asyncio.Event


class Semaphore(asyncio.BoundedSemaphore):
    def __init__(self, initial_value: int, max_value: int | None = None) -> None:
        super().__init__(initial_value)


class fail_after:  # anyio's name
    """A synchronous ``asyncio.timeout``: cancel the task after ``delay``, raise TimeoutError."""

    __slots__ = ("_delay", "_fired", "_handle", "_task")

    def __init__(self, delay: float | None) -> None:
        self._delay = delay
        self._fired = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> fail_after:
        if self._delay is not None:
            self._task = asyncio.current_task()
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        if self._task is not None:
            self._task.cancel()

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if (
            self._fired
            and exc_type is asyncio.CancelledError
            and self._task is not None
            and self._task.uncancel() == 0
        ):
            raise TimeoutError


class CancelScope:
    """Only ``CancelScope(shield=True)`` is asked for; see the module docstring."""

    __slots__ = ()

    def __init__(self, shield: bool = False) -> None:
        pass

    def __enter__(self) -> CancelScope:
        return self

    def __exit__(self, *_: object) -> None:
        return None


class _DeferredAnyio(types.ModuleType):
    """Stands in for ``anyio`` while httpcore imports; the real one loads on first use.

    Only httpcore's anyio network backend (used through a proxy) ever touches it.
    """

    def __getattr__(self, name: str) -> Any:
        import importlib

        return getattr(importlib.import_module("anyio"), name)


def deferred_anyio() -> types.ModuleType:
    return _DeferredAnyio("anyio")


def install() -> bool:
    """Point httpcore's synchronisation at asyncio. False if this httpcore lays it out otherwise."""
    try:
        from httpcore import _synchronization
    except ImportError:  # pragma: no cover - httpcore is a dependency
        return False
    if not hasattr(_synchronization, "anyio") or not hasattr(
        _synchronization, "current_async_library"
    ):
        return False
    _synchronization.anyio = sys.modules[__name__]  # type: ignore[attr-defined]
    # Asked on every lock, event and shield (4 a request); its answer here is always asyncio.
    _synchronization.current_async_library = _asyncio  # type: ignore[attr-defined]
    return True


def _asyncio() -> str:
    return "asyncio"
