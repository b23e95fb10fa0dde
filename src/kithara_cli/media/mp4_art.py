"""A podcast M4A: cover art (``moov/udta/meta/ilst/covr/data``) put into a faststart file.

A podcast episode's M4A carries its cover art (hundreds of KB to a few MB) in the iTunes
item list inside ``moov``, which a faststart file has at its front: FFmpeg's mov demuxer
reads it whole before the first frame. :func:`with_cover_art` adds such an item to a file
that :func:`encode_file` wrote (``m4a``); the chunk offsets (``stco``/``co64``) move by what
was added, so the audio decodes exactly as before. :func:`moov_at_end` moves ``moov`` after
``mdat`` (what some encoders and podcast tools write): FFmpeg then reads it over a tail request.
"""

from __future__ import annotations

import random
import struct

_PATH_TO_ILST = (b"moov", b"udta", b"meta", b"ilst")
_TO_CHUNK_OFFSETS = (b"trak", b"mdia", b"minf", b"stbl")
JPEG_TYPE = 13  # the ``data`` box's well-known type of a JPEG picture


def cover_item(art_bytes: int, seed: int = 0) -> bytes:
    """A ``covr`` item with one JPEG-typed ``data`` box of ``art_bytes`` (a JPEG's SOI and
    seeded noise: the same bytes on every call)."""
    picture = b"\xff\xd8\xff\xe0" + random.Random(seed).randbytes(max(art_bytes - 4, 0))
    data = _box(b"data", struct.pack(">II", JPEG_TYPE, 0) + picture)
    return _box(b"covr", data)


def with_cover_art(m4a: bytes, art_bytes: int, seed: int = 0) -> bytes:
    """``m4a`` (faststart, ``moov/udta/meta/ilst`` present: FFmpeg's muxer writes one) with a
    ``covr`` item of ``art_bytes`` appended to its item list."""
    item = cover_item(art_bytes, seed)
    moov_at, moov_end = _child(m4a, 0, len(m4a), b"moov")
    mdat_at, _ = _child(m4a, 0, len(m4a), b"mdat")
    if mdat_at < moov_at:
        raise ValueError("not a faststart file: mdat precedes moov")
    chain = [(moov_at, moov_end)]
    for name in _PATH_TO_ILST[1:]:
        at, end = chain[-1]
        inner = at + 8 + (4 if _type(m4a, at) == b"meta" else 0)  # a full box
        chain.append(_child(m4a, inner, end, name))
    ilst_end = chain[-1][1]
    out = bytearray(m4a[:ilst_end] + item + m4a[ilst_end:])
    for at, end in chain:  # every box around the new item grows by its size
        struct.pack_into(">I", out, at, end - at + len(item))
    _shift_chunk_offsets(out, moov_at, moov_end + len(item), len(item))
    return bytes(out)


def moov_at_end(m4a: bytes) -> bytes:
    """``m4a`` (faststart) with its ``moov`` moved after its ``mdat``: the boxes before it
    move back by its size, and so do the chunk offsets."""
    moov_at, moov_end = _child(m4a, 0, len(m4a), b"moov")
    mdat_at, _ = _child(m4a, 0, len(m4a), b"mdat")
    if mdat_at < moov_at:
        raise ValueError("moov already follows mdat")
    moov = bytearray(m4a[moov_at:moov_end])
    _shift_chunk_offsets(moov, 0, len(moov), -len(moov))
    return m4a[:moov_at] + m4a[moov_end:] + bytes(moov)


def _shift_chunk_offsets(data: bytearray, moov_at: int, moov_end: int, delta: int) -> None:
    pos = moov_at + 8
    while pos < moov_end:
        size, kind = _header(data, pos)
        if kind == b"trak":
            stbl_at, stbl_end = pos, pos + size
            for name in _TO_CHUNK_OFFSETS[1:]:
                stbl_at, stbl_end = _child(data, stbl_at + 8, stbl_end, name)
            _shift_table(data, stbl_at + 8, stbl_end, delta)
        pos += size


def _shift_table(data: bytearray, start: int, end: int, delta: int) -> None:
    pos = start
    while pos < end:
        size, kind = _header(data, pos)
        if kind in (b"stco", b"co64"):
            count = struct.unpack_from(">I", data, pos + 12)[0]
            width, fmt = (4, ">I") if kind == b"stco" else (8, ">Q")
            for i in range(count):
                at = pos + 16 + i * width
                struct.pack_into(fmt, data, at, struct.unpack_from(fmt, data, at)[0] + delta)
        pos += size


def _child(data: bytes | bytearray, start: int, end: int, name: bytes) -> tuple[int, int]:
    """Where the first ``name`` box in ``[start, end)`` begins and ends."""
    pos = start
    while pos + 8 <= end:
        size, kind = _header(data, pos)
        if kind == name:
            return pos, pos + size
        pos += size
    raise ValueError(f"no {name.decode()} box")


def _header(data: bytes | bytearray, pos: int) -> tuple[int, bytes]:
    size, kind = struct.unpack_from(">I4s", data, pos)
    if size < 8:
        raise ValueError("a box size this helper does not write (0 or 64-bit)")
    return size, kind


def _type(data: bytes | bytearray, pos: int) -> bytes:
    return bytes(data[pos + 4 : pos + 8])


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload
