"""The m3u8 package without its HTTP client: ~10 ms off the way to an HLS replay's audio.

``m3u8/__init__`` imports ``m3u8.httpclient`` (urllib.request, http.client, email) for
``m3u8.load(url)``, which kithara never calls: playlists come through the downloader and only
``m3u8.parse`` reads them. In a first play that import hides behind the master playlist's
round trip; a replay served from the cache waits for it. So while m3u8 imports, a stand-in
takes that module's place (as ``net.core`` holds h2 back from httpcore); its client loads the
real one if anything ever calls ``m3u8.load``.
"""

import importlib
import sys
import types
from typing import Any


class _DeferredHTTPClient:
    """``m3u8.httpclient.DefaultHTTPClient``, loaded on first download."""

    def __init__(self, proxies: Any = None) -> None:
        self.proxies = proxies

    def download(self, *args: Any, **kwargs: Any) -> Any:
        client = importlib.import_module("m3u8.httpclient").DefaultHTTPClient(self.proxies)
        return client.download(*args, **kwargs)


def _import_m3u8() -> None:
    if "m3u8" in sys.modules or "m3u8.httpclient" in sys.modules:
        return
    stand_in = types.ModuleType("m3u8.httpclient")
    stand_in.DefaultHTTPClient = _DeferredHTTPClient  # type: ignore[attr-defined]
    sys.modules["m3u8.httpclient"] = stand_in
    try:
        import m3u8  # noqa: F401
    finally:
        del sys.modules["m3u8.httpclient"]


_import_m3u8()

import m3u8 as m3u8  # noqa: E402  (loaded above; re-exported for hls.playlist)

__all__ = ["m3u8"]
