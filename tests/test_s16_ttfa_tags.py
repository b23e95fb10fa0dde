"""First audio of an MP3 with a leading ID3 tag: no round trip for the file's last bytes.

Found in session 16: since session 14 the decoder is shown an MP3 from its ID3v2 tags' end
(cover art downloads after the audio). But FFmpeg's MP3 demuxer, finding no title then, reads
the file's last 128 bytes for an ID3v1 tag before the first frame: one more round trip before
first audio, for every MP3 FFmpeg's own muxer wrote (its tag is one 45-byte TSSE frame) and
most others. At 50 ms latency kithara's first audio was 3 round trips for a podcast with cover
art, 2 for a plain MP3 (ffmpeg: 1). Now a small tag (no art) is shown to the decoder, as ffmpeg
shows it; for a big one the last 128 bytes are asked for beside the audio past the tag.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import play_null, run_cli
from kithara_cli.audio.mp3_frames import id3v2_size
from kithara_cli.media.encode import encode_file
from kithara_cli.media.titles import cover_art_tag
from kithara_cli.play.served import audio_start
from kithara_cli.server import Faults, MediaServer

ENV = {"KITHARA_AUDIO_DEVICE": "none", "KITHARA_CACHE": "off"}
LATENCY = 0.2
ART_BYTES = 1_000_000  # past the first request's 512 KB: the audio needs a request of its own


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ttfa-tags")
    audio = encode_file(root / "song.mp3", 120.0, "mp3").read_bytes()  # ~1.9 MB
    assert 0 < id3v2_size(audio) < 1000  # FFmpeg's muxer writes a small tag: kept as it is
    (root / "untagged.mp3").write_bytes(audio[id3v2_size(audio) :])
    (root / "art.mp3").write_bytes(cover_art_tag("Episode 7", ART_BYTES) + audio)
    return root


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _before_audio(events: list[dict]) -> list[dict]:
    at = next(i for i, e in enumerate(events) if e["event"] == "PlaybackStarted")
    return events[:at]


def _span(label: str) -> tuple[int, int]:
    first, last = label.split()[1].split("-")
    return int(first), int(last)


def test_a_small_tag_costs_no_request_for_the_last_bytes(media: Path, tmp_path: Path) -> None:
    total = (media / "song.mp3").stat().st_size
    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        proc = play_null(srv.url("song.mp3"), events, length="0.2")
    assert proc.returncode == 0, proc.stderr
    labels = [e["label"] for e in _before_audio(_events(events)) if e["event"] == "RequestEnqueued"]
    assert labels[0] == "bytes 0-524287"
    tail = [label for label in labels if _span(label)[0] >= total - 128]
    assert tail == [], labels


def test_a_small_tag_plays_the_same_samples_as_without_it(media: Path, tmp_path: Path) -> None:
    with MediaServer(media) as srv:
        for name in ("song", "untagged"):
            wav = tmp_path / f"{name}.wav"
            args = ("play", srv.url(f"{name}.mp3"), "--no-ui", "--output", f"wav:{wav}")
            proc = run_cli(*args, "--length", "3", env=ENV, timeout=60)
            assert proc.returncode == 0, proc.stderr
    song = (tmp_path / "song.wav").read_bytes()
    assert len(song) > 400_000
    assert song == (tmp_path / "untagged.wav").read_bytes()


def test_past_a_big_tag_the_last_bytes_come_with_the_audio(media: Path, tmp_path: Path) -> None:
    """Two round trips to first audio (the head, then the audio past the art and the last
    bytes together), not three."""
    total = (media / "art.mp3").stat().st_size
    data = (media / "art.mp3").read_bytes()
    tag_end = audio_start(lambda offset, size: data[offset : offset + size], total)
    assert tag_end > ART_BYTES  # the art's tag, then the encoder's own
    events = tmp_path / "ev.jsonl"
    with MediaServer(media) as srv:
        srv.set_faults("*", Faults(latency=LATENCY))
        proc = play_null(srv.url("art.mp3"), events, length="0.2")
    assert proc.returncode == 0, proc.stderr
    early = _before_audio(_events(events))
    ids = {e["label"]: e["request_id"] for e in early if e["event"] == "RequestEnqueued"}
    enqueued = {e["request_id"]: e["ts"] for e in early if e["event"] == "RequestEnqueued"}
    first_byte = {e["request_id"]: e["ts"] for e in early if e["event"] == "FirstByte"}
    audio = next(rid for label, rid in ids.items() if _span(label)[0] <= tag_end <= _span(label)[1])
    tail = ids[f"bytes {total - 128}-{total - 1}"]
    assert enqueued[tail] < first_byte[audio]  # asked together, not one after the other


def test_an_hls_playlist_is_told_from_a_feed_without_the_xml_parser() -> None:
    """Every HLS play asks ``link_kind`` of its master playlist, between its response and the
    next request: that loaded the feeds' XML parser (~2 ms), needed only for a body in XML."""
    script = (
        "import json, sys\n"
        "from kithara_cli.radio.links import link_kind\n"
        "kinds = [link_kind(b'#EXTM3U\\n#EXT-X-STREAM-INF:BANDWIDTH=1\\nv.m3u8\\n'),\n"
        "         link_kind(b'[playlist]\\nFile1=http://a/b\\n')]\n"
        "loaded = [m for m in ('xml.etree.ElementTree', 'kithara_cli.radio.feeds')\n"
        "          if m in sys.modules]\n"
        "kinds.append(link_kind(b'<?xml version=\"1.0\"?><rss><channel></channel></rss>'))\n"
        "print(json.dumps([kinds, loaded]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[None, "pls", "feed"], []]
