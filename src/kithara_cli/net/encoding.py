"""Content-Encoding of response bodies: decoded here, so no encoded byte is stored as media.

kithara asks for ``Accept-Encoding: identity``; a misconfigured proxy may gzip anyway. gzip
and deflate are decoded with zlib (the standard library), br only if a brotli module is
installed; anything else is refused by name. The downloader reads raw bytes off httpcore, so
nothing upstream has decoded them.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from kithara_cli.errors import TruncatedBodyError, UnsupportedError


class ContentEncodingError(UnsupportedError):
    """A body in an encoding kithara cannot decode, or that does not decode."""


class BodyDecoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Zlib:
    """A gzip body may hold several members in a row (RFC 1952, as bgzip writes), each
    decoded in turn, NUL padding between them skipped (as Python's gzip does); a deflate
    (zlib) stream has one end, and bytes after it are refused, never dropped unsaid."""

    def __init__(self, wbits: int, name: str, url: str) -> None:
        self._wbits = wbits
        self._d = zlib.decompressobj(wbits)
        self._name = name
        self._url = url
        self._raw_fallback = name == "deflate"  # some servers send raw deflate for "deflate"
        self._seen = False

    def decode(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            if self._d.eof:
                if self._name != "gzip":
                    raise ContentEncodingError(
                        f"data after the end of the {self._name} body from {self._url}"
                    )
                data = data.lstrip(b"\0")
                if not data:
                    break
                self._d = zlib.decompressobj(self._wbits)  # the next member
            try:
                out.append(self._d.decompress(data))
            except zlib.error as exc:
                if self._raw_fallback and not self._seen:
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._raw_fallback = False
                    continue
                raise ContentEncodingError(
                    f"bad {self._name} body from {self._url}: {exc}"
                ) from None
            self._seen = True
            data = self._d.unused_data if self._d.eof else b""
        return b"".join(out)

    def flush(self) -> bytes:
        out = self._d.flush()
        if not self._d.eof:
            raise TruncatedBodyError(f"{self._name} body cut short: {self._url}")
        return out


class _Brotli:
    def __init__(self, module: object, url: str) -> None:
        self._d = module.Decompressor()  # type: ignore[attr-defined]
        self._url = url

    def decode(self, data: bytes) -> bytes:
        try:
            return self._d.process(data)  # type: ignore[no-any-return]
        except Exception as exc:  # brotli.error is not a stable name across its two packages
            raise ContentEncodingError(f"bad br body from {self._url}: {exc}") from None

    def flush(self) -> bytes:
        # Both brotli packages (brotli >= 1.0.8, brotlicffi) tell whether the stream ended:
        # a close-delimited body cut short decodes without error up to where it stops.
        if not self._d.is_finished():  # (was: taken whole, and a cut-off file saved as done)
            raise TruncatedBodyError(f"br body cut short: {self._url}")
        return b""


def content_coding(value: str | None) -> str | None:
    """The coding of a Content-Encoding header; None when the body is as is."""
    if value is None:
        return None
    codings = [c.strip().lower() for c in value.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        return ",".join(codings)
    return codings[0]


def decoder_for(coding: str, url: str) -> BodyDecoder:
    """A decoder for one coding, or ``ContentEncodingError`` naming it."""
    if coding in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16, "gzip", url)
    if coding == "deflate":
        return _Zlib(zlib.MAX_WBITS, "deflate", url)
    if coding == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            raise ContentEncodingError(
                f"server sent a br-compressed body (not decodable here): {url}"
            ) from None
        return _Brotli(brotli, url)
    raise ContentEncodingError(f"server sent an unsupported Content-Encoding {coding!r}: {url}")
