"""ICY (Icecast/SHOUTcast) in-band metadata: strip the blocks, read the titles.

After every ``metaint`` audio bytes an ICY server sends one length byte L and L x 16 bytes
of ``StreamTitle='...';StreamUrl='...';`` text, NUL-padded (L = 0: nothing new). The demuxer
takes the body as it arrives, in chunks of any size, and gives back the audio alone, with
each block's text at the audio offset it precedes, when it changes the title: SHOUTcast DNAS
and relays repeat the same block every few seconds, and a block with only a StreamUrl (an
ad's link) leaves the title as it was (as mpv shows it). Written by
hand: no library on the system parses ICY, and it is a 20-line state machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kithara_cli.events.types import StationDetails

MAX_METAINT = 1 << 20  # larger is no real server's, and would let a block hide in the audio


@dataclass(frozen=True)
class IcyTitle:
    """One metadata block: the title and URL it sets, from audio byte ``offset`` on."""

    offset: int
    title: str
    url: str = ""


def station_info(headers: Mapping[str, str]) -> StationDetails:
    """``icy-*`` headers (names in lower case, values' bytes as Latin-1 code points:
    ``ResponseInfo.icy``) as the event that announces the station, its text read as titles
    are (``decode_text``): a Russian station's ``icy-name`` is Windows-1251 as often as its
    titles are."""

    def text(name: str) -> str:
        value = headers.get(name, "")
        try:
            return station_text(value.encode("latin-1"))
        except UnicodeEncodeError:  # text already
            return value

    def num(name: str) -> int | None:
        text = headers.get(name, "").strip().split(",")[0]
        return int(text) if text.isdigit() else None

    metaint = num("icy-metaint")
    if metaint is not None and not 0 < metaint <= MAX_METAINT:
        metaint = None
    return StationDetails(
        name=text("icy-name"),
        genre=text("icy-genre"),
        bitrate_kbps=num("icy-br"),
        description=text("icy-description"),
        url=text("icy-url"),
        metaint=metaint,
    )


def is_icy_answer_headers(headers: Mapping[str, str]) -> bool:
    """Any ``icy-*`` header (names in lower case) marks an Icecast/SHOUTcast answer: Icecast
    relays only what its source sent, so a mount fed without a name (ffmpeg's and libshout's
    defaults) answers with ``icy-pub`` alone, and is no less endless for it."""
    return station_info(headers).is_icy or any(k.startswith("icy-") for k in headers)


UTF8_BOM = b"\xef\xbb\xbf"


def station_text(raw: bytes) -> str:
    """An ICY block's or header's text: ``decode_text`` without UTF-8 byte order marks, which
    DJ software copies in from a UTF-8 "now playing" file, before the title or the block (as
    text they showed as ``\\ufeff`` or "ï»¿" before the title, and hid a StreamTitle key)."""
    return decode_text(raw.replace(UTF8_BOM, b""))


def decode_text(raw: bytes) -> str:
    """UTF-8 when it is, else Windows-1251 when it reads as Cyrillic words, else Windows-1252:
    what Windows tools and SHOUTcast DSPs write. 1252 is a superset of Latin-1's letters
    whose 0x80-0x9F are punctuation (’ “ ” –), not the C1 controls Latin-1 would make of
    them; its five undefined bytes stay Latin-1's."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _cyrillic_words(raw):
        return raw.decode("cp1251", "replace")
    return raw.decode("latin-1").translate(_C1_AS_CP1252)


_HIGH_LETTERS = re.compile(rb"[\xc0-\xff\xa5\xa8\xaa\xaf\xb2-\xb4\xb8\xba\xbf]+")  # +ҐЁЄЇІ
CYRILLIC_RUN = 3


def _cyrillic_words(raw: bytes) -> bool:
    """Windows-1251 Cyrillic (Russian and Ukrainian stations' usual titles): its letters are
    0xC0-0xFF (and Ukrainian's few above 0xA0), so its words are runs of them, where Western
    1252 text has an accented letter among ASCII ones ("Café", "Mötley Crüe", "Coração": runs
    of one or two). Cyrillic when most such bytes stand in runs of three or more (a guess:
    three accented capitals in a row, "ÆØÅ", read as Cyrillic too)."""
    runs = [len(m.group()) for m in _HIGH_LETTERS.finditer(raw)]
    long = sum(n for n in runs if n >= CYRILLIC_RUN)
    return long > 0 and long * 2 >= sum(runs)


_C1_AS_CP1252 = {
    b: c for b in range(0x80, 0xA0) if (c := bytes([b]).decode("cp1252", "replace")) != "\ufffd"
}


def parse_metadata(raw: bytes) -> dict[str, str]:
    """``StreamTitle='a';StreamUrl='b';`` -> {"StreamTitle": "a", ...}.

    Quotes inside a value are not escaped by servers (``Knockin';`` happens), so a value runs
    up to the ``';`` that the next ``Key='`` or the end of the block follows.
    """
    text = station_text(raw.rstrip(b"\0"))
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        eq = text.find("='", pos)
        if eq < 0:
            break
        key = text[pos:eq].strip().lstrip(";").strip()
        end = _VALUE_END.search(text, eq + 2)
        if end is None:
            value, pos = text[eq + 2 :].rstrip().removesuffix("'"), len(text)
        else:
            value, pos = text[eq + 2 : end.start()], end.end()
        if key:
            out[key] = value
    return out


_VALUE_END = re.compile(r"';(?=\s*$|\s*[A-Za-z][A-Za-z0-9_]*=')")


class IcyDemux:
    """Splits an ICY body into audio and metadata blocks, across chunk boundaries."""

    def __init__(self, metaint: int, title: str = "", url: str = "") -> None:
        self.metaint = metaint
        self.title, self.url = title, url  # in force (a reconnect's demux: the last one's)
        self.audio_offset = 0  # audio bytes given out so far
        self._to_block = metaint
        self._meta_left: int | None = None  # bytes of the current block still to come
        self._meta = bytearray()

    def feed(self, data: bytes) -> tuple[bytes, list[IcyTitle]]:
        audio = bytearray()
        titles: list[IcyTitle] = []
        view = memoryview(data)
        while view:
            if self._meta_left is None and self._to_block > 0:
                take = view[: self._to_block]
                audio += take
                self._to_block -= len(take)
                self.audio_offset += len(take)
                view = view[len(take) :]
            elif self._meta_left is None:
                self._meta_left = view[0] * 16
                self._meta.clear()
                view = view[1:]
            else:
                take = view[: self._meta_left]
                self._meta += take
                self._meta_left -= len(take)
                view = view[len(take) :]
            if self._meta_left == 0:
                self._meta_left = None
                self._to_block = self.metaint
                if self._meta:
                    found = self._change(parse_metadata(bytes(self._meta)))
                    if found is not None:
                        titles.append(found)
        return bytes(audio), titles

    def _change(self, fields: dict[str, str]) -> IcyTitle | None:
        """The block's news: None when it leaves the title as it is, or says nothing."""
        if "StreamTitle" in fields:
            title, url = fields["StreamTitle"], fields.get("StreamUrl", "")
        elif "StreamUrl" in fields:
            title, url = self.title, fields["StreamUrl"]
        else:
            return None
        same = title == self.title  # a new link for the same title is no news to show
        self.title, self.url = title, url
        return None if same else IcyTitle(self.audio_offset, title, url)
