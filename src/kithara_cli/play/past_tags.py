"""Starting the decoder past what a progressive file holds before its audio: a large ID3v2
tag (cover art) or an M4A's pictures, read later or never (``play.opening`` opens the file).

The bytes are read as they come over the first response; bytes past the audio (an ID3v1 tag,
a ``moov`` at the end) over a side request, so the running one stays on the audio. Any
failure reads as "nothing to skip": the decoder then reads the file from its first byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kithara_cli import interrupt

if TYPE_CHECKING:
    from kithara_cli.file.source import ProgressiveSource
    from kithara_cli.stream.cover_blank import Span

READ_SLICE = 0.05  # one wait for bytes, between Ctrl-C checks (``opening``'s first response's)

# Leading ID3 tags this small (titles, no cover art: an encoder's one TSSE frame is 45 bytes)
# are shown to the decoder, as ffmpeg and mpv do: their bytes come with the first response,
# and FFmpeg's MP3 demuxer, finding their title, skips its peek at the file's last bytes for
# an ID3v1 tag. Started past them, it made that peek: a round trip before first audio
# (50 ms of 0.32 s at 50 ms latency). Larger tags (cover art) are skipped (session 13).
SHOWN_TAG_BYTES = 16 << 10
ID3V1_BYTES = 128  # an ID3v1 tag: the file's last 128 bytes


def audio_start_of(src: ProgressiveSource) -> int:
    """``served.audio_start`` over the file's bytes as they come (0 on any failure: the
    decoder then reads from byte 0 and meets it); 0 too for tags of ``SHOWN_TAG_BYTES`` or
    less (see there)."""
    from kithara_cli.audio.mp3_frames import id3v2_size
    from kithara_cli.play.served import audio_start
    from kithara_cli.storage import ResourceClosed, ResourceFailed

    total = src.length()
    if total is None or src.info is None or not src.info.range_honoured:
        return 0

    def read_at(offset: int, size: int) -> bytes:
        while (got := src.wait_readable(offset, size, READ_SLICE)) < 0:
            interrupt.check()
        return src.read_at(offset, got)

    try:
        if id3v2_size(read_at(0, 10)) > SHOWN_TAG_BYTES and total > ID3V1_BYTES:
            # Started past its tags, FFmpeg's demuxer finds no title and reads the last 128
            # bytes for an ID3v1 tag: on their way now, beside the audio's request.
            src.peek_ready(total - ID3V1_BYTES, ID3V1_BYTES)
        start = audio_start(read_at, total)
    except (ResourceFailed, ResourceClosed):
        return 0
    return start if start > SHOWN_TAG_BYTES else 0


def cover_art(src: ProgressiveSource) -> list[Span]:
    """``cover_blank.cover_art_spans`` over the file's bytes as they come, those before the
    pictures in order as the demuxer reads them (no request aimed past bytes it needs), a
    ``moov`` past the audio over a side request (the running one stays on the audio, the
    side one skips the picture); none on any failure (the decoder then reads the pictures)."""
    from kithara_cli.storage import ResourceClosed, ResourceFailed
    from kithara_cli.stream.cover_blank import Way, cover_art_spans

    total = src.length()
    if total is None or src.info is None or not src.info.range_honoured:
        return []
    done = 0  # every byte below it has come
    aside: int | None = None  # where the bytes read aside begin

    def read(offset: int, size: int, way: Way) -> bytes:
        nonlocal done, aside
        if way == "aside" or (aside is not None and offset >= aside):
            aside = offset if aside is None else aside
            return read_aside(src, offset, size, wait=way == "aside")
        pos = offset if way == "past_art" else min(done, offset)
        while pos < offset + size:
            while (got := src.wait_readable(pos, offset + size - pos, READ_SLICE)) < 0:
                interrupt.check()
            if got == 0:
                break
            pos += got
        done = max(done, pos) if way == "order" else done
        return src.read_at(offset, pos - offset) if pos > offset else b""

    try:
        spans = cover_art_spans(read, total)
    except (ResourceFailed, ResourceClosed):
        return []
    if aside is None:
        if spans:  # the download goes on past the pictures
            src.reader_moved(spans[-1].end)
    elif spans:  # the side request skips the picture; the running one stays on the audio
        src.skip_aside(spans[0].start, spans[-1].end)
    return spans


def read_aside(src: ProgressiveSource, offset: int, size: int, *, wait: bool) -> bytes:
    """Bytes past the audio, brought by one side request (``peek_ready``), never by moving
    the running one, unless the server turned the side request away as busy (one
    connection per client: the source then moves its one request, asked again); b"" if
    no request brings them, or (``wait`` False) if they are not here yet."""
    end = min(offset + size, src.length() or 0)
    if src.peek_ready(offset, end - offset, urgent=wait):
        return src.read_at(offset, end - offset)
    again = 2  # a busy refusal may be a blip: the second in a row moves the one request
    while not src.resource.contains(offset, end):
        if not wait:
            return b""
        if not src.fetching(offset):
            if not again:
                return b""
            again -= 1  # the side request ended without them: ask again
            if src.peek_ready(offset, end - offset, urgent=True):
                break
            continue
        src.resource.wait_range(offset, end, READ_SLICE)
        interrupt.check()
    return src.read_at(offset, end - offset)
