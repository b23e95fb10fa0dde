"""One command's transfer: requests, resumes and retries until its range is whole.

Every response is placed before a byte of it is used (``dl.validate``): which version it is
(checked against the one the command's bytes so far belong to), where its body starts, where
the resource ends. A 206 continues from its Content-Range; a 200 is the whole object from
byte 0, so it rewrites the command's range from its start; a response of another version
restarts the range (or, for a resource shared with other commands, fails the command with
RemoteChangedError so the peer starts over). Nothing is ever trimmed on trust or spliced.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kithara_cli.dl.command import FetchHandle, FetchOutcome, ResponseInfo
from kithara_cli.dl.freshness import HEADERS as CACHING_HEADERS
from kithara_cli.dl.validate import (
    DeadlineError,
    Identity,
    Placement,
    ResourceTooShortError,
    SlowBodyError,
    parse_content_range,
    place,
)
from kithara_cli.errors import (
    BodyStalledError,
    FatalError,
    MalformedResponseError,
    NetworkError,
    RemoteChangedError,
    ServerBusyError,
    TruncatedBodyError,
)
from kithara_cli.events.types import (
    BodyResumed,
    BodyStalled,
    FirstByte,
    Notice,
    RequestProgress,
    RequestRetrying,
    RetryExhausted,
)
from kithara_cli.net import classify_http_error, classify_status, refusal_in_body
from kithara_cli.net.encoding import BodyDecoder, ContentEncodingError, content_coding, decoder_for
from kithara_cli.net.errors import REFUSAL_BODY_BYTES

if TYPE_CHECKING:
    import httpx

    from kithara_cli.dl.downloader import Downloader
    from kithara_cli.net.request import DirectResponse, ResponseOpener

BUSY_WAIT = 5.0  # seconds a command with ``on_busy="wait"`` retries busy answers uncounted
REFUSAL_WAIT = 2.0  # seconds for a refusal's few words (Icecast sends them with its head)
MAX_RESTARTS = 3  # another version mid-command this often: the server is not serving one file


@dataclass
class Job:
    handle: FetchHandle
    enqueued_at: float
    started_at: float = 0.0
    ttfb: float = 0.0
    bytes_done: int = 0  # bytes of the command's range written, from its start
    total: int | None = None
    task: asyncio.Task[FetchOutcome] | None = None
    cancel_reason: str | None = None
    finished: bool = False
    pinned: Identity | None = None
    high_water: int = 0  # the furthest the range was ever written: progress across restarts
    from_cache: bool = False  # every byte was served by the persistent cache


class _Stop(Exception):
    """The body reached the command's end (not an error)."""


async def transfer(dl: Downloader, opener: ResponseOpener, job: Job) -> FetchOutcome:
    cmd = job.handle.cmd
    rid = job.handle.request_id
    net = dl.net
    loop = asyncio.get_running_loop()
    info: ResponseInfo | None = None
    job.pinned = cmd.identity
    attempt = resumes = restarts = malformed = 0
    resource_end: int | None = None
    broke_at = 0  # where the last attempt's body ended early (0: none did)
    stalled_at = -1  # where the last attempt's whole body (a 200) stalled
    while True:
        attempt += 1
        want = cmd.start + job.bytes_done
        if cmd.end is not None and want >= cmd.end:
            return _ok(job, info, resource_end)
        headers = dict(cmd.headers or {})
        upto = cmd.end if cmd.end is not None else None
        if upto is None and cmd.limit is not None:
            upto = cmd.start + cmd.limit  # asked as a range, but a shorter file is fine
        if upto is not None and want >= upto:
            return _ok(job, info, resource_end)  # the cap reached (a range ends above)
        if want > 0 or upto is not None:
            last = "" if upto is None else str(upto - 1)
            headers = {k: v for k, v in headers.items() if k.lower() != "range"}
            headers["Range"] = f"bytes={want}-{last}"
        validator = job.pinned.if_range() if job.pinned is not None else None
        if validator and any(k.lower() == "range" for k in headers):
            headers["If-Range"] = validator
        before = job.high_water
        partial = False  # this attempt's response was a 206: a cut-off resumes forward
        t0 = time.monotonic()
        deadline = cmd.deadline if cmd.deadline is not None else net.request_deadline
        # A range of a resource goes where its redirects led before (dl.redirects); a whole
        # body (a playlist reloaded) follows them each time: its target may move on.
        ranged = any(k.lower() == "range" for k in headers)
        target = dl.redirects.target(cmd.url) if ranged else cmd.url
        answered = False  # the response's head was read (a protocol error after: its body)
        try:
            async with asyncio.timeout(net.connect_timeout + net.read_timeout) as limit:
                async with opener.stream(target, headers) as resp:
                    limit.reschedule(None if deadline is None else loop.time() + deadline)
                    status, answered = resp.status_code, True
                    partial = status == 206
                    if status == 416:
                        _, _, total = parse_content_range(resp.headers.get("content-range"))
                        if cmd.end is None and total is not None and total == want:
                            job.total = total  # nothing left: we have it all (or it is empty)
                            return _ok(job, info, total)
                        _check_416(job.pinned, want, total, cmd.url)
                    err = classify_status(status, cmd.url, resp.headers, resp.reason_phrase)
                    if err is not None and refusal_in_body(status, resp.headers):
                        said = await _refusal_text(resp)  # Icecast 2.4: "max listeners reached"
                        err = classify_status(status, cmd.url, resp.headers, said) or err
                    if err is not None:
                        raise err
                    dl.redirects.learn(cmd.url, str(resp.url))
                    coding = content_coding(resp.headers.get("content-encoding"))
                    if coding is not None and status == 206:
                        raise ContentEncodingError(
                            f"server sent a {coding}-encoded byte range: {cmd.url}"
                        )
                    decoder = decoder_for(coding, cmd.url) if coding is not None else None
                    p = place(status, resp.headers, want, coding, cmd.url)
                    if p.total is not None:
                        resource_end = p.total
                    unverifiable = job.pinned is not None and not job.pinned.known and p.whole
                    if (
                        job.pinned is not None
                        and not job.pinned.matches(p.identity)
                        and not (unverifiable and cmd.on_change == "restart")
                    ):
                        restarts += 1
                        changed = (
                            f"remote file changed ({job.pinned.change(p.identity)}): {cmd.url}"
                            if job.pinned.known
                            else f"cannot resume {cmd.url}: the server gives no length, ETag "
                            "or Last-Modified to tell its answers are the same file"
                        )
                        if broke_at and not job.pinned.known:  # say why it was asked again
                            changed = f"the body broke off at byte {broke_at}; {changed}"
                        if cmd.on_change != "restart" or restarts > MAX_RESTARTS:
                            raise RemoteChangedError(changed)
                        dl.bus.publish(Notice(level="warning", message=f"{changed}: restarting"))
                        job.pinned = None
                        job.bytes_done = 0
                        info = None  # the peer hears of the new version as a first response
                        if not p.whole and p.body_start > cmd.start:
                            continue  # this version's bytes from the start: ask again
                        want = cmd.start
                    if job.pinned is None:
                        job.pinned = p.identity
                    if p.whole and want > cmd.start:
                        # A 200 to a Range: the whole object again; the range is rewritten
                        # from it (same version, checked above), never trimmed on trust.
                        job.bytes_done = 0
                        want = cmd.start
                    if info is None:
                        job.ttfb = time.monotonic() - t0
                        info = _first_response(dl, job, resp, p, coding)
                    else:
                        resumes += 1
                        dl.bus.publish(
                            BodyResumed(
                                request_id=rid,
                                resume=resumes,
                                from_offset=want,
                                range_honoured=status == 206,
                            )
                        )
                    stop = cmd.end  # read after on_response, which may move it
                    _check_short(p, cmd.start, stop, cmd.url)
                    if stop is not None and p.body_end is not None:
                        job.total = min(stop, p.body_end) - cmd.start
                    cap = stop
                    if cap is None and cmd.limit is not None:
                        cap = cmd.start + cmd.limit
                    at_eof = await _pump(dl, job, resp, p, want, cap, decoder)
                    end_pos = cmd.start + job.bytes_done
                    if cap is not None and end_pos >= cap:
                        return _ok(job, info, resource_end)
                    if p.body_end is not None and end_pos < p.body_end:
                        raise TruncatedBodyError(
                            f"body ended at byte {end_pos} of {p.body_end}: {cmd.url}"
                        )
                    if at_eof and (p.whole or (upto is None and p.total is None)):
                        # A whole body, or an open-ended range, read to its end: the length.
                        resource_end = end_pos
                    if stop is not None:
                        if resource_end is not None and resource_end <= end_pos:
                            raise ResourceTooShortError(
                                f"asked bytes {cmd.start}-{stop - 1}, the file ends at "
                                f"{resource_end}: {cmd.url}"
                            )
                        raise TruncatedBodyError(
                            f"the range ended at byte {end_pos}, short of {stop}: {cmd.url}"
                        )
                    if not p.whole and p.total is not None and end_pos < p.total:
                        # Asked to the end, sent a shorter range (a CDN's chunk): go on.
                        raise TruncatedBodyError(
                            f"the range ended at byte {end_pos} of {p.total}: {cmd.url}"
                        )
                    job.total = job.bytes_done
                    return _ok(job, info, resource_end)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if target != cmd.url:  # a remembered redirect target failed: ask the URL itself
                dl.redirects.forget(cmd.url)
                attempt -= 1
                continue
            if isinstance(exc, FatalError):
                raise
            if isinstance(exc, TimeoutError) and not isinstance(exc, BodyStalledError):
                exc = DeadlineError(f"request took too long: {cmd.url}")
            err = classify_http_error(exc, cmd.url, answered)
            broke_at = cmd.start + job.bytes_done if answered and job.bytes_done else 0
            true_stall = isinstance(err, BodyStalledError) and not isinstance(
                err, SlowBodyError | DeadlineError
            )
            if true_stall and answered and not partial and broke_at == stalled_at:
                # The whole body again, stalled at the same byte: the server announced more
                # than it has (a kept-open connection); the next try would do the same.
                raise BodyStalledError(
                    f"no data past byte {broke_at}, twice: the server announced more: {cmd.url}"
                ) from exc
            stalled_at = broke_at if true_stall and answered and not partial else -1
            malformed += isinstance(err, MalformedResponseError)
            if malformed >= 2:
                raise err from exc  # not HTTP on a new connection either (the class doc)
            if not err.retryable or isinstance(err, RemoteChangedError):
                raise err from exc
            if isinstance(err, ServerBusyError) and cmd.on_busy == "fail":
                raise err from exc  # the peer has another way (``FetchCmd.on_busy``)
            # Not counted: the connection the peer just closed is freed in a moment.
            waiting = isinstance(err, ServerBusyError) and cmd.on_busy == "wait"
            waiting = waiting and time.monotonic() - job.started_at < BUSY_WAIT
            attempt = 1 if waiting else attempt
            # "No bytes for N s": a true stall only (a trickle and a deadline say their own).
            if true_stall:
                dl.bus.publish(
                    BodyStalled(
                        request_id=rid,
                        consumed=job.bytes_done,
                        expected=job.total,
                        stall=net.read_timeout,
                    )
                )
            # A trickle never counts as progress; a deadline only where the next request goes
            # on from here (a 206), not where it starts the whole body over (a 200); nor a
            # stall after fewer bytes than the minimum rate owed for the wait (a server that
            # sends a buffer's worth, then hangs, each time: else resumed a thousand times).
            stuck = (
                isinstance(err, SlowBodyError)
                or (isinstance(err, DeadlineError) and not partial)
                or (
                    isinstance(err, BodyStalledError)
                    and job.high_water - before < net.min_rate * (time.monotonic() - t0)
                )
            )
            progressed = job.high_water > before and not stuck
            if progressed:  # this is a resume, not a retry
                attempt = 1
            limit_n = dl.retry.max_attempts
            if cmd.max_attempts is not None:
                limit_n = max(1, min(limit_n, cmd.max_attempts))
            if (attempt >= limit_n and not waiting) or resumes > 1000:
                dl.bus.publish(RetryExhausted(request_id=rid, attempts=attempt))
                raise err from exc
            retry_after = err.retry_after if isinstance(err, ServerBusyError) else None
            delay = 0.0 if progressed else dl.retry.backoff(attempt, retry_after)
            dl.bus.publish(
                RequestRetrying(
                    request_id=rid,
                    attempt=attempt,
                    max_attempts=limit_n,
                    error=str(err),
                    backoff=delay,
                )
            )
            if delay:
                await asyncio.sleep(delay)
            attempt = 0 if waiting else attempt


def _ok(job: Job, info: ResponseInfo | None, resource_end: int | None) -> FetchOutcome:
    return FetchOutcome(
        job.handle.request_id,
        "ok",
        job.bytes_done,
        info=info,
        resource_end=resource_end,
        identity=job.pinned,
    )


def _check_416(pinned: Identity | None, want: int, total: int | None, url: str) -> None:
    """A 416 for bytes the pinned version has: the file is no longer that version (it
    shrank), so the bytes so far must be dropped, not the fetch failed as a 4xx."""
    length = pinned.length if pinned is not None else None
    if length is not None and want < length and total != length:
        now = "shorter" if total is None else f"length {total}"
        raise RemoteChangedError(f"remote file changed (length {length}, now {now}): {url}")


def _check_short(p: Placement, start: int, end: int | None, url: str) -> None:
    """A resource that ends before the asked range does: an error, not a short segment."""
    if end is None:
        return
    known_end = p.total if p.total is not None else (p.body_end if p.whole else None)
    if known_end is not None and known_end < end:
        raise ResourceTooShortError(
            f"asked bytes {start}-{end - 1}, the file has {known_end} bytes: {url}"
        )


async def _refusal_text(resp: httpx.Response | DirectResponse) -> str:
    """The first bytes of a refusal's body, as text ("" if they do not come at once)."""
    data = b""
    try:
        async with asyncio.timeout(REFUSAL_WAIT):
            async for raw in resp.aiter_raw():
                data += raw
                if len(data) >= REFUSAL_BODY_BYTES:
                    break
    except Exception:  # (a timeout, a reset): only a better name was at stake, the 403 stands
        pass
    return data[:REFUSAL_BODY_BYTES].decode("utf-8", "replace")


def _icy_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """``icy-*`` headers, names in lower case, each value's bytes as Latin-1 code points:
    stations send ``icy-name`` in their source's own encoding (UTF-8, Windows-1251 or -1252),
    which ``radio.icy`` reads as it reads titles (httpx picks one encoding for the whole set)."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key.startswith("icy-"):
            text = value.decode("latin-1")
            out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def _first_response(
    dl: Downloader,
    job: Job,
    resp: httpx.Response | DirectResponse,
    p: Placement,
    coding: str | None,
) -> ResponseInfo:
    cmd = job.handle.cmd
    full = p.body_end
    if cmd.end is not None:
        full = cmd.end if full is None else min(full, cmd.end)
    job.total = None if full is None else full - cmd.start
    info = ResponseInfo(
        url=str(resp.url),
        status=resp.status_code,
        total_size=p.total,
        range_honoured=resp.status_code == 206,
        etag=resp.headers.get("etag"),
        last_modified=resp.headers.get("last-modified"),
        content_type=resp.headers.get("content-type"),
        identity=p.identity,
        encoding=coding,
        icy=_icy_headers(resp.headers.raw),
        caching={k.lower(): v for k, v in resp.headers.items() if k.lower() in CACHING_HEADERS},
    )
    dl.bus.publish(
        FirstByte(
            request_id=job.handle.request_id,
            ttfb=job.ttfb,
            status=resp.status_code,
            partial=resp.status_code == 206,
            total=job.total,
        )
    )
    if cmd.on_response is not None:
        cmd.on_response(info)  # may narrow cmd.end (split into parts) or refuse
    return info


async def _pump(
    dl: Downloader,
    job: Job,
    resp: httpx.Response | DirectResponse,
    p: Placement,
    want: int,
    end: int | None,
    decoder: BodyDecoder | None,
) -> bool:
    """Hand body chunks to the sink at their absolute offsets; True when the body's EOF came.

    The hot loop. Also where a trickle is caught: over each ``read_timeout`` window the body
    must average ``min_rate`` bytes/s.
    """
    cmd = job.handle.cmd
    sink = cmd.sink
    start = cmd.start
    skip = want - p.body_start
    offset = want
    net = dl.net
    interval = dl.progress_interval
    window = net.read_timeout
    min_bytes = net.min_rate * window
    now = time.monotonic()
    next_progress = now + interval
    window_end = now + window
    window_bytes = 0
    rid = job.handle.request_id
    publish = dl.bus.publish
    # A 206's bytes are placed by its Content-Range: any its body holds past that range's
    # end (a Content-Length that says more) belong nowhere known, and are never written.
    placed_end = None if p.whole else p.body_end
    overrun = False

    def deliver(chunk: bytes) -> None:
        nonlocal skip, offset, overrun
        if skip:
            if len(chunk) <= skip:
                skip -= len(chunk)
                return
            chunk = chunk[skip:]
            skip = 0
        if placed_end is not None and offset + len(chunk) > placed_end:
            overrun = True
            chunk = chunk[: max(0, placed_end - offset)]
            if not chunk:
                return
        if end is not None and offset + len(chunk) >= end:
            chunk = chunk[: end - offset]
            sink(offset, chunk)
            offset += len(chunk)
            job.bytes_done = offset - start
            job.high_water = max(job.high_water, offset)
            raise _Stop
        sink(offset, chunk)
        offset += len(chunk)
        job.bytes_done = offset - start
        if offset > job.high_water:
            job.high_water = offset

    try:
        async for raw in resp.aiter_raw():
            deliver(decoder.decode(raw) if decoder is not None else raw)
            now = time.monotonic()
            window_bytes += len(raw)
            if now >= window_end:
                if window_bytes < min_bytes:
                    raise SlowBodyError(
                        f"body slower than {net.min_rate:g} bytes/s for {window:g} s: {cmd.url}"
                    )
                window_end = now + window
                window_bytes = 0
            if now >= next_progress:
                next_progress = now + interval
                publish(
                    RequestProgress(
                        request_id=rid,
                        bytes_done=job.bytes_done,
                        total=job.total,
                        elapsed=now - job.started_at,
                    )
                )
        if decoder is not None:
            deliver(decoder.flush())
    except _Stop:
        return False
    if overrun:
        raise NetworkError(
            f"206 body longer than its Content-Range (bytes {p.body_start}-"
            f"{placed_end - 1 if placed_end is not None else ''}): {cmd.url}"
        )
    return True
