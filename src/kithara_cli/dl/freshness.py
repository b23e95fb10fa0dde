"""How long a stored response may be used without asking the server (RFC 9111 section 4.2).

kithara's cache is a private cache: ``s-maxage`` and ``private`` do not concern it. A response
is fresh for ``max-age`` seconds, else until ``Expires`` (against the response's ``Date``),
else, when it names neither, for a tenth of the time since its ``Last-Modified`` (the
heuristic of section 4.2.2, capped at a day), less the age it already had when it arrived
(``Age``, or a ``Date`` in the past). ``no-store`` keeps it out of the cache; ``no-cache``
(and ``Pragma: no-cache`` without a Cache-Control) has every use checked with the server;
``must-revalidate`` forbids serving it stale when the server cannot be asked.
A 304 that omits the lifetime headers leaves the stored ones (``Freshness.said``) in force.

Written by hand because no installed library covers it and the rules used are these few lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# What a cache keeps of a response's headers (``ResponseInfo.caching``); ``vary`` is matched
# by the cache itself (``cache.vary``).
HEADERS = ("cache-control", "expires", "date", "age", "last-modified", "pragma", "vary")
# The headers naming a stored response's lifetime and directives: kept with it, since a 304
# that omits them leaves them as they were (RFC 9111 section 4.3.4).
LIFETIME_HEADERS = ("cache-control", "expires", "pragma")
HEURISTIC_FRACTION = 0.1
HEURISTIC_CAP = 24 * 3600.0  # seconds: a year-old file is still only trusted for a day
# Statuses a cache may give heuristic freshness (RFC 9110 section 15.1).
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})

NO_CACHE = 1  # every use is checked with the server
MUST_REVALIDATE = 2  # stale: never served without the server's word (no stale-if-error)


@dataclass(frozen=True)
class Freshness:
    """What a response allows a cache: until when it is fresh, and the directives to keep."""

    fresh_until: float | None = None  # epoch seconds; None: never fresh (always checked)
    directives: int = 0  # NO_CACHE | MUST_REVALIDATE
    no_store: bool = False
    heuristic: bool = False
    said: str = ""  # the response's LIFETIME_HEADERS (``said_headers`` reads them back)

    def is_fresh(self, now: float) -> bool:
        return is_fresh(self.fresh_until, self.directives, now)


def is_fresh(fresh_until: float | None, directives: int, now: float) -> bool:
    return not directives & NO_CACHE and fresh_until is not None and now < fresh_until


def _said(headers: Mapping[str, str]) -> str:
    import json  # only a response with lifetime headers needs it

    kept = {name: headers[name] for name in LIFETIME_HEADERS if name in headers}
    return json.dumps(kept, sort_keys=True) if kept else ""


def said_headers(said: str | None) -> dict[str, str]:
    """The lifetime headers a stored response had (``Freshness.said``)."""
    if not said:
        return {}
    import json

    try:
        kept = json.loads(said)
    except ValueError:
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if k in LIFETIME_HEADERS and isinstance(v, str)}


def _directives(value: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in value.split(","):
        name, eq, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name and name not in out:  # the first of a repeated directive counts
            out[name] = arg.strip().strip('"') if eq else None
    return out


def _seconds(arg: str | None) -> float | None:
    if arg is None or not arg.isdigit():
        return None
    return float(arg)


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    import email.utils  # only a response with a date needs it: off a fresh replay's way

    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def freshness(
    headers: Mapping[str, str], status: int, *, received: float, heuristic: bool = True
) -> Freshness:
    """The freshness of a response received at ``received`` (epoch seconds) with ``headers``
    (names lower case). ``heuristic``: may a response naming no lifetime get one from its
    Last-Modified (a playlist's loader says no)."""
    cc = _directives(headers.get("cache-control", ""))
    flags = 0
    if "no-cache" in cc or (
        "cache-control" not in headers and "no-cache" in headers.get("pragma", "").lower()
    ):
        flags |= NO_CACHE
    if "must-revalidate" in cc:
        flags |= MUST_REVALIDATE
    said = _said(headers)
    if "no-store" in cc:
        return Freshness(None, flags, no_store=True, said=said)
    date = _http_date(headers.get("date"))
    age = max(0.0, received - date) if date is not None else 0.0
    header_age = _seconds(headers.get("age"))
    if header_age is not None:
        age = max(age, header_age)
    lifetime: float | None = None
    guessed = False
    if "max-age" in cc:
        lifetime = _seconds(cc["max-age"]) or 0.0  # a bad max-age: stale (section 4.2.1)
    elif "expires" in headers:
        expires = _http_date(headers["expires"])  # an invalid date is in the past
        lifetime = 0.0 if expires is None else expires - (date if date is not None else received)
    elif heuristic and status in HEURISTIC_STATUSES:
        modified = _http_date(headers.get("last-modified"))
        base = date if date is not None else received
        if modified is not None and modified < base:
            lifetime = min((base - modified) * HEURISTIC_FRACTION, HEURISTIC_CAP)
            guessed = True
    if lifetime is None:
        return Freshness(None, flags, said=said)
    return Freshness(received + lifetime - age, flags, heuristic=guessed, said=said)
