"""The downloader core: a priority queue of fetch commands run on one asyncio loop.

The loop's thread starts on first need (``start``, or the first ``submit``), and asyncio,
``dl.transfer`` and logging load then: a replay whose cached head plays before its first
request (``play.head``) does not wait ~35 ms for them. ``warm`` starts the loop only when
the run's first URL needs the network.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import threading
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from kithara_cli import interrupt
from kithara_cli.dl.cached import ByteCache, holds_fresh, run_cached
from kithara_cli.dl.command import (
    CachePolicy,
    FetchCmd,
    FetchHandle,
    FetchOutcome,
    Priority,
    memory_sink,
)
from kithara_cli.dl.redirects import RedirectMemory
from kithara_cli.errors import (
    KitharaError,
    NetworkError,
    UsageError,
)
from kithara_cli.events import EventBus
from kithara_cli.events.types import (
    LoadSlow,
    RequestCancelled,
    RequestCompleted,
    RequestEnqueued,
    RequestFailed,
    RequestStarted,
)
from kithara_cli.net import (
    NetConfig,
    RetryPolicy,
    classify_http_error,
    make_opener,
)

if TYPE_CHECKING:
    import asyncio

    from kithara_cli.dl.transfer import Job
    from kithara_cli.net.request import ResponseOpener

T = TypeVar("T")
WARM_WAIT = 2.0  # seconds ``warm`` waits for the cache's answer and the client


def _drain_tasks(loop: asyncio.AbstractEventLoop, rounds: int = 3) -> None:
    """Let the last tasks finish before the loop closes.

    A response body's async generator that is garbage-collected late schedules its
    ``aclose()`` as a task; closing the loop under it makes Python print "Task was destroyed
    but it is pending!" on stderr at exit, which scripts reading stderr see as an error.
    """
    import asyncio

    for _ in range(rounds):
        loop.run_until_complete(asyncio.sleep(0))  # run callbacks that create such tasks
        pending = asyncio.all_tasks(loop)
        if not pending:
            return
        loop.run_until_complete(asyncio.wait(pending, timeout=1.0))


def _typed(exc: Exception, job: Job) -> KitharaError:
    """``exc`` as a typed error. Typing it must not fail the job a second way: an exception
    here would leave the job unfinished, and whoever waits for it (a player) waiting for ever."""
    try:
        return classify_http_error(exc, job.handle.cmd.url)
    except Exception:
        import logging

        logging.getLogger(__name__).exception("cannot type %r", exc)
        return NetworkError(f"network error: {type(exc).__name__}")


class Downloader:
    """Runs fetch commands; see the package docstring for its contract."""

    def __init__(
        self,
        bus: EventBus,
        net: NetConfig | None = None,
        *,
        max_concurrent: int = 5,
        soft_timeout: float = 2.0,
        retry: RetryPolicy | None = None,
        progress_interval: float = 0.1,
        cache: ByteCache | None = None,
    ) -> None:
        self.bus = bus
        self.net = net or NetConfig()
        self.redirects = RedirectMemory(  # (dl.redirects)
            sends_authorization=any(k.lower() == "authorization" for k in self.net.headers)
        )
        self.max_concurrent = max_concurrent
        self.soft_timeout = soft_timeout
        self.retry = retry or RetryPolicy()
        self.progress_interval = progress_interval
        self.cache = cache  # the persistent cache (``dl.cached``); None: every byte from the net
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # One client; requests are spread over small pools (net.transport). With a cache it
        # is made when a request first needs the network (``opener``): a play served whole
        # from fresh entries never loads httpcore.
        self._opener: ResponseOpener | None = None
        self._client_error: KitharaError | None = None
        self._ready = threading.Event()
        self._start_lock = threading.Lock()
        self._closed = False
        # loop-thread state
        self._heap: list[tuple[int, int, Job]] = []
        self._seq = itertools.count()
        self._jobs: dict[int, Job] = {}
        self._active = 0

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> Downloader:
        """Start the loop's thread (once; any thread) and wait until it runs."""
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._thread_main, name="kithara-dl", daemon=True
                )
                self._thread.start()
        if self._thread is not None:
            self._ready.wait()
        return self

    def _thread_main(self) -> None:
        import asyncio

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        # With no cache every request goes to the network: the client (httpcore's import,
        # ~30-40 ms) is made before ``start`` returns, so the caller's next imports (PyAV)
        # come after it and its first request goes out at once (made while PyAV loaded, it
        # held that request back 30-80 ms). TLS is set up on first https use (net.transport).
        if self.cache is None:
            with contextlib.suppress(KitharaError):  # a request that needs it reports it
                self.opener()
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                _drain_tasks(loop)
            finally:
                loop.close()

    def close(self) -> None:
        """Cancel everything (reason: shutdown), close the client, stop the thread."""
        with self._start_lock:  # a start racing with close either ran first or never runs
            started = self._thread is not None
            if self._closed or not started:
                self._closed = True
                return
            self._closed = True
        self._ready.wait()
        assert self._loop is not None
        import asyncio

        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception:  # shutdown must not raise over a user's error
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _shutdown(self) -> None:
        import asyncio

        for job in list(self._jobs.values()):
            self._cancel_in_loop(job, "shutdown")
        tasks = [j.task for j in self._jobs.values() if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self._opener is not None:
            await self._opener.aclose()

    def __enter__(self) -> Downloader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warm(self, url: str) -> None:
        """``url`` is the run's first: unless the cache can answer it without asking the
        server (a fresh entry) or is offline, start the loop and make the client now, and
        wait for it (at most ``WARM_WAIT``). So a first play loads httpcore before its first
        request and PyAV after it, as with no cache (made while PyAV loaded, the client held
        the first request back 50-70 ms); a replay of fresh entries loads neither it nor the
        loop (asyncio) before its head plays. The cache is asked on a thread of its own: the
        caller waits at most ``WARM_WAIT`` for an index that is slow to open."""
        cache = self.cache
        if self._closed or (cache is not None and cache.offline):
            return
        if cache is None:  # every request goes to the network: the loop makes the client
            self.start()
            return
        decided = threading.Event()
        threading.Thread(
            target=self._warm, args=(cache, url, decided), name="kithara-warm", daemon=True
        ).start()
        interrupt.wait(decided, WARM_WAIT)  # past it, the first request waits instead

    def _warm(self, cache: ByteCache, url: str, decided: threading.Event) -> None:
        handed = False
        try:
            if cache.new or not holds_fresh(cache, url):  # a new cache: no need to wait for it
                self.start()
                loop = self._loop
                if loop is not None:  # None: closed before it started
                    with contextlib.suppress(RuntimeError):  # closed since: nothing to warm
                        loop.call_soon_threadsafe(self._make_client, decided)
                        handed = True
        finally:
            if not handed:
                decided.set()

    def _make_client(self, decided: threading.Event) -> None:
        try:
            with contextlib.suppress(KitharaError):  # a request that needs it reports it
                self.opener()
        finally:
            decided.set()

    def opener(self) -> ResponseOpener:
        """The shared client, made on first call (on the loop thread). A client that cannot be
        made (a malformed --proxy) fails every request that needs the network with this."""
        if self._opener is None:
            if self._client_error is not None:
                raise self._client_error
            try:
                self._opener = make_opener(self.net)
            except Exception as exc:
                self._client_error = UsageError(f"cannot set up HTTP: {exc}")
                raise self._client_error from exc
        return self._opener

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first need."""
        if self._loop is None:
            self.start()
        assert self._loop is not None, "the downloader was closed before it started"
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the downloader's loop from synchronous code."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # --- submitting and cancelling (any thread) ---------------------------------------------

    def submit(self, cmd: FetchCmd) -> FetchHandle:
        with self._id_lock:
            request_id = next(self._ids)
        handle = FetchHandle(request_id, cmd, self)
        self.bus.publish(
            RequestEnqueued(
                request_id=request_id,
                url=cmd.url,
                priority="demand" if cmd.priority == Priority.DEMAND else "prefetch",
                label=cmd.label,
                range_start=cmd.start if (cmd.start or cmd.end is not None) else None,
                range_end=cmd.end,
            )
        )
        from kithara_cli.dl.transfer import Job

        job = Job(handle, time.monotonic())
        if self._closed:
            self._finish(job, FetchOutcome(request_id, "cancelled", 0, cancel_reason="shutdown"))
            return handle
        self.loop.call_soon_threadsafe(self._enqueue, job)
        return handle

    def cancel(self, handle: FetchHandle, reason: str = "peer") -> None:
        if handle.future.done() or self._loop is None or self._closed:
            return
        self._loop.call_soon_threadsafe(self._cancel_by_id, handle.request_id, reason)

    def cancel_where(self, predicate: Callable[[FetchCmd], bool], reason: str) -> None:
        """Cancel every queued or running command whose cmd matches (e.g. an old seek epoch)."""
        if self._loop is None or self._closed:
            return

        def run() -> None:
            for job in list(self._jobs.values()):
                if predicate(job.handle.cmd):
                    self._cancel_in_loop(job, reason)

        self._loop.call_soon_threadsafe(run)

    # --- loop-thread internals ---------------------------------------------------------------

    def _enqueue(self, job: Job) -> None:
        self._jobs[job.handle.request_id] = job
        heapq.heappush(self._heap, (int(job.handle.cmd.priority), next(self._seq), job))
        self._pump()

    def _pump(self) -> None:
        while self._active < self.max_concurrent and self._heap:
            _, _, job = heapq.heappop(self._heap)
            if job.finished:
                continue
            self._active += 1
            job.task = self.loop.create_task(self._run(job))
            job.task.add_done_callback(functools.partial(self._never_ran_cb, job))

    def _never_ran_cb(self, job: Job, _task: object) -> None:
        self._never_ran(job)

    def _never_ran(self, job: Job) -> None:
        """A task cancelled before its first step never enters ``_run`` (so no outcome, and
        its slot is never given back): complete it here. Seen as 8 of 200 cancels that
        landed right after the submit; each held a fetch's Ctrl-C for its 5 s wait."""
        if job.finished:
            return
        self._active -= 1
        self._finish(
            job,
            FetchOutcome(
                job.handle.request_id, "cancelled", 0, cancel_reason=job.cancel_reason or "shutdown"
            ),
        )
        self._pump()

    def _cancel_by_id(self, request_id: int, reason: str) -> None:
        job = self._jobs.get(request_id)
        if job is not None:
            self._cancel_in_loop(job, reason)

    def _cancel_in_loop(self, job: Job, reason: str) -> None:
        if job.finished or job.cancel_reason is not None:
            return
        job.cancel_reason = reason
        if job.task is None:  # still queued: complete now, the heap entry is skipped later
            self._finish(
                job,
                FetchOutcome(job.handle.request_id, "cancelled", 0, cancel_reason=reason),
            )
        else:
            job.task.cancel()

    def _finish(self, job: Job, outcome: FetchOutcome) -> None:
        """The single place a command completes: exactly one on_complete per command."""
        if job.finished:
            return
        job.finished = True
        self._jobs.pop(job.handle.request_id, None)
        rid = job.handle.request_id
        if outcome.state == "ok":
            duration = time.monotonic() - job.started_at
            ttfb = job.ttfb
            body_time = max(duration - ttfb, 1e-6)
            self.bus.publish(
                RequestCompleted(
                    request_id=rid,
                    bytes=outcome.bytes,
                    duration=duration,
                    ttfb=ttfb,
                    bandwidth_bps=outcome.bytes * 8 / body_time,
                    from_cache=job.from_cache,
                )
            )
        elif outcome.state == "failed":
            err = outcome.error
            self.bus.publish(
                RequestFailed(
                    request_id=rid,
                    error=str(err),
                    retryable=bool(err and err.retryable),
                )
            )
        else:
            self.bus.publish(RequestCancelled(request_id=rid, reason=outcome.cancel_reason or ""))
        cmd = job.handle.cmd
        if cmd.on_complete is not None:
            try:
                cmd.on_complete(outcome)
            except Exception:  # a peer's bug must not kill the loop
                import logging

                logging.getLogger(__name__).exception("on_complete failed")
        if not job.handle.future.done():
            job.handle.future.set_result(outcome)

    async def _run(self, job: Job) -> FetchOutcome:
        import asyncio

        from kithara_cli.dl.transfer import transfer

        rid = job.handle.request_id
        job.started_at = time.monotonic()
        self.bus.publish(
            RequestStarted(request_id=rid, queue_wait=job.started_at - job.enqueued_at)
        )
        soft = job.handle.cmd.soft_timeout
        soft = self.soft_timeout if soft is None else soft
        timer = self.loop.call_later(soft, self._load_slow, job) if soft > 0 else None
        outcome: FetchOutcome
        try:
            cache = self.cache
            if cache is not None and (job.handle.cmd.cache != "none" or cache.offline):
                # offline, even what is never cached goes no further than the cache
                outcome = await run_cached(self, job, cache)
            else:
                outcome = await transfer(self, self.opener(), job)
        except asyncio.CancelledError:
            outcome = FetchOutcome(
                rid, "cancelled", job.bytes_done, cancel_reason=job.cancel_reason or "shutdown"
            )
        except KitharaError as err:
            outcome = FetchOutcome(rid, "failed", job.bytes_done, error=err)
        except Exception as exc:  # typed at the boundary
            outcome = FetchOutcome(rid, "failed", job.bytes_done, error=_typed(exc, job))
        finally:
            if timer is not None:
                timer.cancel()
            self._active -= 1
        self._finish(job, outcome)
        self._pump()
        return outcome

    def _load_slow(self, job: Job) -> None:
        if job.finished or job.handle.cmd.soft_timeout == 0:  # turned off since (a live stream)
            return
        self.bus.publish(
            LoadSlow(
                request_id=job.handle.request_id,
                elapsed=time.monotonic() - job.started_at,
                bytes_done=job.bytes_done,
                total=job.total,
            )
        )

    # --- small resources ----------------------------------------------------------------------

    def fetch_bytes(
        self,
        url: str,
        *,
        label: str = "",
        priority: Priority = Priority.DEMAND,
        max_bytes: int = 16 * 1024 * 1024,
        timeout: float | None = None,
        byterange: tuple[int, int] | None = None,
        cache: CachePolicy = "auto",
        max_attempts: int | None = None,
    ) -> tuple[bytes, str]:
        """Fetch a small resource (playlist, key, init section) into memory.

        Returns (body, final URL after redirects). ``byterange`` is (offset, length).
        ``max_attempts``: fewer than the retry policy's (a caller with a copy to turn to).
        """
        sink, buf = memory_sink(url, max_bytes, byterange[0] if byterange else 0, label)
        start, end = (byterange[0], byterange[0] + byterange[1]) if byterange else (0, None)
        cmd = FetchCmd(
            url=url, sink=sink, start=start, end=end, priority=priority, label=label, cache=cache,
            max_attempts=max_attempts,
        )  # fmt: skip
        handle = self.submit(cmd)
        try:
            # Woken by Ctrl-C/SIGTERM within interrupt.POLL: a playlist, key or init request
            # stuck on a slow server must not hold the process (a bare result() would).
            outcome = interrupt.result(handle.future, timeout)
        except BaseException:
            handle.cancel("user")
            raise
        if outcome.state == "failed":
            assert outcome.error is not None
            raise outcome.error
        if outcome.state == "cancelled":
            raise NetworkError(f"request cancelled ({outcome.cancel_reason}): {url}")
        final = outcome.info.url if outcome.info else url
        return bytes(buf), final
