"""Which request a stored response may be given to: RFC 9111 section 4.1 (``Vary``).

A response saying ``Vary: Accept-Language`` was chosen by that header of the request that
fetched it: it is given only to a request whose nominated headers match (each absent from
both, or the same value once whitespace, and for Cookie the order of its pairs, is set
aside). ``Vary: *`` matches no request: such a response is never reused. The headers compared
are those kithara sends (``net.settings.headers_for``: the client's fixed ones, ``--header``,
``--user-agent``, the cookies for the URL); Range and the conditional headers are the cache's
own business (it asks for the bytes it lacks, and checks its copies itself): never compared.
Credentials (Cookie, Authorization: ``Vary: Cookie`` is common) are kept as a digest of their
value: the index outlives the run and names every URL, and must not hold a session's secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

ANY = "*"  # a response that said ``Vary: *``: matches no request
OWN = frozenset(
    {"range", "if-range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"}
)
SECRET = frozenset({"authorization", "proxy-authorization", "cookie"})  # kept as a digest


def nominated(vary: str | None) -> tuple[str, ...] | None:
    """The request headers a Vary names (lower case, sorted); None for ``*``."""
    names: set[str] = set()
    for part in (vary or "").split(","):
        name = part.strip().lower()
        if name == ANY:
            return None
        if name and name not in OWN:
            names.add(name)
    return tuple(sorted(names))


def normal(name: str, value: str | None) -> str | None:
    """A header's value as compared: whitespace runs as one space, none around commas; a
    Cookie's pairs in order (a jar or a rewritten cookies file may send them in another)."""
    if value is None:
        return None
    if name == "cookie":
        return "; ".join(sorted(p.strip() for p in value.split(";") if p.strip()))
    return ",".join(" ".join(p.split()) for p in value.split(","))


def _kept(name: str, value: str | None) -> str | None:
    """What an entry keeps of a header's value: ``normal``, a credential's as its digest."""
    value = normal(name, value)
    if value is None or name not in SECRET:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def selecting(vary: str | None, sent: Mapping[str, str]) -> str | None:
    """What an entry keeps of the request that fetched it (``sent``: names lower case): None
    when the response named no header, ``ANY`` for ``*``, else the nominated headers' values."""
    names = nominated(vary)
    if names is None:
        return ANY
    if not names:
        return None
    return json.dumps([[name, _kept(name, sent.get(name))] for name in names])


def matches(stored: str | None, sent: Mapping[str, str]) -> bool:
    """May an entry that kept ``stored`` (``selecting``) be given to a request sending
    ``sent``? Anything unreadable matches nothing."""
    if stored is None:
        return True
    if stored == ANY:
        return False
    try:
        kept = json.loads(stored)
    except ValueError:
        return False
    if not isinstance(kept, list):
        return False
    for item in kept:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            return False
        if _kept(item[0], sent.get(item[0])) != item[1]:
            return False
    return True


def named(stored: str | None) -> str | None:
    """The Vary an entry that kept ``stored`` was given (``selecting`` of it over the same
    request gives ``stored`` back)."""
    if stored is None or stored == ANY:
        return stored
    try:
        kept = json.loads(stored)
        return ", ".join(str(item[0]) for item in kept)
    except (ValueError, TypeError, IndexError, KeyError):
        return ANY  # unreadable: matches nothing
