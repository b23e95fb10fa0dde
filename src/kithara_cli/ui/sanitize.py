"""Network text made safe to show on a terminal: one function every printing path goes through.

A playlist, a URL, a header or an error message can carry bytes a terminal obeys: ESC
sequences (clear the screen, retitle the window, OSC 52 writes the clipboard), C1 controls
(U+009B is a one-character CSI on many terminals), bidi overrides that reorder what is shown
("Trojan source"), zero-width characters. Each becomes a visible escape (``\\x1b``, ``\\x9b``,
``\\u202e``), so the whole sequence is shown as literal text and nothing is obeyed, and a line
is capped with an ellipsis, so a 1 MB URI cannot flood the screen. A URL's ``user:password@``
is shown as ``***@``: credentials are not for a terminal. Nor are a credential header's value
or a cookie's (``mask_header``, ``mask_cookie``, ``redact_argv``): shown as ``***``.

Printable text in any script is shown as itself, and so are the invisible characters that are
part of ordinary writing: the zero-width joiner of emoji sequences, the zero-width non-joiner
of Persian and Indic words, and the tags of a subdivision flag (England's, Scotland's). A
terminal obeys none of them; escaped, ``می‌خواهم`` read ``می\\u200cخواهم``.

Escaping every control character, ESC and the C1 introducers included, is what neutralises a
sequence: without its introducer ``[2J`` or ``]52;c;...`` is plain text, so no parser of
escape sequences is needed (and none could be trusted to agree with every terminal).

Pure and cheap: no Rich import (start-up time counts), and text with nothing to escape comes
back unchanged from one C-level ``str.isprintable`` scan, since the dashboard calls this on
every refresh. The output is printable, so sanitising twice changes nothing. It does not
escape Rich markup: callers hand text to Rich as ``Text`` or with ``markup=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MAX_FIELD = 300
"""Characters kept of one field (a URL, a title, a rendition name)."""
MAX_LINE = 400
"""Characters kept of a whole message line (an error or a note)."""
ELLIPSIS = "…"

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_KEEP_CATEGORIES = frozenset({"Co", "Cn"})  # private use and unassigned (newer emoji): inert
# Joiners, inert on their own: ZWJ joins emoji sequences (family, profession), ZWNJ keeps
# letters apart in Persian, Kurdish and Indic words (common in their titles).
_JOINERS = frozenset({"\u200d", "\u200c"})
_FLAG = "\U0001f3f4"  # a subdivision flag: this, 3 to 6 tag letters or digits, a cancel tag
_FLAG_SEQUENCE = _FLAG + "[\U000e0030-\U000e0039\U000e0061-\U000e007a]{3,6}\U000e007f"


def _escape_char(ch: str) -> str:
    """One non-printable character as what a person can read and a terminal ignores."""
    if ch in _NAMED:
        return _NAMED[ch]
    import unicodedata  # only text that needs escaping pays for it

    cat = unicodedata.category(ch)
    if cat == "Zs":  # no-break and other spaces: a space is what they look like
        return " "
    if cat in _KEEP_CATEGORIES or ch in _JOINERS:
        return ch
    code = ord(ch)
    if code < 0x100:  # C0, DEL, C1 (U+009B shown as \x9b), soft hyphen
        return f"\\x{code:02x}"
    if code < 0x10000:  # bidi controls, zero-width, line separators, BOM, lone surrogates
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"  # tag characters


def _units(text: str) -> Iterable[str]:
    """``text``'s characters, a subdivision flag's tag sequence as one (kept whole); any other
    tag character stays alone, to be escaped: tags out of a flag are invisible text."""
    if _FLAG not in text:
        return text
    import re

    return re.findall(_FLAG_SEQUENCE + "|.", text, re.DOTALL)


def _take(units: Iterable[str], budget: int) -> tuple[list[str], bool]:
    """Escaped pieces of ``units`` up to ``budget`` characters, never splitting an escape.

    The flag says whether every unit fitted.
    """
    pieces: list[str] = []
    used = 0
    for ch in units:
        piece = ch if len(ch) > 1 or ch.isprintable() else _escape_char(ch)
        used += len(piece)
        if used > budget:
            return pieces, False
        pieces.append(piece)
    return pieces, True


def redact_userinfo(text: str) -> str:
    """``scheme://user:password@host`` as ``scheme://***@host``: a URL's credentials are not
    for a terminal (a screen share, a pasted log). Only a part before the first ``/`` after
    ``://`` counts, so ``?mail=a@b`` in a path stays as it is."""
    if "@" not in text or "://" not in text:
        return text
    import re

    return re.sub(r"(?<=://)[^/\s@]+@", "***@", text)


# A header whose name says it carries a credential: its value is not for a terminal or a log.
_SECRET_NAME = r"auth|cookie|token|secret|passw|key|session|signature|credential|jwt|[cx]srf"
MASK = "***"


def is_secret_header(name: str) -> bool:
    """Authorization, Proxy-Authorization, Cookie, and any name that mentions a token, key,
    secret, password, session or signature (X-Api-Key, X-Auth-Token, X-Amz-Security-Token)."""
    import re

    return re.search(_SECRET_NAME, name, re.IGNORECASE) is not None


def mask_header(raw: str) -> str:
    """A ``--header`` as ``Name: ***`` when the name says it is a credential; a malformed one
    (no colon) by its first word alike, since what follows may well be the secret."""
    name, colon, value = raw.partition(":")
    if not colon:
        name, space, value = raw.strip().partition(" ")
        return f"{name} {MASK}" if space and is_secret_header(name) else raw
    return f"{name}: {MASK}" if value.strip() and is_secret_header(name) else raw


def mask_cookie(pair: str) -> str:
    """A ``--cookie NAME=VALUE`` as ``NAME=***``: a cookie's value is always a secret."""
    name, equals, _value = pair.partition("=")
    return f"{name}={MASK}" if equals else MASK


def redact_argv(argv: list[str]) -> list[str]:
    """A command line fit for a log: URL passwords hidden, ``-H``/``--header`` values masked
    as ``mask_header`` does, ``--cookie`` values as ``mask_cookie`` does."""
    out: list[str] = []
    masker: Callable[[str], str] | None = None
    for arg in argv:
        if masker is not None:
            arg, masker = masker(arg), None
        elif arg in ("-H", "--header"):
            masker = mask_header
        elif arg == "--cookie":
            masker = mask_cookie
        elif arg.startswith("--header="):
            arg = "--header=" + mask_header(arg.removeprefix("--header="))
        elif arg.startswith("--cookie="):
            arg = "--cookie=" + mask_cookie(arg.removeprefix("--cookie="))
        elif arg.startswith("-H"):
            arg = "-H" + mask_header(arg.removeprefix("-H"))
        out.append(redact_userinfo(arg))
    return out


def sanitize(text: object, limit: int = MAX_FIELD, *, tail: int = 0) -> str:
    """``text`` as one safe line of at most ``limit`` characters, any URL's credentials
    hidden (``redact_userinfo``).

    Longer text is cut with an ellipsis, keeping the last ``tail`` characters after it (a
    message's end often says what went wrong: ``... (connection refused)``).
    """
    s = redact_userinfo(text if isinstance(text, str) else str(text))
    if len(s) <= limit and s.isprintable():
        return s
    limit = max(limit, 1)
    if len(s) <= limit:
        pieces, fits = _take(_units(s), limit)
        if fits:
            return "".join(pieces)
    tail = min(max(tail, 0), (limit - 1) // 2)
    head, _ = _take(_units(s[:limit]), limit - 1 - tail)
    if not tail:
        return "".join(head) + ELLIPSIS
    end, _ = _take(reversed(list(_units(s[-tail:]))), tail)
    return "".join(head) + ELLIPSIS + "".join(reversed(end))


def sanitize_line(text: object, limit: int = MAX_LINE) -> str:
    """A whole message line (error, note): capped at ``limit``, its end kept after the cut."""
    return sanitize(text, limit, tail=limit // 4)


__all__ = [
    "ELLIPSIS",
    "MASK",
    "MAX_FIELD",
    "MAX_LINE",
    "is_secret_header",
    "mask_cookie",
    "mask_header",
    "redact_argv",
    "redact_userinfo",
    "sanitize",
    "sanitize_line",
]
