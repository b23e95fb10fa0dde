"""A file that starts with a big ID3v2 tag (a podcast's cover art) plays without waiting for it.

Found in session 14: FFmpeg reads a leading ID3v2 tag whole before the first audio frame, and
a podcast episode's tag holds its cover art (hundreds of KB, often megabytes). At 400 KB/s a
600 KB tag put first audio at 2.8 s (0.19 s untagged), `--start 45` at 3.6 s (mpv and ffplay
wait the same way). Now the decoder is shown the file from the tag's end
(``play.served.audio_start``, ``stream.OffsetSource``) when an MPEG/ADTS frame or FLAC's
marker follows the tag: the audio is fetched first, the tag after it, and the samples are
the same as the untagged file's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media.encode import encode_file
from kithara_cli.media.titles import cover_art_tag
from kithara_cli.play.served import audio_start
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
ART_BYTES = 1_000_000


def id3_tag(art_bytes: int) -> bytes:
    return cover_art_tag("Episode 42", art_bytes)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cover-art")
    tag = id3_tag(ART_BYTES)
    for fmt in ("mp3", "aac", "flac"):
        plain = encode_file(root / f"plain.{fmt}", 3.0, fmt)
        (root / f"tagged.{fmt}").write_bytes(tag + plain.read_bytes())
    # a tag followed by no frame this recognises: read from byte 0, as before
    (root / "odd.mp3").write_bytes(id3_tag(1000) + b"\x00" * 8 + (root / "plain.mp3").read_bytes())
    return root


def _play(url: str, wav: Path, *extra: str) -> None:
    proc = run_cli("play", url, "--no-ui", "--output", f"wav:{wav}", *extra, env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("fmt", ["mp3", "aac", "flac"])
def test_a_tagged_file_plays_the_same_samples_as_the_untagged_one(
    media: Path, tmp_path: Path, fmt: str
) -> None:
    with MediaServer(media) as srv:
        _play(srv.url(f"plain.{fmt}"), tmp_path / "plain.wav")
        _play(srv.url(f"tagged.{fmt}"), tmp_path / "tagged.wav")
        _play(srv.url(f"tagged.{fmt}"), tmp_path / "seek.wav", "--start", "1.5")
        _play(srv.url(f"plain.{fmt}"), tmp_path / "plain_seek.wav", "--start", "1.5")
    plain = (tmp_path / "plain.wav").read_bytes()
    assert len(plain) > 100_000
    assert (tmp_path / "tagged.wav").read_bytes() == plain
    assert (tmp_path / "seek.wav").read_bytes() == (tmp_path / "plain_seek.wav").read_bytes()


def test_first_audio_does_not_wait_for_the_cover_art(media: Path, tmp_path: Path) -> None:
    """At 100 KB/s a connection, the tag alone is 10 s: the play of half a second ends long
    before, having fetched the audio at the tag's end first."""
    tag_size = len(id3_tag(ART_BYTES))
    with MediaServer(media) as srv:
        srv.set_faults("tagged.mp3", Faults(rate_per_conn=100_000))
        _play(srv.url("tagged.mp3"), tmp_path / "a.wav", "--length", "0.5")
        ranges = [r.range for r in srv.stats.requests("tagged.mp3")]
        sent = srv.stats.bytes_sent("tagged.mp3")
    assert f"bytes={tag_size}-" in " ".join(str(r) for r in ranges), ranges
    assert sent < tag_size // 2, (sent, ranges)
    assert (tmp_path / "a.wav").stat().st_size > 50_000


def test_a_tag_followed_by_no_frame_is_read_from_the_start(media: Path, tmp_path: Path) -> None:
    data = (media / "odd.mp3").read_bytes()
    assert audio_start(lambda offset, size: data[offset : offset + size], len(data)) == 0
    tagged = (media / "tagged.mp3").read_bytes()
    got = audio_start(lambda offset, size: tagged[offset : offset + size], len(tagged))
    own = id3v2_size((media / "plain.mp3").read_bytes())  # FFmpeg's muxer writes one too
    assert own > 0 and got == len(id3_tag(ART_BYTES)) + own
    with MediaServer(media) as srv:
        _play(srv.url("odd.mp3"), tmp_path / "odd.wav")  # FFmpeg finds its frames itself
        requests = srv.stats.requests("odd.mp3")
    assert (tmp_path / "odd.wav").stat().st_size > 400_000  # most of the 3 s
    assert requests[0].range in (None, "bytes=0-") or requests[0].range.startswith("bytes=0-")
