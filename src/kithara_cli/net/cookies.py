"""``--cookies FILE`` and ``--cookie NAME=VALUE``: a cookie jar the shared client sends from.

The jar is the standard library's (``http.cookiejar``): ``MozillaCookieJar`` reads the
Netscape cookies.txt that curl, wget, yt-dlp and browser extensions write, and the jar's own
policy decides which cookies go to which request (domain, path, secure, expiry) on every hop
of a redirect too, as httpx asks it to. Nothing here logs a cookie: values never reach an
event, ``--verbose`` or an error message (an error names the file and line only).
"""

from __future__ import annotations

import http.cookiejar
import re
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from kithara_cli.errors import UsageError


def load_cookies(path: Path | None, pairs: list[str], url: str | None) -> http.cookiejar.CookieJar:
    """A jar with the file's cookies, then each ``NAME=VALUE`` for ``url``'s host."""
    jar: http.cookiejar.CookieJar = http.cookiejar.MozillaCookieJar()
    if path is not None:
        _load_file(jar, path)
    for pair in pairs:
        jar.set_cookie(_pair_cookie(pair, url))
    return jar


def cookie_header(jar: http.cookiejar.CookieJar, url: str) -> str | None:
    """The Cookie header the jar sends to ``url`` (by its own policy, as httpx asks it), or
    None for none."""
    import urllib.request

    request = urllib.request.Request(url)
    jar.add_cookie_header(request)
    return request.get_header("Cookie")


def _load_file(jar: http.cookiejar.CookieJar, path: Path) -> None:
    if not isinstance(jar, http.cookiejar.MozillaCookieJar):  # pragma: no cover - by design
        raise TypeError("a MozillaCookieJar reads cookies.txt")
    try:
        with warnings.catch_warnings():
            # the jar reports a malformed line as a warning with a traceback quoting the line
            # (cookie value and all): never shown, the error below names the line instead
            warnings.simplefilter("ignore")
            jar.load(str(path), ignore_discard=True, ignore_expires=True)
        _drop_expired(jar)
    except FileNotFoundError:
        raise UsageError(f"--cookies {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"--cookies {path}: is a directory") from None
    except PermissionError:
        raise UsageError(f"--cookies {path}: permission denied") from None
    except (http.cookiejar.LoadError, OSError, UnicodeDecodeError, ValueError) as exc:
        # LoadError's text quotes the offending line, cookie value and all: not shown.
        line = _bad_line(path)
        where = f" (line {line})" if line else ""
        if line == 1:
            where += ": it must start with '# Netscape HTTP Cookie File'"
        raise UsageError(f"--cookies {path}: not a Netscape cookies.txt file{where}") from exc


def _drop_expired(jar: http.cookiejar.CookieJar) -> None:
    """Expired cookies out; expiry 0 is a session cookie (as browsers export them): kept."""
    now = time.time()
    for cookie in list(jar):
        if cookie.expires == 0:
            cookie.expires = None
            cookie.discard = True
        elif cookie.expires is not None and cookie.expires <= now:
            jar.clear(cookie.domain, cookie.path, cookie.name)


def _bad_line(path: Path) -> int | None:
    """The first line that is neither a comment nor seven tab-separated fields (the first
    line must be the format's magic comment, as ``MozillaCookieJar`` requires)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not re.match(r"#( Netscape)? HTTP Cookie File", text):
        return 1
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#HttpOnly_")):
            continue
        if len(line.split("\t")) != 7:
            return number
    return None


def _pair_cookie(pair: str, url: str | None) -> http.cookiejar.Cookie:
    name, sep, value = pair.partition("=")
    name = name.strip()
    if not sep or not name or any(c in name for c in " ;,\t"):
        raise UsageError("bad --cookie: expected NAME=VALUE")
    host = (urlsplit(url).hostname or "") if url else ""
    if not host:
        raise UsageError("--cookie needs an http(s) URL to send it to")
    return http.cookiejar.Cookie(
        version=0,
        name=name,
        value=value.strip(),
        port=None,
        port_specified=False,
        domain=host,  # no leading dot: this host only, as a cookie without Domain= is
        domain_specified=False,
        domain_initial_dot=False,
        path="/",
        path_specified=True,
        secure=False,
        expires=int(time.time()) + 86_400,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )
