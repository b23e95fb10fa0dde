"""A podcast whose ID3 tag has its cover art BEFORE its chapters shows them from the start.

Found in session 15 and left: the decoder starts past the tag (its art), the tag is fetched
after the rest of the file, and the chapters were read early only when their CHAP frames
came before the picture (test_s15_chapters_early.py). Many tools write the APIC first (an
ID3v2.3 tag from iTunes-era taggers, or the art added before the chapters): then the
chapters showed only once the whole file had downloaded, on a 100 KB/s link not within a
play of 2.5 s at all (none shown). Now the frame the first bytes stop inside (the picture)
is measured by its header, the rest of the tag after it is read over a side request, and
the chapters show at their starts; the picture itself is still not fetched first.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from conftest import play_null
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer
from kithara_cli.server.faults import Faults

MARKS = [(0, "Intro"), (1000, "Second"), (2000, "Third")]
ART = 600_000


def _size(n: int, version: int) -> bytes:
    if version == 3:
        return struct.pack(">I", n)
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _frame(fid: bytes, body: bytes, version: int) -> bytes:
    return fid + _size(len(body), version) + b"\0\0" + body


def art_first_tag(version: int) -> bytes:
    """An ID3v2.``version`` tag: the cover picture, then a CTOC and the CHAP frames."""
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (ART // 256)
    frames = _frame(b"APIC", b"\x00image/png\x00\x03\x00" + picture, version)
    ids = [f"ch{n}".encode() for n in range(len(MARKS))]
    toc = b"toc\0\x03" + bytes([len(ids)]) + b"".join(i + b"\0" for i in ids)
    frames += _frame(b"CTOC", toc, version)
    for n, (start, title) in enumerate(MARKS):
        end = MARKS[n + 1][0] if n + 1 < len(MARKS) else 60000
        times = struct.pack(">IIII", start, end, 0xFFFFFFFF, 0xFFFFFFFF)
        sub = _frame(b"TIT2", b"\x03" + title.encode(), version)
        frames += _frame(b"CHAP", ids[n] + b"\0" + times + sub, version)
    frames += bytes(512)  # padding, as taggers leave
    size = bytes([(len(frames) >> s) & 0x7F for s in (21, 14, 7, 0)])  # (always syncsafe)
    return b"ID3" + bytes([version, 0, 0]) + size + frames


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("art-first")
    audio = encode_file(root / "raw.mp3", 60.0, "mp3").read_bytes()
    audio = audio[id3v2_size(audio) :]
    for version in (3, 4):
        (root / f"v{version}.mp3").write_bytes(art_first_tag(version) + audio)
    return root


@pytest.mark.parametrize("version", [3, 4])
def test_chapters_after_the_art_show_from_the_start(
    episodes: Path, version: int, tmp_path: Path
) -> None:
    events = tmp_path / "ev.jsonl"
    name = f"v{version}.mp3"
    size = (episodes / name).stat().st_size
    with MediaServer(episodes) as srv:
        srv.set_faults(name, Faults(rate_total=100_000))  # the file takes 16 s
        proc = play_null(srv.url(name), events, length="2.5")
        sent = srv.stats.bytes_sent()
    assert proc.returncode == 0, proc.stderr
    assert sent < size - ART // 2  # most of the art (fetched last) never came
    shown = [
        (e["title"], e["position"])
        for e in map(json.loads, events.read_text().splitlines())
        if e["event"] == "TitleChanged" and e.get("chapter")
    ]
    assert shown == [(title, ms / 1000) for ms, title in MARKS]
