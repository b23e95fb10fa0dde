"""An M4A whose ``moov`` (with its cover art) follows its ``mdat`` plays without waiting for
the picture.

Found in session 15: a file not written "faststart" (some encoders and podcast tools) has
its ``moov`` at the end; FFmpeg reads the top-level headers, seeks past ``mdat`` and reads
``moov`` whole, picture included, before the first frame. kithara moved its one request
there (the start-up request with the audio was cancelled) and fetched the picture first:
over 8 Mbit/s + 50 ms, 1 MB of art put first audio of a 60 s M4A at 1.30 s (0.36 s without
art; ffmpeg 1.36 s). Now ``moov`` is found past ``mdat`` by its header, read over a side
request that skips the picture (served as zeros), the audio request stays: 0.37-0.45 s,
as without art (0.35-0.42 s).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.media.mp4_art import moov_at_end, with_cover_art
from kithara_cli.server import Faults, MediaServer
from kithara_cli.stream.cover_blank import Way, cover_art_spans

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
ART_BYTES = 1_000_000


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("m4a-moov-at-end")
    plain = encode_file(root / "plain.m4a", 3.0, "m4a")
    (root / "end.m4a").write_bytes(moov_at_end(with_cover_art(plain.read_bytes(), ART_BYTES)))
    (root / "plain_end.m4a").write_bytes(moov_at_end(plain.read_bytes()))
    return root


def _pcm(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)


def _top(data: bytes) -> dict[bytes, tuple[int, int]]:
    boxes, pos = {}, 0
    while pos < len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        boxes[kind] = (pos, pos + size)
        pos += size
    return boxes


def test_the_art_past_mdat_is_found_without_reading_the_audio(media: Path) -> None:
    data = (media / "end.m4a").read_bytes()
    top = _top(data)
    assert top[b"mdat"][1] == top[b"moov"][0]  # moov after mdat
    reads: list[tuple[int, int, Way]] = []

    def read(offset: int, size: int, way: Way) -> bytes:
        reads.append((offset, size, way))
        return data[offset : offset + size]

    (span,) = cover_art_spans(read, len(data))
    assert span.end - span.start == ART_BYTES and data[span.start : span.start + 2] == b"\xff\xd8"
    mdat_at, moov_at = top[b"mdat"][0], top[b"moov"][0]
    for offset, size, way in reads:  # mdat's header only, then moov's headers, aside
        assert offset + size <= mdat_at + 16 or (offset >= moov_at and way == "aside"), reads
        assert not span.start <= offset < span.end
    blank = data[: span.start] + bytes(ART_BYTES) + data[span.end :]
    reference = _pcm((media / "plain.m4a").read_bytes())
    assert reference.shape[1] > 100_000
    assert np.array_equal(_pcm(blank), reference)
    assert np.array_equal(_pcm(data), reference)
    plain_end = (media / "plain_end.m4a").read_bytes()  # an item list without a picture
    assert cover_art_spans(lambda o, n, _w: plain_end[o : o + n], len(plain_end)) == []


def _play(url: str, wav: Path, *extra: str) -> None:
    proc = run_cli("play", url, "--no-ui", "--output", f"wav:{wav}", *extra, env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_it_plays_the_same_samples_as_the_plain_file(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        for name in ("plain", "end"):
            _play(srv.url(f"{name}.m4a"), tmp_path / f"{name}.wav")
            _play(srv.url(f"{name}.m4a"), tmp_path / f"{name}_seek.wav", "--start", "1.5")
    plain = (tmp_path / "plain.wav").read_bytes()
    assert len(plain) > 400_000
    assert (tmp_path / "end.wav").read_bytes() == plain
    seek = (tmp_path / "plain_seek.wav").read_bytes()
    assert 100_000 < len(seek) < len(plain)
    assert (tmp_path / "end_seek.wav").read_bytes() == seek


def test_first_audio_does_not_wait_for_the_art_past_the_audio(media: Path, tmp_path: Path) -> None:
    """At 100 KB/s a connection the picture alone is 10 s: a play of half a second ends
    long before. The start-up request (the audio) is never moved to ``moov``; the side
    request reading ``moov`` stops at the picture."""
    data = (media / "end.m4a").read_bytes()
    moov_at = _top(data)[b"moov"][0]
    with MediaServer(media) as srv:
        srv.set_faults("end.m4a", Faults(rate_per_conn=100_000))
        _play(srv.url("end.m4a"), tmp_path / "a.wav", "--length", "0.5")
        ranges = [str(r.range) for r in srv.stats.requests("end.m4a")]
        sent = srv.stats.bytes_sent("end.m4a")
    assert ranges[0] == "bytes=0-524287", ranges
    assert [r for r in ranges[1:] if not r.startswith(f"bytes={moov_at}-")] == [], ranges
    assert sent < ART_BYTES // 2, (sent, ranges)
    assert (tmp_path / "a.wav").stat().st_size > 50_000


# --record and a server ignoring Range: test_s15_m4a_cover_art.py, parametrised over end.m4a.
