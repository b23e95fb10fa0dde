"""What one response may be trusted for: its identity, the bytes it holds, where they start.

Servers lie (a CDN switches objects between requests, a proxy ignores If-Range, a 200 answers
a Range): every response of a resource is checked against one identity, and a response whose
bytes cannot be placed without guessing is refused rather than spliced in.
"""

from __future__ import annotations

from dataclasses import dataclass

from kithara_cli.errors import (
    BodyStalledError,
    NetworkError,
    RemoteChangedError,
    TruncatedBodyError,
)
from kithara_cli.net.errors import HeaderReader


class ResourceTooShortError(TruncatedBodyError):
    """The resource ends before the byte range asked for (a BYTERANGE past the file's end).

    Not a cut connection: asking again gives the same short answer.
    """

    retryable = False


class SlowBodyError(BodyStalledError):
    """Bytes arrive, but slower than the minimum rate: as good as stalled (a 1 byte/s trickle)."""


class DeadlineError(BodyStalledError):
    """The request outlived its overall deadline (headers, or headers and body)."""


@dataclass(frozen=True)
class Identity:
    """Which version of a resource a response belongs to: ETag, else Last-Modified, else length.

    A weak ETag (``weak``) never vouches for the bytes (it promises equivalence, and If-Range
    may not carry it), but two whose tags differ are two versions for sure: a server that
    gives nothing else but a length (nginx behind a filter, a CDN that weakens tags) still
    tells a change of the same length.
    """

    etag: str | None = None
    last_modified: str | None = None
    length: int | None = None
    weak: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.etag or self.last_modified or self.length is not None)

    def matches(self, other: Identity) -> bool:
        """Same version for sure. An identity with nothing in it matches nothing."""
        if self.length is not None and other.length is not None and self.length != other.length:
            return False
        mine, theirs = self.etag or self.weak, other.etag or other.weak
        if mine and theirs and _opaque(mine) != _opaque(theirs):
            return False  # RFC 9110 8.8.3.2: not even weakly the same
        if self.etag:
            return self.etag == other.etag
        if self.last_modified:
            return self.last_modified == other.last_modified
        if self.length is not None:
            return self.length == other.length
        return False

    def if_range(self) -> str | None:
        """The validator for If-Range: a strong ETag, else Last-Modified."""
        return self.etag or self.last_modified

    def describe(self) -> str:
        if self.etag:
            return f"ETag {self.etag}"
        if self.last_modified:
            return f"Last-Modified {self.last_modified}"
        if self.weak:
            return f"ETag {self.weak}"
        if self.length is not None:
            return f"length {self.length}"
        return "no validators"

    def change(self, now: Identity) -> str:
        """How ``now`` differs, for a message: the lengths where they tell (an ETag kept
        while the length changed read "ETag "e1", now ETag "e1""), else the validators."""
        if self.length is not None and now.length is not None and self.length != now.length:
            return f"length {self.length}, now {now.length}"
        return f"{self.describe()}, now {now.describe()}"

    def as_list(self) -> list[object]:
        return [self.etag, self.last_modified, self.length, self.weak]

    @classmethod
    def from_list(cls, data: object) -> Identity | None:
        """Of ``as_list``'s list (three items: written before ``weak`` was kept)."""
        if not isinstance(data, list) or len(data) not in (3, 4):
            return None
        etag, lm, length, weak = [*data, None][:4]
        return cls(
            etag if isinstance(etag, str) else None,
            lm if isinstance(lm, str) else None,
            length if isinstance(length, int) else None,
            weak if isinstance(weak, str) else None,
        )

    @classmethod
    def of(cls, etag: str | None, last_modified: str | None, length: int | None) -> Identity:
        """From the headers as sent: a weak ETag goes to ``weak``."""
        return cls(strong_etag(etag), last_modified, length, weak_etag(etag))


def strong_etag(value: str | None) -> str | None:
    if not value or value.startswith("W/"):
        return None
    return value


def weak_etag(value: str | None) -> str | None:
    return value if value and value.startswith("W/") else None


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def parse_content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    """``bytes a-b/total`` -> (a, b + 1, total); unknown parts are None.

    Read as servers write it: the unit in any case (RFC 9110), ``bytes=`` (an old slip
    aria2 accepts too), spaces around the numbers."""
    text = (value or "").strip()
    if text[:5].lower() != "bytes" or text[5:6] not in (" ", "="):
        return None, None, None
    spec, _, total = text[6:].partition("/")
    first, _, last = spec.partition("-")
    first, last, total = first.strip(), last.strip(), total.strip()
    return (
        int(first) if _digits(first) else None,
        int(last) + 1 if _digits(last) else None,
        int(total) if _digits(total) else None,
    )


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` is true of '²', which ``int`` refuses."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class Placement:
    """Where a response's body goes: it holds the resource's bytes from ``body_start``.

    ``body_end`` is where the body ends when the response says (None: at its EOF);
    ``total`` the whole resource's length when known; ``whole`` a body that is the whole
    object (a 200), whose EOF is the resource's end.
    """

    body_start: int
    body_end: int | None
    total: int | None
    identity: Identity
    whole: bool
    encoded: bool


def place(
    status: int, headers: HeaderReader, want: int, encoding: str | None, url: str
) -> Placement:
    """Read a 200/206 response's headers: which bytes it holds and of which version."""
    # Beside a Transfer-Encoding, Content-Length is not the body's length: the chunks frame
    # it (RFC 9112 6.3), as the HTTP library reads it.
    length_text = None if headers.get("transfer-encoding") else headers.get("content-length")
    body_len = int(length_text) if length_text and _digits(length_text) else None
    encoded = encoding is not None
    etag = headers.get("etag")
    last_modified = headers.get("last-modified")
    if status == 206:
        first, end, total = parse_content_range(headers.get("content-range"))
        if first is None:
            raise NetworkError(f"206 without a usable Content-Range: {url}")
        if first > want:
            raise NetworkError(f"server sent bytes from {first}, asked {want}: {url}")
        if end is None and body_len is not None:
            end = first + body_len
        return Placement(first, end, total, Identity.of(etag, last_modified, total), False, encoded)
    # A 200 is the whole object from byte 0, whatever was asked; its length is the object's
    # unless the body is encoded (then Content-Length counts encoded bytes).
    total = None if encoded else body_len
    return Placement(0, total, total, Identity.of(etag, last_modified, total), True, encoded)


def check_identity(pinned: Identity | None, seen: Identity, url: str) -> None:
    """Refuse a response of another version than the one the bytes so far came from."""
    if pinned is not None and not pinned.matches(seen):
        raise RemoteChangedError(f"remote file changed ({pinned.change(seen)}): {url}")
