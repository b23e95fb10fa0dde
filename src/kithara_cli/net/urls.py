"""URL checks shared by every entry point."""

from __future__ import annotations

from urllib.parse import urlsplit

from kithara_cli.errors import InvalidUrlError


def check_http_url(url: str) -> str:
    """Accept only absolute http(s) URLs with a host; say what is wrong otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidUrlError(f"invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        scheme = parts.scheme or "none"
        raise InvalidUrlError(f"unsupported URL scheme {scheme!r} in {url!r} (use http or https)")
    if not parts.hostname:
        raise InvalidUrlError(f"invalid URL {url!r}: no host")
    try:
        _ = parts.port
    except ValueError as exc:
        raise InvalidUrlError(f"invalid URL {url!r}: bad port") from exc
    return url
