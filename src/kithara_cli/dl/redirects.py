"""Where a URL's redirects led, remembered for the run: its later requests go straight there.

A podcast episode's URL is typically a chain of tracking redirects (an analytics prefix, a
measurement host, the host's own redirector) before the CDN that serves the bytes; each hop
is a round trip, often a new TLS connection. ``play`` asks the same file for more ranges
(the audio after a cover-art tag, the tail a demuxer peeks at, every seek) and ``fetch``
asks one range per connection: FFmpeg and Chromium's media loader send such requests to the
redirect's target, and so does the downloader now, for ranged requests (each checked against
the version its resource was pinned to; a whole body, a playlist reloaded, follows the
redirects every time: a "latest" URL may lead elsewhere later). The first request follows its
redirects as ever; a request whose remembered target fails in any way forgets it and is
made again from the URL itself (a signed CDN URL may expire), without counting as a try.

Never remembered: a URL with ``user:password@`` or a run with an Authorization header of its
own, when the target is another origin (following the redirect drops the credentials there,
a request made straight to it would not); a target that is not http(s). One memory per
downloader, touched only on its loop's thread.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


class RedirectMemory:
    """Redirect targets by the URL asked for."""

    def __init__(self, *, sends_authorization: bool = False) -> None:
        self._targets: dict[str, str] = {}
        self._sends_authorization = sends_authorization

    def target(self, url: str) -> str:
        """Where to send a request for ``url``: the remembered target, else ``url``."""
        return self._targets.get(url, url)

    def learn(self, url: str, final: str) -> None:
        """A response for ``url`` came from ``final`` (after its redirects)."""
        if final == url or final == self._targets.get(url):
            return
        asked, landed = urlsplit(url), urlsplit(final)
        if landed.scheme not in ("http", "https") or "@" in landed.netloc:
            return
        if "@" in asked.netloc:
            return  # the target holds no userinfo: a request straight there would send none
        if self._sends_authorization and _origin(asked) != _origin(landed):
            return  # following the redirect drops the header there; a request would not
        self._targets[url] = final

    def forget(self, url: str) -> None:
        self._targets.pop(url, None)


def _origin(parts: SplitResult) -> tuple[str, str | None, int | None]:
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, parts.hostname, port or {"http": 80, "https": 443}.get(parts.scheme)
