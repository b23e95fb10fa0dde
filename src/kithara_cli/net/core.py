"""httpcore, loaded the way this package runs it: the one way ``net`` modules import it.

Importing this module imports httpcore with h2 and anyio held back (~30 ms), points its
synchronisation at asyncio (``asyncio_sync``) and tunes it (``tuning``). ``transport`` and
``request`` take ``httpcore`` from here, so nothing loads it before a connection is about to
be made: a play served whole from fresh cache entries never does (~40-60 ms of start-up).
"""

import sys


def _import_httpcore() -> None:
    """Import httpcore with h2 and anyio held back.

    httpcore imports h2 at import time whenever it is installed, yet only an HTTP/2
    connection uses it, and that code imports it itself when it runs
    (``httpcore._async.connection``). A ``None`` in ``sys.modules`` makes ``import h2`` fail
    for that moment, so h2 loads on the first HTTP/2 connection instead. socksio is held back
    the same way (~8 ms): httpcore then stands a stub in for its SOCKS pool, and
    ``socks_pool`` imports the real one when a SOCKS proxy is named. anyio is replaced by
    asyncio's own primitives (``asyncio_sync``); a stand-in that loads the real anyio on first
    use covers httpcore's anyio backend, which no connection of kithara's runs (proxies, SOCKS
    included, run on ``transport.AsyncioBackend``).
    """
    from kithara_cli.net import asyncio_sync

    if "httpcore" not in sys.modules:
        held: dict[str, object] = {}
        for name in ("h2", "socksio"):
            if name not in sys.modules:
                held[name] = None
        if "anyio" not in sys.modules:
            held["anyio"] = asyncio_sync.deferred_anyio()
        sys.modules.update(held)  # type: ignore[arg-type]
        try:
            import httpcore  # noqa: F401
        finally:
            for name in held:
                del sys.modules[name]
    asyncio_sync.install()
    from kithara_cli.net.tuning import tune_httpcore

    tune_httpcore()


_import_httpcore()

import httpcore as httpcore  # noqa: E402  (loaded above; re-exported for the net modules)


def socks_pool() -> type[httpcore.AsyncSOCKSProxy]:
    """httpcore's SOCKS pool, importing socksio now (held back when httpcore loaded)."""
    from httpcore._async.socks_proxy import AsyncSOCKSProxy

    return AsyncSOCKSProxy


__all__ = ["httpcore", "socks_pool"]
