"""URL checks shared by every entry point."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from kithara_cli.errors import InvalidUrlError


def check_http_url(url: str) -> str:
    """Accept only absolute http(s) URLs with a host; say what is wrong otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidUrlError(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        hint = scheme_hint(url)
        if hint is not None:
            raise InvalidUrlError(f"no scheme in {url!r}: {hint}")
        scheme = parts.scheme or "none"
        raise InvalidUrlError(f"unsupported URL scheme {scheme!r} in {url!r} (use http or https)")
    if not parts.hostname:
        raise InvalidUrlError(f"invalid URL {url!r}: no host")
    try:
        _ = parts.port
    except ValueError as exc:
        raise InvalidUrlError(f"invalid URL {url!r}: bad port") from exc
    return url


# A host (a name with a dot, localhost or an IP address; a port optional) then a path or
# nothing: what a URL copied without its scheme (or typed as curl takes it) looks like.
_HOST_FIRST = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?(?:[/?#]|$)"
)


def scheme_hint(text: str) -> str | None:
    """``did you mean https://example.com/a.mp3?`` for ``example.com/a.mp3``, or None.

    curl and streamlink would guess a scheme and go on; a guess here could send a request
    where none was meant (or an http one where https was), so the line says what to type.
    """
    url = with_scheme(text)
    return None if url is None else f"did you mean {url}?"


def with_scheme(text: str) -> str | None:
    """``text`` with the scheme it most likely lost, when it reads as a URL without one:
    http:// for a loopback or IP address host (a local server rarely has TLS), else https://."""
    found = _HOST_FIRST.match(text)
    if "://" in text or found is None:
        return None
    host = found.group("host")
    if found.end() == len(text) and host.lower() != "localhost":
        return None  # ``song.mp3``, ``example.com``: a file name as likely as a host
    if os.path.isdir(host):
        return None  # ``music.d/a.mp3``: a path in a folder that is there
    try:
        ipaddress.ip_address(host)
        scheme = "http"
    except ValueError:
        if host.lower() != "localhost" and ("." not in host or host[-1].isdigit()):
            return None
        scheme = "http" if host.lower() == "localhost" else "https"
    return f"{scheme}://{text}"
