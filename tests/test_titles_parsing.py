"""The title parsers on their own: ID3v2 (2.2-2.4), timed ID3 in TS, the timed-title queue,
FFmpeg's packed dictionary. Hostile bytes give no title, never an exception."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kithara_cli.audio.ogg_titles import unpack_strings
from kithara_cli.hls.id3 import leading_tags, parse_tag, segment_titles
from kithara_cli.hls.sniff import container_of
from kithara_cli.hls.ts_id3 import timed_id3
from kithara_cli.media.titles import build_timed_id3_stream, id3_title_tag
from kithara_cli.radio.titles import TitleQueue, title_from_tags


def _plain_size(n: int) -> bytes:
    return struct.pack(">I", n)


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _v23(frames: bytes, flags: int = 0) -> bytes:
    return b"ID3\x03\x00" + bytes([flags]) + _syncsafe(len(frames)) + frames


def _frame23(fid: bytes, body: bytes, flags: bytes = b"\0\0") -> bytes:
    return fid + _plain_size(len(body)) + flags + body


def test_queue_gives_each_title_once_in_time_order_and_drops_repeats() -> None:
    q = TitleQueue()
    assert q.add(4.0, "b")
    assert q.add(2.0, "a")  # found later, plays earlier (a TS tag after the next segment's)
    assert not q.add(3.0, "a")  # the title in force there again (the next segment's tag)
    assert q.add(6.0, "c", "http://x")
    assert q.due(1.9) == []
    assert [t.title for t in q.due(4.0)] == ["a", "b"]
    assert q.due(4.0) == []
    assert not q.add(4.0, "b") and not q.add(2.0, "a")  # a segment fetched again: nothing new
    assert [(t.at, t.title) for t in q.titles()] == [(2.0, "a"), (4.0, "b"), (6.0, "c")]


def test_queue_after_a_seek_gives_the_title_in_force_at_the_target() -> None:
    q = TitleQueue()
    for at, title in ((0.0, "one"), (1.5, "two"), (2.7, "three")):
        q.add(at, title)
    assert [t.title for t in q.due(3.0)] == ["three"]  # the first call: what is on now
    q.seek(0.5)  # back into the first link: its title again, once
    assert [t.title for t in q.due(0.49)] == ["one"]  # (the output's latency: pos < target)
    assert q.due(0.6) == []
    assert [t.title for t in q.due(1.6)] == ["two"]
    q.seek(2.0)  # within the link on air: no change, no event
    assert q.due(2.0) == []
    assert [t.title for t in q.due(2.8)] == ["three"]


def test_queue_seek_before_any_known_title_says_no_title() -> None:
    """A timed ID3 tag at 2.7 s: seeking to 1.0 s, the title shown is not kept up."""
    q = TitleQueue()
    q.add(2.7, "later")
    assert q.due(0.5) == []  # nothing known and nothing shown: no event
    assert [t.title for t in q.due(3.0)] == ["later"]
    q.seek(1.0)
    assert [t.title for t in q.due(1.0)] == [""]  # "no title", not the wrong one
    assert [t.title for t in q.due(2.8)] == ["later"]


def test_title_from_tags() -> None:
    assert title_from_tags({"TITLE": "Song", "artist": "Band"}) == "Band - Song"
    assert title_from_tags({"title": "Song"}) == "Song"
    assert title_from_tags({"encoder": "Lavf", "TITLE": " "}) is None


def test_id3v23_utf16_and_tag_unsynchronisation() -> None:
    title = b"\x01" + "Ünïcode ÿ".encode("utf-16")  # BOM, then UTF-16
    artist = b"\x00Band\x00"
    tag = _v23(_frame23(b"TIT2", title) + _frame23(b"TPE1", artist))
    (parsed,) = leading_tags(tag + b"\xff\xf1rest")
    assert parsed.title() == ("Band - Ünïcode ÿ", "")
    assert parsed.size == len(tag)
    unsync = _v23(_frame23(b"TIT2", b"\x00\xff\x00x".replace(b"\xff\x00", b"\xff")), 0x80)
    # Unsynchronised: every 0xFF in the tag body is followed by 0x00 on the wire.
    wire = unsync[:10] + unsync[10:].replace(b"\xff", b"\xff\x00")
    wire = wire[:6] + _syncsafe(len(wire) - 10) + wire[10:]
    tag2 = parse_tag(wire)
    assert tag2 is not None and tag2.text["TIT2"] == "\xffx"


def test_id3v22_and_v24_frame_flags() -> None:
    v22 = b"TT2" + (6).to_bytes(3, "big") + b"\x00Hello"
    tag = parse_tag(b"ID3\x02\x00\x00" + _syncsafe(len(v22)) + v22)
    assert tag is not None and tag.title() == ("Hello", "")
    body = b"\x03" + "naïve".encode()
    with_dli = _syncsafe(len(body)) + body  # v2.4: data length indicator, flag 0x01
    frames = b"TIT2" + _syncsafe(len(with_dli)) + b"\x00\x01" + with_dli
    frames += b"TPE1" + _syncsafe(5) + b"\x00\x08" + b"\x03zzzz"  # compressed: skipped
    frames += b"TXXX" + _syncsafe(10) + b"\x00\x00" + b"\x03URL\x00a.b/"
    tag = parse_tag(b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames)
    assert tag is not None
    assert tag.text["TIT2"] == "naïve" and "TPE1" not in tag.text
    assert tag.title() == ("naïve", "a.b/")


def test_priv_timestamp_and_txxx_title() -> None:
    tag = id3_title_tag(None, pts_90k=123_456)
    (parsed,) = leading_tags(tag)
    assert parsed.timestamp_90k == 123_456 and parsed.title() is None
    txxx = _v23(_frame23(b"TXXX", b"\x00StreamTitle\x00On Air"))
    parsed2 = parse_tag(txxx)
    assert parsed2 is not None and parsed2.title() == ("On Air", "")
    # Packed MP3 segments are read the same way; fMP4 (emsg) is not read at all.
    assert segment_titles(id3_title_tag("x") + b"\xff\xfb\x90\x00", "mp3") == [(0.0, "x", "")]
    assert segment_titles(id3_title_tag("x"), "fmp4") == []


@given(st.binary(max_size=400))
def test_hostile_bytes_never_raise(junk: bytes) -> None:
    for data in (junk, b"ID3\x04\x00\x00" + junk, b"ID3\x03\x00\x40" + junk):
        for kind in ("adts", "mp3", "ts", "fmp4", None):
            segment_titles(data, kind)
    segment_titles(b"\x47" + junk, "ts")


def test_huge_declared_sizes_are_clamped() -> None:
    frames = b"TIT2" + _syncsafe(0x0FFFFFFF) + b"\x00\x00" + b"\x03cut"
    tag = parse_tag(b"ID3\x04\x00\x00" + _syncsafe(0x0FFFFFFF) + frames)
    assert tag is not None and tag.text["TIT2"] == "cut"
    many = id3_title_tag("x") * 1000  # a chain of tags: only the first few are read
    assert len(leading_tags(many)) == 8


def test_timed_id3_in_ts_segments(tmp_path: Path) -> None:
    build_timed_id3_stream(tmp_path, 4.5, [(0.5, "a"), (2.9, "b"), (3.0, "c")])
    found = []
    for seg in sorted(tmp_path.glob("timed_id3_*.ts")):
        data = seg.read_bytes()
        assert container_of(data) == "ts"
        found.append([(round(at, 3), title) for at, title, _ in segment_titles(data, "ts")])
    prime = round(1024 / 44100, 3)
    assert found[0] == [(round(0.5 + prime, 3), "a")]
    # The second segment starts at 2.020 s (whole AAC frames), 23 ms of priming before.
    assert [t for _, t in found[1]] == ["b", "c"]
    assert found[1][1][0] - found[1][0][0] == pytest.approx(0.1, abs=0.002)
    # Cut mid-packet, or a byte off sync: what is whole is read, nothing raises.
    data = sorted(tmp_path.glob("timed_id3_*.ts"))[1].read_bytes()
    assert len(timed_id3(data[: 188 * 3 + 50])) <= 2
    assert timed_id3(b"\x00" + data) == []


def test_ffmpeg_packed_dictionary() -> None:
    raw = b"TITLE\x00T1\x00ARTIST\x00art \xc3\xa9\x00encoder\x00Lavf\x00"
    assert unpack_strings(raw) == {"TITLE": "T1", "ARTIST": "art é", "encoder": "Lavf"}
    assert unpack_strings(b"") == {}
    assert unpack_strings(b"odd\x00") == {"odd": ""}


def test_queue_covered_only_trusts_a_title_only_across_what_was_read() -> None:
    """HLS: a seek forward past segments never fetched may skip a timed ID3 change; the last
    title known before the target is then not shown as if it held there."""
    q = TitleQueue(covered_only=True)
    q.add(0.0, "first")
    q.cover(0.0, 2.0)
    q.cover(2.0, 4.0)  # segments 0 and 1 landed (their spans merge)
    assert [t.title for t in q.due(0.1)] == ["first"]
    q.seek(3.5)  # inside what was read: "first" still holds there
    assert q.due(3.5) == []  # (already shown: no event)
    q.seek(9.0)  # segments 2-3 never fetched: a change may hide there
    q.cover(8.0, 10.0)
    assert [t.title for t in q.due(9.0)] == [""]
    q.cover(4.0, 8.0)  # fetched later (a seek back): now 0..10 is known
    q.seek(9.0)
    assert [t.title for t in q.due(9.0)] == ["first"]
