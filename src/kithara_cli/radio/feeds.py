"""Podcast feeds (RSS 2.0 and Atom): their episodes' audio, newest first.

A podcast is shared as its feed's URL; ``kithara play FEED`` plays its episodes as a queue
and ``kithara fetch FEED --out FILE`` saves the newest, as a link's entries are played and
fetched (``radio.links``). An episode is an item's audio enclosure (RSS ``<enclosure>``, Atom
``<link rel="enclosure">``), or a ``media:content`` of the Media RSS namespace where an item
has no enclosure. Items are put newest first by their dates when every one has a date;
otherwise the feed's own order is kept (nearly every feed lists newest first already).

Parsed by the standard library's parser, after ``links`` refused any document with a DOCTYPE
or ENTITY declaration: without a DTD expat has nothing to expand.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from kithara_cli.errors import UsageError

_RSS = re.compile(rb"<rss[\s>]", re.IGNORECASE)
_ATOM = re.compile(rb"<(\w+:)?feed[^>]*http://www\.w3\.org/2005/Atom", re.IGNORECASE)
AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".wav", ".m3u8")


def is_feed(head: bytes) -> bool:
    """Does ``head`` (a document's first few KB, UTF-8) begin an RSS or Atom feed?"""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"<"):
        return False
    return _RSS.search(head) is not None or _ATOM.search(head) is not None


def parse_feed(data: bytes) -> list[tuple[str, str]]:
    """(enclosure URL, episode title) of each episode with audio, newest first; the URLs as
    written (``links`` resolves and checks them)."""
    root = ET.fromstring(data)  # ET.ParseError: the caller's one line
    episodes: list[tuple[datetime | None, str, str]] = []
    for item in root.iter():
        if _local(item.tag) not in ("item", "entry"):
            continue
        url = _audio_of(item)
        if url:
            episodes.append((_date_of(item), url, _title_of(item)))
    dated = [(date, url, title) for date, url, title in episodes if date is not None]
    if len(dated) == len(episodes):
        # newest first; sorted() is stable, so equal dates keep the feed's order
        return [(url, title) for _, url, title in sorted(dated, key=lambda e: e[0], reverse=True)]
    return [(url, title) for _, url, title in episodes]


def pick_episode(titles: Sequence[str], choice: str) -> int:
    """The index of the episode ``--episode`` names among ``titles`` (newest first): a whole
    number counts as ``fetch --list`` does (1 = the newest, -1 = the oldest, as yt-dlp's
    ``--playlist-items`` counts); any other text is looked for in the titles (case folded),
    the newest match winning. None there: a UsageError naming what the feed has."""
    text = choice.strip()
    if re.fullmatch(r"[+-]?\d{1,9}", text):
        n = int(text)
        if n == 0 or abs(n) > len(titles):
            raise UsageError(
                f"--episode {n}: the feed has {len(titles)} episodes "
                "(1 is the newest, -1 the oldest; fetch --list numbers them)"
            )
        return n - 1 if n > 0 else len(titles) + n
    wanted = " ".join(text.split()).casefold()
    for index, title in enumerate(titles):
        if wanted and wanted in title.casefold():
            return index
    raise UsageError(
        f"--episode {text!r}: no title of the feed's {len(titles)} episodes holds it "
        "(fetch --list shows them)"
    )


def _audio_of(item: ET.Element) -> str:
    media = ""
    for child in item.iter():
        name = _local(child.tag)
        if name == "enclosure":  # RSS
            url, kind = child.get("url", ""), child.get("type", "")
        elif name == "link" and child.get("rel") == "enclosure":  # Atom
            url, kind = child.get("href", ""), child.get("type", "")
        elif name == "content" and child.get("url") and not media:  # Media RSS
            if _is_audio(child.get("url", ""), child.get("type", "")):
                media = child.get("url", "").strip()
            continue
        else:
            continue
        if url.strip() and _is_audio(url, kind):
            return url.strip()
    return media


def _is_audio(url: str, kind: str) -> bool:
    """An audio type; with no type (or a generic one), an audio file's name."""
    kind = kind.split(";")[0].strip().lower()
    if kind.startswith("audio/") or kind in ("application/ogg", "application/x-mpegurl"):
        return True
    if kind and kind not in ("application/octet-stream", "binary/octet-stream"):
        return False  # video/*, image/*, text/html...: not what we play
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(AUDIO_SUFFIXES)


def _title_of(item: ET.Element) -> str:
    for child in item:
        if _local(child.tag) == "title" and child.text:
            return " ".join(child.text.split())
    return ""


def _date_of(item: ET.Element) -> datetime | None:
    for child in item:
        name = _local(child.tag)
        if name not in ("pubDate", "published", "updated", "date") or not child.text:
            continue
        parsed = _parse_date(child.text.strip())
        if parsed is not None:
            return parsed
    return None


def _parse_date(text: str) -> datetime | None:
    """RFC 822 (RSS's pubDate) or ISO 8601 (Atom, Dublin Core), as an aware datetime."""
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
