"""Timed ID3 in an MPEG-TS segment: each tag's bytes and its time after the first audio.

HLS timed metadata (Apple's "Timed Metadata for HTTP Live Streaming") is a PES stream of
``stream_type`` 0x15 listed in the PMT; each PES packet is one ID3v2 tag and its PTS is when
it applies. The tag's time within the segment is its PTS less the PTS of the segment's first
audio PES (both 33-bit, so the difference is taken modulo 2**33).

Written by hand: a byte scan over the 188-byte packets (PAT, PMT, PES headers) costs
microseconds on the source's thread, needs no codec, and FFmpeg as PyAV builds it would
demux every audio packet of the segment to give the same two numbers.
"""

from __future__ import annotations

from collections.abc import Iterator

PACKET = 188
SYNC = 0x47
ID3_STREAM_TYPE = 0x15
AUDIO_STREAM_TYPES = frozenset({0x03, 0x04, 0x0F, 0x11, 0x81, 0x87})  # MPEG audio, AAC, AC-3
PTS_WRAP = 1 << 33
MAX_TAG_BYTES = 256 * 1024  # one PES of timed ID3; more is no title


def _payload(packet: bytes) -> tuple[int, bool, bytes]:
    """(PID, payload unit start, payload) of one TS packet."""
    pid = (packet[1] & 0x1F) << 8 | packet[2]
    start = bool(packet[1] & 0x40)
    control = (packet[3] >> 4) & 0x3
    at = 4
    if control & 0x2:
        at += 1 + packet[4]
    return pid, start, packet[at:] if control & 0x1 and at < PACKET else b""


def _section(payload: bytes) -> bytes:
    """A PSI section (after the pointer field), cut to its length."""
    if not payload:
        return b""
    body = payload[1 + payload[0] :]
    if len(body) < 3:
        return b""
    length = (body[1] & 0x0F) << 8 | body[2]
    return body[: 3 + length]


def _pmt_pids(payload: bytes) -> set[int]:
    sec = _section(payload)
    out: set[int] = set()
    if len(sec) < 8 or sec[0] != 0x00:
        return out
    for at in range(8, len(sec) - 4, 4):  # program number, PMT PID; the CRC ends it
        program = sec[at] << 8 | sec[at + 1]
        if program != 0:
            out.add((sec[at + 2] & 0x1F) << 8 | sec[at + 3])
    return out


def _streams(payload: bytes) -> dict[int, int]:
    """PID -> stream_type from a PMT section."""
    sec = _section(payload)
    out: dict[int, int] = {}
    if len(sec) < 12 or sec[0] != 0x02:
        return out
    at = 12 + ((sec[10] & 0x0F) << 8 | sec[11])
    end = len(sec) - 4
    while at + 5 <= end:
        kind, pid = sec[at], (sec[at + 1] & 0x1F) << 8 | sec[at + 2]
        out[pid] = kind
        at += 5 + ((sec[at + 3] & 0x0F) << 8 | sec[at + 4])
    return out


def _pes(data: bytes) -> tuple[int | None, bytes]:
    """(PTS, payload) of a PES packet (None: no PTS, or not a PES)."""
    if len(data) < 9 or data[:3] != b"\0\0\x01":
        return None, b""
    length = data[4] << 8 | data[5]
    if length:
        data = data[: 6 + length]
    pts = None
    if data[7] & 0x80 and len(data) >= 14:
        p = data[9:14]
        pts = (p[0] >> 1 & 0x07) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
    return pts, data[9 + data[8] :]


def _walk(
    segment: bytes | bytearray, limit: int | None = None
) -> Iterator[tuple[int, bool, bytes, dict[int, int] | None]]:
    """(PID, unit start, payload, the PMT's {PID: stream_type} where this packet starts a
    PMT section, else None) of each packet, up to the first lost sync or ``limit`` packets."""
    pmts: set[int] = set()
    end = len(segment) if limit is None else min(len(segment), limit * PACKET)
    for pos in range(0, end - PACKET + 1, PACKET):
        packet = bytes(segment[pos : pos + PACKET])
        if packet[0] != SYNC:
            return
        pid, start, payload = _payload(packet)
        streams = None
        if pid == 0 and start:
            pmts |= _pmt_pids(payload)
        elif pid in pmts and start:
            streams = _streams(payload)
        yield pid, start, payload, streams


def timed_id3(segment: bytes | bytearray) -> list[tuple[float, bytes]]:
    """(seconds after the first audio PTS, ID3 bytes) of each timed ID3 PES, in order."""
    kinds: dict[int, int] = {}
    units: dict[int, bytearray] = {}  # PID -> the PES being gathered
    tags: list[tuple[int | None, bytes]] = []
    first_audio: int | None = None
    for pid, start, payload, streams in _walk(segment):
        if streams is not None:
            kinds.update(streams)
        kind = kinds.get(pid)
        if kind in AUDIO_STREAM_TYPES and start and first_audio is None:
            first_audio = _pes(payload)[0]
        elif kind == ID3_STREAM_TYPE:
            if start:
                if pid in units:
                    tags.append(_pes(bytes(units.pop(pid))))
                units[pid] = bytearray(payload)
            elif pid in units and len(units[pid]) < MAX_TAG_BYTES:
                units[pid] += payload
    tags += [_pes(bytes(unit)) for unit in units.values()]
    out: list[tuple[float, bytes]] = []
    for pts, body in tags:
        if pts is None or not body:
            continue
        delta = 0 if first_audio is None else (pts - first_audio) % PTS_WRAP
        if delta > PTS_WRAP // 2:
            delta -= PTS_WRAP  # a tag just before the first audio
        out.append((delta / 90_000, body))
    out.sort(key=lambda item: item[0])
    return out


def audio_stream_types(segment: bytes | bytearray, limit: int = 64) -> tuple[int, ...]:
    """The audio stream_types the segment's first PMT lists (0x0F AAC, 0x81 AC-3...), sorted;
    () when none is found in its first ``limit`` packets. What says two TS segments need
    different decoders (an ABR switch or a discontinuity into another codec)."""
    for _pid, _start, _payload, streams in _walk(segment, limit):
        if streams is not None:
            return tuple(sorted({k for k in streams.values() if k in AUDIO_STREAM_TYPES}))
    return ()
