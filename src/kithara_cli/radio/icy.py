"""ICY (Icecast/SHOUTcast) in-band metadata: strip the blocks, read the titles.

After every ``metaint`` audio bytes an ICY server sends one length byte L and L x 16 bytes
of ``StreamTitle='...';StreamUrl='...';`` text, NUL-padded (L = 0: nothing new). The demuxer
takes the body as it arrives, in chunks of any size, and gives back the audio alone, with
each block's text at the audio offset it precedes. Written by hand: no library on the
system parses ICY, and it is a 20-line state machine.
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
    """``icy-*`` headers (names in lower case) as the event that announces the station."""

    def num(name: str) -> int | None:
        text = headers.get(name, "").strip().split(",")[0]
        return int(text) if text.isdigit() else None

    metaint = num("icy-metaint")
    if metaint is not None and not 0 < metaint <= MAX_METAINT:
        metaint = None
    return StationDetails(
        name=headers.get("icy-name", ""),
        genre=headers.get("icy-genre", ""),
        bitrate_kbps=num("icy-br"),
        description=headers.get("icy-description", ""),
        url=headers.get("icy-url", ""),
        metaint=metaint,
    )


def decode_text(raw: bytes) -> str:
    """UTF-8 when it is, else Windows-1252: what Windows tools and SHOUTcast DSPs write, a
    superset of Latin-1's letters whose 0x80-0x9F are punctuation (’ “ ” –), not the C1
    controls Latin-1 would make of them. Its five undefined bytes stay Latin-1's."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1").translate(_C1_AS_CP1252)


_C1_AS_CP1252 = {
    b: c for b in range(0x80, 0xA0) if (c := bytes([b]).decode("cp1252", "replace")) != "\ufffd"
}


def parse_metadata(raw: bytes) -> dict[str, str]:
    """``StreamTitle='a';StreamUrl='b';`` -> {"StreamTitle": "a", ...}.

    Quotes inside a value are not escaped by servers (``Knockin';`` happens), so a value runs
    up to the ``';`` that the next ``Key='`` or the end of the block follows.
    """
    text = decode_text(raw.rstrip(b"\0"))
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

    def __init__(self, metaint: int) -> None:
        self.metaint = metaint
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
                    fields = parse_metadata(bytes(self._meta))
                    if "StreamTitle" in fields or "StreamUrl" in fields:
                        titles.append(
                            IcyTitle(
                                self.audio_offset,
                                fields.get("StreamTitle", ""),
                                fields.get("StreamUrl", ""),
                            )
                        )
        return bytes(audio), titles
