"""HTTP resource semantics the server promises: types, validators, byte ranges, safe paths."""

from __future__ import annotations

import email.utils
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CONTENT_TYPES: dict[str, str] = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".aac": "audio/aac",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".m4s": "audio/mp4",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".key": "application/octet-stream",
}


def content_type_for(path: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class FileInfo:
    path: Path
    size: int
    mtime_ns: int

    @property
    def etag(self) -> str:
        """Strong ETag from size and mtime: changes whenever a fixture is rewritten."""
        return f'"{self.size:x}-{self.mtime_ns:x}"'

    @property
    def mtime_s(self) -> int:
        return self.mtime_ns // 1_000_000_000

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(self.mtime_s, usegmt=True)


def resolve_file(root: Path, rel: str) -> FileInfo | None:
    """The regular file at ``rel`` under ``root``, or None (missing, directory, or outside)."""
    try:
        candidate = (root / rel.lstrip("/")).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    if not candidate.is_relative_to(root):
        return None
    try:
        st = candidate.stat()
    except (OSError, ValueError):
        return None
    if not os.path.isfile(candidate):
        return None
    return FileInfo(candidate, st.st_size, st.st_mtime_ns)


class RangeNotSatisfiable(Exception):
    """The Range asks only for bytes past the end: the answer is 416."""


def _digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One byte range as (first, last) inclusive; None means "ignore Range, send it all".

    Supports ``bytes=a-b``, ``bytes=a-`` and ``bytes=-n``. Malformed headers and multi-range
    requests are ignored (RFC 9110 lets a server do so); raises RangeNotSatisfiable for 416.
    """
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_s, dash, last_s = spec.strip().partition("-")
    first_s, last_s = first_s.strip(), last_s.strip()
    if not dash:
        return None
    if not first_s:
        if not _digits(last_s):
            return None
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    if not _digits(first_s) or (last_s and not _digits(last_s)):
        return None
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None
    if first >= size:
        raise RangeNotSatisfiable
    last = int(last_s) if last_s else size - 1
    return first, min(last, size - 1)


def if_range_allows(value: str, info: FileInfo) -> bool:
    """True when If-Range still matches, so the Range applies; otherwise send the full body."""
    value = value.strip()
    if value.startswith("W/"):
        return False  # weak validators never match If-Range
    if value.startswith('"'):
        return value == info.etag
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return int(when.timestamp()) == info.mtime_s


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, etag: str, info: FileInfo
) -> bool:
    """RFC 9110 section 13.1: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        bare = etag.removeprefix("W/")
        return "*" in tags or any(t.removeprefix("W/") == bare for t in tags)
    if if_modified_since is not None:
        try:
            when = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        return info.mtime_s <= int(when.timestamp())
    return False
