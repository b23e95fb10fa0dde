"""Station links: .pls, plain and extended .m3u/.m3u8 that are not HLS, .xspf, and podcast
feeds (RSS, Atom: ``radio.feeds``, episodes newest first).

A link is a short list of URLs, usually mirrors of one station (tried in order) or a few
files (played in order). Recognised by content first, then by Content-Type and by the name's
extension. A remote list may only name http(s) URLs (a page must not make us read local
files); a local list may also name files, relative to its own folder.

XSPF is XML: parsed by the standard library's parser, after refusing any document with a
DOCTYPE or ENTITY declaration, so no entity is ever expanded (defusedxml, the usual guard, is
not installed; without a DTD expat has nothing to expand).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from kithara_cli.errors import FatalError, InvalidUrlError, PlaylistError

MAX_LINK_BYTES = 1 << 20
MAX_FEED_BYTES = 32 << 20  # a long-running podcast's feed: several MB of show notes
MAX_ENTRIES = 1000
MAX_EPISODES = 20_000  # a daily show's whole archive (its feed under MAX_FEED_BYTES)
LINK_SUFFIXES = (".pls", ".xspf", ".m3u", ".m3u8")
LINK_CONTENT_TYPES = {
    "audio/x-scpls": "pls",
    "audio/scpls": "pls",
    "application/pls+xml": "pls",
    "audio/x-mpegurl": "m3u",
    "audio/mpegurl": "m3u",
    "application/xspf+xml": "xspf",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
}
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class LinkEntry:
    """One entry: an http(s) URL or a local path, and the title the list gives it."""

    target: str
    title: str = ""


class StationLinkFound(Exception):
    """Opening a target found a station link: play its ``entries`` instead, in order."""

    def __init__(self, source: str, entries: list[LinkEntry], kind: str = "") -> None:
        super().__init__(source)
        self.source = source
        self.entries = entries
        self.kind = kind  # link_kind's word: "feed" for a podcast feed (``--episode``)


class StationLinkServed(FatalError):
    """A file download met a station link's Content-Type (a .pls served as ``/listen``): the
    command reads it as a link instead of saving the link's text as the file. ``maybe``: the
    type was plain XML (a podcast feed, often), so a body that is no link is a file after all."""

    def __init__(self, message: str, *, maybe: bool = False) -> None:
        super().__init__(message)
        self.maybe = maybe


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return (content_type or "").split(";")[0].strip().lower()


XML_TYPES = ("text/xml", "application/xml")  # how many podcast feeds are served


def may_be_link(content_type: str | None) -> bool:
    """A link's Content-Type, or plain XML that may be a podcast feed."""
    return is_link_type(content_type) or media_type(content_type) in XML_TYPES


def is_link_type(content_type: str | None) -> bool:
    """A Content-Type that names a station link (.pls, .m3u, .xspf), whatever the URL's name."""
    return media_type(content_type) in LINK_CONTENT_TYPES


def max_link_bytes(content_type: str | None) -> int:
    """The most a link served with this Content-Type is read into memory."""
    ctype = media_type(content_type)
    feed = LINK_CONTENT_TYPES.get(ctype) == "feed" or ctype in XML_TYPES
    return MAX_FEED_BYTES if feed else MAX_LINK_BYTES


def link_kind(data: bytes, content_type: str | None = None, name: str = "") -> str | None:
    """ "pls", "m3u", "xspf" or "feed" when ``data`` is a station link or a podcast feed;
    None otherwise (HLS included)."""
    data = _utf8(data)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):  # (feeds' XML parser stays unloaded for HLS and plain lists)
        from kithara_cli.radio.feeds import is_feed

        if is_feed(data[:4096]):
            return "feed"
    if b"#EXT-X-" in data:
        return None  # HLS, whatever it is called
    if head[:10].lower() == b"[playlist]":
        return "pls"
    if head.startswith(b"<?xml") or head.startswith(b"<playlist"):
        return "xspf" if b"xspf.org" in head or b"<trackList" in data[:8192] else None
    if head.startswith(b"#EXTM3U"):
        return "m3u"
    if head[:8].lower().startswith((b"http://", b"https://")) and _looks_like_url_lines(data):
        return "m3u"  # bare URLs, one a line, under any name or type (``play.served`` too)
    kind = LINK_CONTENT_TYPES.get(media_type(content_type))
    suffix = Path(urlsplit(name).path).suffix.lower()
    if kind is None and suffix in LINK_SUFFIXES:
        kind = "m3u" if suffix in (".m3u", ".m3u8") else suffix[1:]
    if kind == "m3u" and not _looks_like_url_lines(data):
        return None
    return kind


def holds_playlist(read_at: Callable[[int, int], bytes], total: int) -> bool:
    """The ``total`` bytes ``read_at`` gives (a whole body, whatever its name and type) are
    an HLS playlist or a station link by their content (#EXTM3U, a .pls's [playlist], bare
    http(s) URLs one a line: ``play.served``'s list starts, after a BOM or blank lines), and
    no more than a link or feed is read: what fetch reads as one rather than save its text
    as the audio. An .m3u must name a URL (a note starting "#EXTM3U" is a note)."""
    if total > MAX_FEED_BYTES:
        return False
    head = read_at(0, min(total, 64)).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head[:10].lower().startswith((b"#extm3u", b"[playlist]", b"http://", b"https://")):
        return False
    data = read_at(0, total)
    kind = "hls" if b"#EXT-X-" in data else link_kind(data)
    if kind == "m3u":
        return re.search(rb"(?im)^\s*https?://", data) is not None
    return kind is not None


def _looks_like_url_lines(data: bytes) -> bool:
    lines = [ln.strip() for ln in _text(data).splitlines() if ln.strip()]
    entries = [ln for ln in lines if not ln.startswith("#")]
    return bool(entries) and all(
        len(ln) < 4096 and "\0" not in ln and not ln.startswith("<") for ln in entries
    )  # ("<": a web page's markup, not a URL)


def _text(data: bytes) -> str:
    from kithara_cli.radio.icy import decode_text  # (here: play's start-up reads no link)

    return decode_text(data.removeprefix(b"\xef\xbb\xbf"))


def _utf8(data: bytes) -> bytes:
    """UTF-16 text (Notepad's "Unicode", with or without a BOM) as UTF-8; else ``data``.

    Without a BOM it is told by its NULs: every other byte of ASCII text in UTF-16."""
    head = data[:64]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16"
    elif len(head) >= 8 and not any(head[1::2]) and all(head[0::2]):
        codec = "utf-16-le"
    elif len(head) >= 8 and not any(head[0::2]) and all(head[1::2]):
        codec = "utf-16-be"
    else:
        return data
    return data.decode(codec, "replace").encode("utf-8")


def parse_link(data: bytes, kind: str, base: str, *, remote: bool) -> list[LinkEntry]:
    """The entries of a link read from ``base`` (its URL, or its local path)."""
    cap = MAX_FEED_BYTES if kind == "feed" else MAX_LINK_BYTES
    if len(data) > cap:
        raise PlaylistError(f"station link larger than {cap} bytes: {base}")
    data = _utf8(data)
    if kind == "pls":
        raw = _parse_pls(data)
    elif kind == "m3u":
        raw = _parse_m3u(data)
    elif kind == "xspf":
        raw = _parse_xspf(data, base)
    elif kind == "feed":
        raw = _parse_feed(data, base)
    else:
        raise PlaylistError(f"not a station link: {base}")
    entries = []
    for target, title in raw[: MAX_EPISODES if kind == "feed" else MAX_ENTRIES]:
        resolved = _resolve(target.strip(), base, remote=remote)
        if resolved is not None:
            entries.append(LinkEntry(resolved, title.strip()))
    if not entries:
        if kind == "feed":
            raise PlaylistError(f"podcast feed with no audio episode: {base}")
        raise PlaylistError(f"station link with no playable entry: {base}")
    return entries


def _resolve(target: str, base: str, *, remote: bool) -> str | None:
    """The entry as a URL or path to open; None to skip it (refused, or malformed: one bad
    entry among mirrors must not stop the others, nor reach the opener as a crash)."""
    from kithara_cli.net.urls import check_http_url

    try:
        resolved = _resolve_raw(target, base, remote=remote)
        if resolved is not None and urlsplit(resolved).scheme.lower() in ("http", "https"):
            check_http_url(resolved)
            if not resolved.isprintable():
                return None  # an escape sequence in a URL: no server names one so
    except (ValueError, InvalidUrlError):
        return None
    return resolved


def _resolve_raw(target: str, base: str, *, remote: bool) -> str | None:
    if not target:
        return None
    scheme = urlsplit(target).scheme.lower()
    if scheme in ("http", "https"):
        return target
    if remote:
        if scheme:
            return None  # file:, data:, ... named by a remote list: never followed
        return urljoin(base, target)  # relative to the list's URL
    if scheme == "file":
        return urlsplit(target).path
    if scheme and len(scheme) > 1:
        return None
    return str((Path(base).parent / target).resolve()) if not Path(target).is_absolute() else target


def _parse_pls(data: bytes) -> list[tuple[str, str]]:
    import configparser  # here: play's start-up does not pay for what a link needs

    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    text = _text(data)
    if not text.lstrip().startswith("["):
        text = "[playlist]\n" + text  # only the FileN= lines: mpv and VLC read those too
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        reason = str(exc).splitlines()[0].rstrip(".")  # (the rest quotes the file's text)
        raise PlaylistError(f"bad .pls station link: {reason}") from None
    section = next((s for s in parser.sections() if s.lower() == "playlist"), None)
    if section is None:
        raise PlaylistError("bad .pls station link: no [playlist] section")
    items = dict(parser.items(section))
    numbered: list[tuple[int, str, str]] = []
    for key, value in items.items():
        m = re.fullmatch(r"file(\d+)", key)
        if m:
            n = int(m.group(1))
            numbered.append((n, value, items.get(f"title{n}", "")))
    return [(url, title) for _, url, title in sorted(numbered)]


def _parse_m3u(data: bytes) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    title = ""
    for line in _text(data).splitlines():
        line = line.strip()
        if not line:
            continue
        if line.upper().startswith("#EXTINF:"):
            _, _, title = line.partition(",")  # "-1,Station": the length means nothing here
            continue
        if line.startswith("#"):
            continue
        out.append((line, title))
        title = ""
    return out


def _parse_xspf(data: bytes, base: str) -> list[tuple[str, str]]:
    import xml.etree.ElementTree as ET

    if _DTD.search(data):
        raise PlaylistError(f"XSPF with a DOCTYPE or ENTITY declaration refused: {base}")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise PlaylistError(f"bad XSPF station link: {exc}") from None
    out: list[tuple[str, str]] = []
    for track in root.iter():
        if _local(track.tag) != "track":
            continue
        location = title = ""
        for child in track:
            name = _local(child.tag)
            if name == "location" and not location:
                location = (child.text or "").strip()
            elif name == "title":
                title = (child.text or "").strip()
        if location:
            out.append((location, title))
    return out


def _parse_feed(data: bytes, base: str) -> list[tuple[str, str]]:
    import xml.etree.ElementTree as ET

    from kithara_cli.radio.feeds import parse_feed

    if _DTD.search(data):
        raise PlaylistError(f"feed with a DOCTYPE or ENTITY declaration refused: {base}")
    try:
        return parse_feed(data)
    except ET.ParseError as exc:
        raise PlaylistError(f"bad podcast feed: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
