"""A podcast M4A with its cover art in ``moov`` plays without waiting for the picture.

Found in session 15: FFmpeg's mov demuxer reads ``moov/udta/meta/ilst/covr/data`` whole
before the first frame, and a faststart podcast M4A has its ``moov`` (with 0.2-3 MB of art)
at the front. Over 8 Mbit/s + 50 ms, 1 MB of art put first audio of a 60 s M4A at 1.3-1.4 s
(0.27 s without art; ffmpeg 1.21 s). Now the pictures are served to the demuxer as zeros
(``stream.cover_blank``), the download aims past them, and the samples are the same.
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
from kithara_cli.stream.cover_blank import BlankedSource, Span, cover_art_spans

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
ART_BYTES = 1_000_000


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("m4a-cover-art")
    plain = encode_file(root / "plain.m4a", 3.0, "m4a")
    (root / "art.m4a").write_bytes(with_cover_art(plain.read_bytes(), ART_BYTES))
    (root / "end.m4a").write_bytes(moov_at_end((root / "art.m4a").read_bytes()))  # moov last
    return root


def _spans(data: bytes) -> list[Span]:
    return cover_art_spans(lambda offset, size, _past: data[offset : offset + size], len(data))


def _pcm(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray() for f in container.decode(stream)], axis=1)


def test_the_art_is_found_and_its_zeros_decode_to_the_same_samples(media: Path) -> None:
    plain, art = (media / "plain.m4a").read_bytes(), (media / "art.m4a").read_bytes()
    spans = _spans(art)
    assert len(spans) == 1 and spans[0].end - spans[0].start == ART_BYTES
    assert art[spans[0].start : spans[0].start + 2] == b"\xff\xd8"  # the JPEG itself
    assert _spans(plain) == []  # an item list without a picture
    blank = art[: spans[0].start] + bytes(ART_BYTES) + art[spans[0].end :]
    with av.open(io.BytesIO(blank)) as container:
        assert container.streams.video[0].disposition & av.stream.Disposition.attached_pic
    reference = _pcm(plain)
    assert reference.shape[1] > 100_000
    assert np.array_equal(_pcm(blank), reference)
    assert np.array_equal(_pcm(art), reference)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _data(picture: bytes) -> bytes:
    return _box(b"data", struct.pack(">II", 13, 0) + picture)


def _file(*top: bytes) -> bytes:
    return _box(b"ftyp", b"M4A \x00\x00\x00\x00") + b"".join(top)


def test_only_the_pictures_of_a_moov_before_the_mdat_are_blanked() -> None:
    ilst = _box(b"ilst", _box(b"\xa9nam", _data(b"title")) + _box(b"covr", _data(b"A" * 50)))
    hdlr = _box(b"hdlr", bytes(25))
    itunes = _box(b"meta", b"\x00\x00\x00\x00" + hdlr + ilst)  # a full box
    quicktime = _box(b"meta", hdlr + ilst)  # no version and flags
    mdat = _box(b"mdat", b"\x00" * 40)
    for meta in (itunes, quicktime):
        for moov in (_box(b"moov", _box(b"udta", meta)), _box(b"moov", meta)):
            data = _file(moov, mdat)
            (span,) = _spans(data)
            assert data[span.start : span.end] == b"A" * 50
            late = _file(mdat, moov)  # moov at the end: found past mdat (s15-m4a2)
            assert [late[s.start : s.end] for s in _spans(late)] == [b"A" * 50]
    two = _box(b"covr", _data(b"B" * 30) + _data(b"C" * 20))
    ilst2 = _box(b"ilst", two)
    data = _file(_box(b"moov", _box(b"udta", _box(b"meta", bytes(4) + hdlr + ilst2))), mdat)
    assert [data[s.start : s.end] for s in _spans(data)] == [b"B" * 30, b"C" * 20]
    assert _spans(b"ID3\x04" + bytes(100)) == []  # not an MP4
    lying = _file(_box(b"moov", b"\x00\x10\x00\x00udta"))  # a child past its parent
    assert _spans(lying) == []


def test_reads_across_a_blank_span_give_zeros_there_only() -> None:
    from kithara_cli.stream import ByteStream, Source

    data = bytes(range(256)) * 4

    class Memory(Source):
        def wait_readable(self, offset: int, size: int, timeout: float | None = None) -> int:
            return min(size, len(data) - offset)

        def read_at(self, offset: int, size: int) -> bytes:
            return data[offset : offset + size]

        def length(self) -> int | None:
            return len(data)

        def reader_moved(self, offset: int) -> None:
            pass

    stream = ByteStream(BlankedSource(Memory(), [Span(100, 200), Span(300, 310)]))
    got = b""
    while chunk := stream.read(64):
        got += chunk
    assert got == data[:100] + bytes(100) + data[200:300] + bytes(10) + data[310:]


def _play(url: str, wav: Path, *extra: str) -> None:
    proc = run_cli("play", url, "--no-ui", "--output", f"wav:{wav}", *extra, env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_an_m4a_with_art_plays_the_same_samples_as_without(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        for name in ("plain", "art"):
            _play(srv.url(f"{name}.m4a"), tmp_path / f"{name}.wav")
            _play(srv.url(f"{name}.m4a"), tmp_path / f"{name}_seek.wav", "--start", "1.5")
    plain = (tmp_path / "plain.wav").read_bytes()
    assert len(plain) > 400_000
    assert (tmp_path / "art.wav").read_bytes() == plain
    seek = (tmp_path / "plain_seek.wav").read_bytes()
    assert 100_000 < len(seek) < len(plain)
    assert (tmp_path / "art_seek.wav").read_bytes() == seek


def test_first_audio_does_not_wait_for_the_cover_art(media: Path, tmp_path: Path) -> None:
    """At 100 KB/s a connection the picture alone is 10 s: a play of half a second ends
    long before, having fetched the audio past the picture first."""
    art = (media / "art.m4a").read_bytes()
    (span,) = _spans(art)
    with MediaServer(media) as srv:
        srv.set_faults("art.m4a", Faults(rate_per_conn=100_000))
        _play(srv.url("art.m4a"), tmp_path / "a.wav", "--length", "0.5")
        ranges = [r.range for r in srv.stats.requests("art.m4a")]
        sent = srv.stats.bytes_sent("art.m4a")
    assert f"bytes={span.end}-" in " ".join(str(r) for r in ranges), ranges
    assert sent < ART_BYTES // 2, (sent, ranges)
    assert (tmp_path / "a.wav").stat().st_size > 50_000


@pytest.mark.parametrize("name", ["art.m4a", "end.m4a"])  # moov first, or after mdat
def test_a_recording_keeps_the_picture(media: Path, tmp_path: Path, name: str) -> None:
    """``--record`` writes the file's own bytes: its pictures are read, not blanked."""
    rec = tmp_path / "rec.m4a"
    with MediaServer(media) as srv:
        proc = run_cli(
            "play", srv.url(name), "--no-ui", "--output", "null", "--record", str(rec),
            env=ENV, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert rec.read_bytes() == (media / name).read_bytes()


@pytest.mark.parametrize("name", ["art.m4a", "end.m4a"])
def test_a_server_that_ignores_range_reads_the_picture(
    media: Path, tmp_path: Path, name: str
) -> None:
    """No request could start past the picture: the file is read as it comes, as before."""
    with MediaServer(media) as srv:
        srv.set_faults(name, Faults(ignore_range=True))
        _play(srv.url(name), tmp_path / "art.wav")
        _play(srv.url("plain.m4a"), tmp_path / "plain.wav")
    assert (tmp_path / "art.wav").read_bytes() == (tmp_path / "plain.wav").read_bytes()
