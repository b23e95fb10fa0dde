"""What a run sends to each URL: the request a stored response is matched with.

Two uses: a response's ``Vary`` (``cache.vary``) is compared with these headers, and an
entry is scoped by the credentials among them (RFC 9111 section 3.5: a response to a request
with credentials is not given to a request without them, or with other ones). The Cookie
counted is the one the jar sends to that URL: a ``--cookies`` file rewritten by an export
tool (another order, another mtime, cookies for other sites) scopes the same entries, and a
URL the jar sends nothing to shares entries with runs that send no cookies at all.

A response saying ``public`` or ``s-maxage`` (or ``must-revalidate``) is scoped all the same.
Section 3.5 lets a *shared* cache give such a response to other users; this cache is one
user's, and the question is only whether another set of credentials gets the same bytes. That
those directives do not say: a CDN marks a members' file ``public`` while keying its own copy
by the member's cookie or token, and an origin's free preview and its members' full track
(or a file refused to a lapsed account) seldom send ``Vary: Cookie``. Sharing would save a
request when credentials change, and would serve, while fresh and offline, bytes the origin
gives only to the other credentials; the common change (a cookies file exported again) now
keeps its entries anyway.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from kithara_cli.cache.paths import HEAD_PREFIX
from kithara_cli.cache.vary import normal
from kithara_cli.errors import KitharaError

if TYPE_CHECKING:
    from kithara_cli.net.settings import NetConfig

# Request headers that say who asks: a response to them may be that person's alone.
CREDENTIAL_HEADERS = ("authorization", "cookie")
UNSETTLED = "unsettled"  # the run's settings did not parse: it fails on its own, matches nothing
# URLs remembered: a live HLS play asks for each new segment's, for hours (recomputed past it).
MAX_REMEMBERED = 4096


class SentHeaders:
    """The run's request headers per URL, from its network settings made on first need (a
    replay's head is looked up before the downloader exists); thread-safe."""

    def __init__(self, make_config: Callable[[], NetConfig], *, credentials: bool = True) -> None:
        self._make_config = make_config
        # False: the run gives no --header, --cookie or --cookies, so sends no credentials
        # (its settings are then made only for a Vary, never on a plain replay's way).
        self._credentials = credentials
        self._config: NetConfig | None = None
        self._failed = False
        self._lock = threading.Lock()
        self._headers: dict[str, Mapping[str, str]] = {}
        self._scopes: dict[str, str | None] = {}

    def _settings(self) -> NetConfig | None:
        if self._config is None and not self._failed:
            try:
                self._config = self._make_config()
            except KitharaError:  # a bad --header or --cookies: said when the run makes it
                self._failed = True
        return self._config

    def headers(self, url: str) -> Mapping[str, str]:
        """The headers a request to ``url`` carries, names lower case."""
        url = url.removeprefix(HEAD_PREFIX)
        with self._lock:
            found = self._headers.get(url)
            if found is None:
                from kithara_cli.net.settings import headers_for

                config = self._settings()
                found = {} if config is None else headers_for(config, url)
                if len(self._headers) >= MAX_REMEMBERED:
                    self._headers.clear()
                self._headers[url] = found
            return found

    def scope(self, url: str) -> str | None:
        """A digest of the credentials sent to ``url``, or None when none are."""
        if not self._credentials:
            return None
        url = url.removeprefix(HEAD_PREFIX)
        with self._lock:
            if url in self._scopes:
                return self._scopes[url]
        sent = self.headers(url)
        if self._failed:
            return UNSETTLED
        parts = [
            f"{name}\0{normal(name, sent[name])}" for name in CREDENTIAL_HEADERS if sent.get(name)
        ]
        digest = None
        if parts:
            digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        with self._lock:
            if len(self._scopes) >= MAX_REMEMBERED:
                self._scopes.clear()
            self._scopes[url] = digest
        return digest
