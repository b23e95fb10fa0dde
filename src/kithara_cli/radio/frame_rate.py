"""A live stream's real byte rate, read from its MP3 or ADTS AAC frame headers.

``icy-br`` is what the station's operator typed into the encoder's form, and it lies: a
stream re-encoded at 64 kbit/s still says 128, an AAC+ mount says 320. Every second kithara
derives from the stream's bytes rests on that rate (``fetch --duration``, the times in the
CUE sheet, when an ICY title shows), so a wrong ``icy-br`` recorded 1 s for ``--duration 4``,
or 10 s. Each frame header names its own size and sample count: a run of them in a row is the
stream's rate, whatever the header says. Written by hand: both headers are a few bits, and
the layers below (``audio``, ``hls``) that parse them may not be imported from here.
"""

from __future__ import annotations

RUN = 8  # frames in a row: chance agreement of random bytes is out of the question
PROBE_BYTES = 64 * 1024  # what a station's first bytes may take to show a run; then give up

_MP3_KBPS = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def _mp3(data: bytes, at: int) -> tuple[int, float] | None:
    """(bytes, seconds) of the Layer III frame at ``at``, or None."""
    h = data[at : at + 4]
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xE0 != 0xE0:
        return None
    version, layer = (h[1] >> 3) & 3, (h[1] >> 1) & 3
    index, rate_index = h[2] >> 4, (h[2] >> 2) & 3
    if version == 1 or layer != 1 or index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    rate = _MP3_RATES[version][rate_index]
    samples = 1152 if mpeg1 else 576
    size = samples // 8 * _MP3_KBPS[mpeg1][index] * 1000 // rate + ((h[2] >> 1) & 1)
    return size, samples / rate


def _adts(data: bytes, at: int) -> tuple[int, float] | None:
    """(bytes, seconds) of the ADTS AAC frame at ``at``, or None."""
    h = data[at : at + 7]
    if len(h) < 7 or h[0] != 0xFF or h[1] & 0xF6 != 0xF0:
        return None
    rate_index = (h[2] >> 2) & 0x0F
    size = ((h[3] & 0x03) << 11) | (h[4] << 3) | (h[5] >> 5)
    if rate_index >= len(_ADTS_RATES) or size < 7:
        return None
    blocks = (h[6] & 0x03) + 1
    return size, 1024 * blocks / _ADTS_RATES[rate_index]


def frame_byterate(data: bytes) -> float | None:
    """Bytes per second of the first run of ``RUN`` MP3 or ADTS frames in a row in ``data``
    (the start may be mid-frame: a listener joins anywhere); None when there is none."""
    at = data.find(b"\xff")
    while at >= 0:
        for frame in (_mp3, _adts):
            size = seconds = 0.0
            pos = at
            for _ in range(RUN):
                found = frame(data, pos)
                if found is None or pos + found[0] > len(data):
                    break
                size, seconds, pos = size + found[0], seconds + found[1], pos + found[0]
            else:
                return size / seconds
        at = data.find(b"\xff", at + 1)
    return None


def trusted_byterate(claimed: float | None, framed: float | None) -> float | None:
    """The rate to count seconds by: ``icy-br``'s (``claimed``), unless the frames say
    otherwise by more than a third (a lie, not a VBR stream's swing around its nominal rate)."""
    if framed is None:
        return claimed
    if claimed is None or abs(framed - claimed) > claimed / 3:
        return framed
    return claimed
