"""Net: the one shared httpx client, its settings, the retry policy, and error typing.

Promises: one ``httpx.AsyncClient`` per downloader (pooled connections, HTTP/2 on request,
environment proxies honoured unless ``--proxy`` says otherwise); every transport failure is
turned into a typed ``kithara_cli.errors`` error, retryable or fatal, by exception type.
Direct connections (no proxy) go through ``transport.DirectTransport``: httpcore over a
network backend on asyncio's own transports, in small pools (see that module for why).
Never: schedules, retries or writes on its own (the downloader does), or accepts a URL that is
not http(s); loads h2 or the CA bundle before an HTTP/2 connection or an https URL needs them.
"""

import sys


def _import_httpcore_without_h2() -> None:
    """Import httpcore with h2 hidden: 15-20 ms off every command's start-up.

    httpcore imports h2 at import time whenever it is installed, yet only an HTTP/2
    connection uses it, and that code imports it itself when it runs
    (``httpcore._async.connection``). A ``None`` in ``sys.modules`` makes ``import h2`` fail
    for that moment, so h2 loads on the first HTTP/2 connection instead.
    """
    if "httpcore" in sys.modules or "h2" in sys.modules:
        return
    sys.modules["h2"] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
    finally:
        del sys.modules["h2"]


_import_httpcore_without_h2()

from kithara_cli.net.client import NetConfig, make_client  # noqa: E402
from kithara_cli.net.errors import classify_http_error, classify_status  # noqa: E402
from kithara_cli.net.retry import RetryPolicy  # noqa: E402
from kithara_cli.net.urls import check_http_url  # noqa: E402

__all__ = [
    "NetConfig",
    "RetryPolicy",
    "check_http_url",
    "classify_http_error",
    "classify_status",
    "make_client",
]
