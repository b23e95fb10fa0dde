"""Now-playing titles of chained Ogg (Vorbis, Opus): each link's comment header, timed.

An Icecast Ogg mount (and many long Ogg files) is a chain of links, each with its own
identification and comment headers (``\\x03vorbis`` / ``OpusTags``: TITLE, ARTIST). FFmpeg's
Ogg demuxer reads the comment header of each new link and attaches it, packed as
``key\\0value\\0...``, to that link's first audio packet as ``AV_PKT_DATA_STRINGS_METADATA``
side data (the first link's is in the stream's metadata at open). PyAV (>= 14) exposes packet
side data, so no Ogg page is parsed here: the decoder hands each packet to :class:`OggTitles`,
which queues the link's title at the timeline second where that packet's audio will be
written, i.e. where it will play. The queue keeps them all, so a seek back into an earlier
link shows its title again. Other containers are left alone (an MP3's ID3 tag is the
file's name for itself, not a now-playing change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from kithara_cli.radio.titles import TitleQueue, title_from_tags

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import InputContainer
    from av.packet import Packet

SIDE_DATA: Final = "strings_metadata"  # PyAV's name for AV_PKT_DATA_STRINGS_METADATA


def unpack_strings(raw: bytes) -> dict[str, str]:
    """FFmpeg's packed dictionary (``av_packet_pack_dictionary``): key NUL value NUL ..."""
    parts = raw.split(b"\0")
    out: dict[str, str] = {}
    for key, value in zip(parts[0::2], parts[1::2], strict=False):
        if key:
            out[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return out


class OggTitles:
    """Feeds ``queue`` from an Ogg stream's links; see the module docstring."""

    def __init__(self, queue: TitleQueue) -> None:
        self.queue = queue
        self._active = False
        self._opening: Mapping[str, str] | None = None  # the first link's tags, not yet queued
        self._origin = 0.0

    def opened(self, container: InputContainer, stream: AudioStream, origin: float = 0.0) -> None:
        """A container was (re)opened: only Ogg is followed. Its first link's tags hold from
        the stream's start, ``origin``, and are queued there with the first packet, wherever
        the decoder starts (a ``--start`` into a later link reads past the first one)."""
        self._active = container.format.name == "ogg"
        self._opening = dict(stream.metadata) if self._active else None
        self._origin = origin

    def seek(self, target: float) -> None:
        """Playback jumps to ``target``: the title in force there is shown again (the queue
        keeps every link's title by timeline second; a link's header is not read again)."""
        self.queue.seek(target)

    def packet(self, packet: Packet, at: float | None) -> None:
        """``packet`` is about to be decoded; its audio plays from timeline second ``at``
        (None: not known yet, the first packet after a demuxer seek)."""
        if not self._active:
            return
        if self._opening is not None:
            self._queue(self._opening, self._origin)
            self._opening = None
        if at is not None and packet.has_sidedata(SIDE_DATA):
            self._queue(unpack_strings(bytes(packet.get_sidedata(SIDE_DATA))), at)

    def _queue(self, tags: Mapping[str, str], at: float) -> None:
        title = title_from_tags(tags)
        if title is not None:
            self.queue.add(at, title)
