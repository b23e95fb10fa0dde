"""Turning httpx exceptions and HTTP statuses into typed kithara errors, by type only.

httpx is imported here only to classify a failure; its exceptions cannot exist before it is.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from kithara_cli.errors import (
    BodyStalledError,
    CertificateError,
    HttpStatusError,
    InvalidUrlError,
    KitharaError,
    MalformedResponseError,
    NetworkError,
    ResolveError,
    ServerBusyError,
    TooLargeError,
    TooManyRedirectsError,
    TruncatedBodyError,
)
from kithara_cli.net.settings import MAX_HEADER_BYTES, MAX_REDIRECTS

if TYPE_CHECKING:
    import ssl

    import httpx


class HeaderReader(Protocol):
    """What status classification reads of response headers (httpx's or ``CoreHeaders``)."""

    def get(self, name: str, default: str | None = None) -> str | None: ...


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        out.append(cur)
        todo.extend([cur.__cause__, cur.__context__])
    return out


def classify_http_error(exc: BaseException, url: str, answered: bool | None = None) -> KitharaError:
    """Map an httpx/OS exception to a retryable or fatal kithara error. ``answered``: the
    response's head had been read when it was raised (None: not known)."""
    if isinstance(exc, KitharaError):
        return exc
    import socket  # loaded with the first error: a replay from the cache may never need it
    import ssl

    import httpx

    chain = _causes(exc)
    if any(isinstance(c, socket.gaierror) for c in chain):
        host = _host(url)
        return ResolveError(f"cannot resolve host {host!r}")
    refused = next((c for c in chain if isinstance(c, ssl.SSLCertVerificationError)), None)
    if refused is not None:
        host = _host(url)
        problem, hint = _certificate_problem(refused)
        return CertificateError(
            f"TLS certificate of {host} is not trusted: {problem}"
            f" ({hint}--insecure skips the check): {url}"
        )
    handshake = next((c for c in chain if isinstance(c, ssl.SSLError)), None)
    if handshake is not None and isinstance(exc, httpx.ConnectError):
        if handshake.reason == "WRONG_VERSION_NUMBER":  # what came back was not TLS at all
            return NetworkError(
                f"TLS handshake with {_host(url)} failed: the server does not speak TLS on "
                f"that port (is the URL http://?): {url}"
            )
        reason = (handshake.reason or type(handshake).__name__).replace("_", " ").lower()
        return NetworkError(f"TLS handshake with {_host(url)} failed ({reason}): {url}")
    if isinstance(exc, httpx.TooManyRedirects):
        return TooManyRedirectsError(f"more than the {MAX_REDIRECTS} redirects limit: {url}", 310)
    if any(_headers_too_large(c) for c in chain):
        return TooLargeError(
            f"response headers larger than {MAX_HEADER_BYTES // 1024} KiB limit: {url}"
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        target = _failed_request_url(exc)
        if target is not None and target.scheme not in ("http", "https"):
            # The URL given was http(s) (``check_http_url``): a redirect led elsewhere.
            return redirect_refused(str(target), url)
        return InvalidUrlError(f"invalid URL {url!r}: {exc}")
    if isinstance(exc, httpx.ReadTimeout):
        return BodyStalledError(f"no data for too long from {url}")
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(f"connection timed out: {url}")
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(c, ConnectionRefusedError) for c in chain):
            return NetworkError(f"connection refused: {url}")
        return NetworkError(f"cannot connect: {url} ({exc})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return _protocol_error(chain, url, answered)
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.NetworkError):
        return NetworkError(f"connection lost: {url}")
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"timed out: {url}")
    if isinstance(exc, httpx.HTTPError | OSError):
        return NetworkError(f"network error on {url}: {type(exc).__name__}")
    return NetworkError(f"unexpected error on {url}: {type(exc).__name__}: {exc}")


def _protocol_error(chain: list[BaseException], url: str, answered: bool | None) -> KitharaError:
    """A RemoteProtocolError, by who raised it: httpcore itself (the connection closed before
    any response: retried, as curl's "empty reply"), or h11, whose parser found the server's
    bytes are not HTTP: in the head (a bad status or header line: ``MalformedResponseError``)
    or in the body (cut short, or a bad chunk: resumed). h11's own words say which line."""
    import h11

    parsed = next((c for c in chain if isinstance(c, h11.RemoteProtocolError)), None)
    if parsed is None:
        return NetworkError(f"the server closed the connection without a response: {url}")
    said = str(parsed).replace("bytearray(", "").replace("')", "'")[:120]
    if answered is False:
        return MalformedResponseError(f"not a valid HTTP response ({said}): {url}")
    return TruncatedBodyError(f"the body broke off ({said}): {url}")


# OpenSSL's X509_V_ERR_* codes (``SSLCertVerificationError.verify_code``) a user can act on.
_UNKNOWN_ISSUER = frozenset({2, 18, 19, 20, 21})  # self-signed, or a CA not in the store
_NOT_YET_VALID, _EXPIRED = 9, 10
_NAME_MISMATCH = frozenset({62, 64})  # hostname, IP address


def _certificate_problem(exc: ssl.SSLCertVerificationError) -> tuple[str, str]:
    """What is wrong with the certificate and what would mend it. The same "not trusted" was a
    missing CA (SSL_CERT_FILE), another host's certificate or an expired one, and only the
    first is the user's to fix."""
    code = exc.verify_code
    if code in _UNKNOWN_ISSUER:
        return "issued by an unknown authority", "SSL_CERT_FILE can name a private CA's bundle; "
    if code in _NAME_MISMATCH:
        return "it is for another host name", "hostname mismatch; "
    if code == _EXPIRED:
        return "it has expired", ""
    if code == _NOT_YET_VALID:
        return "it is not yet valid", "is the clock right? "
    return exc.verify_message or "verification failed", ""


def proxy_label(scheme: str, host: str, port: int | None) -> str:
    """``host:port`` of a proxy, as errors name it: never its credentials."""
    port = port or {"https": 443}.get(scheme, 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def proxy_failure(exc: BaseException, proxy: str, url: str) -> KitharaError | None:
    """A failure of the proxy ``proxy`` itself (it cannot be reached, or refused a CONNECT),
    named as the proxy's; None when the failure is the server's behind it (its TLS).

    Without this, a proxy that is down read as ``connection refused: URL``, the server's fault,
    and a 407 on CONNECT as ``network error on URL: ProxyError``.
    """
    import socket
    import ssl

    import httpx

    chain = _causes(exc)
    if isinstance(exc, httpx.ProxyError):
        # httpcore's text for a CONNECT answered with a non-2xx: "<status> <reason>".
        head = str(exc).split(" ", 1)[0]
        status = int(head) if head.isascii() and head.isdigit() else 0
        if status == 407:
            return proxy_auth_refused(proxy, url)
        if _busy(status):
            return ServerBusyError(f"HTTP {status} from proxy {proxy} for {url}", status)
        if status:
            return HttpStatusError(f"HTTP {status} from proxy {proxy} for {url}", status)
        return NetworkError(f"proxy {proxy} failed: {url}")
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return None
    if any(isinstance(c, ssl.SSLError) for c in chain):
        return None  # the TLS handshake through the tunnel: the server's certificate
    if any(isinstance(c, socket.gaierror) for c in chain):
        return ResolveError(f"cannot resolve proxy host {proxy.rpartition(':')[0]!r}")
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(f"connection to proxy {proxy} timed out (for {url})")
    if any(isinstance(c, ConnectionRefusedError) for c in chain):
        return NetworkError(f"connection refused by proxy {proxy} (for {url})")
    return NetworkError(f"cannot connect to proxy {proxy} (for {url})")


def proxy_auth_refused(proxy: str, url: str) -> HttpStatusError:
    """A 407: the proxy wants credentials (``http://user:password@host:port``) or others."""
    return HttpStatusError(
        f"HTTP 407 proxy authentication required by proxy {proxy} "
        f"(user:password in the proxy URL missing or refused): {url}",
        407,
    )


def _host(url: str) -> str:
    """The URL's host as typed. Not ``httpx.URL``: it refuses hosts that only DNS can refuse
    (``999.1.1.1``), and an exception here escaped the downloader (play hung for ever)."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def redirect_refused(target: str, url: str) -> HttpStatusError:
    """A redirect to a URL that is not http(s) (file:, ftp:...): the server's fault, not the
    URL the user gave, so exit 4 as for too many redirects. No status of its own (a 3xx)."""
    return HttpStatusError(f"redirected to {target}, not an http(s) URL: {url}", 0)


def _failed_request_url(exc: BaseException) -> httpx.URL | None:
    """The URL of the request that failed (after redirects), where httpx recorded it."""
    import httpx

    if not isinstance(exc, httpx.RequestError):
        return None
    try:
        return exc.request.url
    except RuntimeError:  # raised before a request existed
        return None


def _headers_too_large(exc: BaseException) -> bool:
    """h11's own type and status hint for a head over httpcore's size limit (431)."""
    import h11

    return isinstance(exc, h11.RemoteProtocolError) and exc.error_status_hint == 431


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not '²', which isdigit() takes and float refuses
        return float(value)
    import email.utils  # a Retry-After date is rare: not loaded at start-up

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _busy(status: int) -> bool:
    """A status worth retrying: the server (or a proxy) is overloaded or failing for now."""
    return status == 429 or status in (500, 502, 503, 504) or status >= 520


def classify_status(
    status: int, url: str, headers: HeaderReader, reason: str = ""
) -> KitharaError | None:
    """None for a status that carries the resource (200, 203, 206); else the typed error.
    ``reason``: the status line's reason phrase (read only where it names a full station).

    Other 2xx are no file either: a 204's empty body, a 202's note saved as media."""
    if status in (200, 203, 206):
        return None
    if _busy(status):
        retry_after = parse_retry_after(headers.get("retry-after"))
        return ServerBusyError(f"HTTP {status} from {url}", status, retry_after)
    if status == 408:
        return ServerBusyError(f"HTTP 408 from {url}", status, None)
    if status == 401 and _shoutcast_refusal(headers):
        return ServerBusyError(_shoutcast_unavailable(url, headers), status, None)
    if status == 403 and " ".join(reason.lower().split()) in ICECAST_FULL_REASONS:
        said = " ".join(reason.split())  # (one of the phrases above: nothing to neutralise)
        return ServerBusyError(f"station full (Icecast 403 {said}): {url}", status, None)
    named = {
        404: "not found",
        403: "forbidden",
        401: "unauthorized",
        407: "proxy authentication required",
        410: "gone",
        204: "no content",
    }.get(status)
    label = f"HTTP {status} {named}" if named else f"HTTP {status}"
    return HttpStatusError(f"{label}: {url}", status)


# The words of Icecast's 403 for a listener over a mount's limit and over the server's:
# icecast-kh (and Icecast 2.3) put them in the status line; Icecast 2.4 answers
# "403 Forbidden" with them as its whole text/plain body (``client_send_403``), which the
# transfer reads for this (``refusal_in_body``) and passes as ``reason``.
ICECAST_FULL_REASONS = frozenset(
    {"max listeners reached", "too many clients connected", "icecast connection limit reached"}
)
REFUSAL_BODY_BYTES = 256  # Icecast's are under 40


def refusal_in_body(status: int, headers: HeaderReader) -> bool:
    """A 403 whose short plain-text body may say the station is full (Icecast 2.4)."""
    kind = (headers.get("content-type") or "").lower()
    return status == 403 and kind.startswith("text/plain")


def _shoutcast_refusal(headers: HeaderReader) -> bool:
    """SHOUTcast v1's ``ICY 401 Service Unavailable`` (its icy-notice lines beside it): the
    station is full or its source is gone, not a login asked for. A real 401 challenges
    (``WWW-Authenticate``, RFC 9110); this one never does."""
    if headers.get("www-authenticate") is not None:
        return False
    return any(headers.get(name) is not None for name in ("icy-notice1", "icy-notice2"))


def _shoutcast_unavailable(url: str, headers: HeaderReader) -> str:
    """The refusal in the server's own words where it gave some (``icy-notice2``, its
    ``<BR>`` markup dropped; not the server's name and version, which some put there; the
    line is sanitised where it is printed)."""
    import re

    notice = re.sub(r"<[^>]{0,40}>", " ", headers.get("icy-notice2") or "")
    notice = " ".join(notice.split())[:120]
    said = f": {notice}" if notice and not re.search(r"DNAS|Audio Server", notice) else ""
    return f"station full or unavailable (SHOUTcast 401{said}): {url}"
