"""Net: the one shared httpx client, its settings, the retry policy, and error typing.

Promises: one ``httpx.AsyncClient`` per downloader (pooled connections, HTTP/2 on request,
environment proxies honoured unless ``--proxy`` says otherwise); every transport failure is
turned into a typed ``kithara_cli.errors`` error, retryable or fatal, by exception type.
Never: schedules, retries or writes on its own (the downloader does), or accepts a URL that is
not http(s).
"""

from kithara_cli.net.client import NetConfig, make_client
from kithara_cli.net.errors import classify_http_error, classify_status
from kithara_cli.net.retry import RetryPolicy
from kithara_cli.net.urls import check_http_url

__all__ = [
    "NetConfig",
    "RetryPolicy",
    "check_http_url",
    "classify_http_error",
    "classify_status",
    "make_client",
]
