"""Net: the one shared HTTP client, its settings, the retry policy, and error typing.

Promises: one client per downloader (pooled connections, HTTP/2 on request, environment
proxies honoured by urllib's rules, NO_PROXY included (its IP addresses and CIDR networks,
v4 and v6, match IP-literal hosts: ``no_proxy``), unless ``--proxy`` says otherwise: a
``host:port`` is an http proxy, ``""`` none; ``socks5://`` and ``socks5h://``, the name then
resolved by the proxy, are SOCKS5, through socksio); every transport failure is turned into a typed
``kithara_cli.errors`` error, retryable or fatal, by exception type; a proxy's own failure
(down, unknown name, a 407, a refused CONNECT) names the proxy (``host:port``, never its
credentials), not the server behind it. TLS certificates are verified unless
``NetConfig.verify_tls`` is off (``--insecure``), against ``SSL_CERT_FILE``/``SSL_CERT_DIR``
when set (with ``--proxy`` too); an untrusted one is a fatal ``CertificateError`` that names
the problem (unknown authority, another host's name, expired). Redirects (10) and response heads (100 KiB) are limited, and the
errors name the limit (``settings.MAX_REDIRECTS``, ``settings.MAX_HEADER_BYTES``); a redirect
to a URL that is not http(s) is refused as an HTTP status error naming its target.
Direct connections (no proxy) use ``transport.DirectPools``: httpcore over a network backend
on asyncio's own transports, in small pools (see that module for why), with asyncio's own
locks in place of anyio's (``asyncio_sync``). ``make_opener`` gives the streamed GET: straight
to those pools when the URL is one httpx would send as written and the client holds no
cookies (``request``), else through the ``httpx.AsyncClient`` (``httpx_client``), built over
the same pools when first needed. Redirects and cookies keep httpx's rules, and failures are
httpx's exception types either way. Media is asked for with ``Accept-Encoding: identity``;
``encoding`` decodes gzip/deflate (br when a brotli module is installed) for a server that
sends them anyway, and refuses any other coding by name. Cookies given by the user
(``NetConfig.cookies``, read by ``cookies.load_cookies`` from ``--cookies``/``--cookie``) go
out by the standard library jar's domain, path and expiry rules on every hop of a redirect
(every request then goes through the httpx client), and no cookie value is ever put in an
event, a log line or an error. A URL's ``user:password@`` is sent as basic auth (through
the httpx client) to that URL's origin only, never to another host a redirect names.
``NetConfig`` carries the
inactivity timeout, the minimum body rate and the per-request deadline the downloader keeps.
Never: schedules, retries or writes on its own (the downloader does), or accepts a URL that is
not http(s); loads httpcore (``core``, with h11) before an opener is made (``make_opener``;
importing this package, its settings, errors and URL checks loads none of it), httpx before a
request needs it (a proxy, a redirect, a cookie, a URL to normalise, https's CA bundle, a
failure to type), nor h2, anyio or the CA bundle before an HTTP/2 connection, a proxy or an
https URL needs them.
"""

from kithara_cli.net.client import NetConfig, make_client, make_opener
from kithara_cli.net.errors import classify_http_error, classify_status, refusal_in_body
from kithara_cli.net.retry import RetryPolicy
from kithara_cli.net.urls import check_http_url

__all__ = [
    "NetConfig",
    "RetryPolicy",
    "check_http_url",
    "classify_http_error",
    "classify_status",
    "make_client",
    "make_opener",
    "refusal_in_body",
]
