"""Generated media round-trips through real PyAV: every fixture decodes back to the tone."""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import av
import m3u8
import numpy as np
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from kithara_cli import media
from kithara_cli.media import cache as media_cache
from kithara_cli.media.ladder import PACKED_AUDIO_BASE_PTS

RATE = 44100
T = TypeVar("T")
AAC_FRAME = 1024 / RATE


# ---------------------------------------------------------------- helpers


def heard_per_second(pcm: np.ndarray, rate: int) -> list[int]:
    return media.seconds_heard(pcm, rate, window=1.0)


def assert_tone(pcm: np.ndarray, rate: int, seconds: int, *, first: int = 0) -> None:
    """Whole-second windows hear seconds first..first+seconds-1 (priming shifts < 50 ms)."""
    assert heard_per_second(pcm, rate)[:seconds] == list(range(first, first + seconds))


def concat(paths: list[Path]) -> bytes:
    return b"".join(p.read_bytes() for p in paths)


def decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def decodable_frames(data: bytes) -> int:
    """Number of audio frames PyAV can decode from ``data`` as TS; 0 if it cannot even open it."""
    try:
        with av.open(io.BytesIO(data), format="mpegts") as c:
            if not c.streams.audio:
                return 0
            return sum(1 for _ in c.decode(audio=0))
    except av.error.FFmpegError:
        return 0


@dataclass
class Fixtures:
    root: Path
    ladder: media.Ladder
    fmp4: media.Ladder
    aes: media.Ladder
    byterange: Path
    discontinuity: Path
    alt_master: Path
    packed: Path
    timings: dict[str, float]


LADDER_SECONDS = 20  # the demo ladder doubles as the main ladder fixture
AES_KEY = bytes(range(16))


@pytest.fixture(scope="session")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Fixtures:
    root = tmp_path_factory.mktemp("media")
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - t0
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KITHARA_CACHE_DIR", str(root / "cache"))
        demo_master = timed("demo ladder", media.demo_ladder)

    return Fixtures(
        root=root,
        ladder=media.Ladder.load(demo_master.parent),
        fmp4=timed(
            "fmp4",
            lambda: media.build_ladder(
                root / "fmp4", 8, bitrates=(64_000, 128_000), segment_type="fmp4"
            ),
        ),
        aes=timed(
            "aes",
            lambda: media.build_ladder(
                root / "aes", 8, bitrates=(64_000, 128_000), aes_key=AES_KEY
            ),
        ),
        byterange=timed("byterange", lambda: media.build_byterange_stream(root / "br", 10)),
        discontinuity=timed(
            "discontinuity", lambda: media.build_discontinuity_stream(root / "disc", 4, 4)
        ),
        alt_master=timed("alt", lambda: media.build_audio_rendition_master(root / "alt", 6)),
        packed=timed("packed", lambda: media.build_packed_audio_stream(root / "packed", 8)),
        timings=timings,
    )


# ---------------------------------------------------------------- tone & analysis


def test_tone_shape_amplitude_and_frequencies() -> None:
    pcm = media.stepped_tone(5.0, rate=RATE, channels=2)
    assert pcm.dtype == np.float32 and pcm.shape == (5 * RATE, 2)
    assert np.array_equal(pcm[:, 0], pcm[:, 1])
    assert 0.49 < float(np.abs(pcm).max()) <= 0.5
    for k in range(5):
        hz = media.dominant_frequency(pcm[k * RATE : (k + 1) * RATE], RATE)
        assert hz == pytest.approx(media.frequency_for_second(k), abs=0.5)
        assert media.second_for_frequency(hz) == k


def test_tone_is_phase_continuous() -> None:
    """No sample jump bigger than the steepest slope the highest step frequency allows."""
    pcm = media.stepped_tone(4.0, channels=1)[:, 0].astype(np.float64)
    max_slope = 2 * np.pi * media.frequency_for_second(3) / RATE * 0.5
    assert np.abs(np.diff(pcm)).max() <= max_slope * 1.001


def test_tone_start_continues_the_same_signal() -> None:
    whole = media.stepped_tone(3.0, channels=1)
    tail = media.stepped_tone(1.5, channels=1, start=1.5)
    np.testing.assert_allclose(tail, whole[round(1.5 * RATE) :], atol=1e-5)


def test_frequency_mapping_round_trips() -> None:
    for k in (0, 1, 17, 239):
        assert media.second_for_frequency(media.frequency_for_second(k) + 9.0) == k
    assert media.frequency_for_second(2) == 350.0


def test_tone_wraps_each_period_without_a_click() -> None:
    """Long fixtures restart the staircase (so 64k AAC never low-passes it away), smoothly."""
    assert media.frequency_for_second(media.PERIOD) == media.BASE_HZ
    assert media.frequency_for_second(300, period=None) == 300 + 25 * 300
    pcm = media.stepped_tone(2.0, channels=1, start=media.PERIOD - 1)[:, 0]
    assert media.seconds_heard(pcm, RATE, 1.0) == [media.PERIOD - 1, 0]
    top = media.frequency_for_second(media.PERIOD - 1)
    assert np.abs(np.diff(pcm.astype(np.float64))).max() <= 2 * np.pi * top / RATE * 0.5 * 1.001
    climbing = media.stepped_tone(1.0, channels=1, start=media.PERIOD, period=None)
    assert media.seconds_heard(climbing, RATE, 1.0) == [media.PERIOD]


def test_seconds_heard_windows_silence_and_int16() -> None:
    pcm = media.stepped_tone(3.0)
    assert media.seconds_heard(pcm, RATE) == [0, 0, 1, 1, 2, 2]
    as_int16 = (pcm * 32767).astype(np.int16)
    assert media.seconds_heard(as_int16, RATE, window=1.0) == [0, 1, 2]
    silence = np.zeros((RATE, 2), dtype=np.float32)
    assert media.seconds_heard(np.concatenate([silence, pcm]), RATE, 1.0) == [-1, 0, 1, 2]


# ---------------------------------------------------------------- progressive files

CODECS = {
    "mp3": "mp3float",
    "aac": "aac",
    "m4a": "aac",
    "flac": "flac",
    "wav": "pcm_s16le",
    "ogg": "opus",
}


@pytest.mark.parametrize("fmt", media.FORMATS)
def test_encode_file_decodes_to_tone(tmp_path: Path, fmt: media.Format) -> None:
    seconds = 4
    path = media.encode_file(tmp_path / f"tone.{fmt}", seconds, fmt)
    assert path.stat().st_size > 0
    with av.open(str(path)) as c:
        assert c.streams.audio[0].codec_context.name == CODECS[fmt]
    pcm, rate = media.decode_pcm(path)
    assert rate == (48000 if fmt == "ogg" else RATE)
    assert pcm.shape[1] == 2
    assert pcm.shape[0] / rate == pytest.approx(seconds, abs=0.05)
    assert_tone(pcm, rate, seconds)


def test_m4a_is_faststart(tmp_path: Path) -> None:
    data = media.encode_file(tmp_path / "t.m4a", 2, "m4a").read_bytes()
    assert 0 < data.index(b"moov") < data.index(b"mdat")


def test_encode_file_mono_and_bitrate(tmp_path: Path) -> None:
    small = media.encode_file(tmp_path / "s.mp3", 3, "mp3", channels=1, bitrate=64_000)
    large = media.encode_file(tmp_path / "l.mp3", 3, "mp3", channels=1, bitrate=192_000)
    assert large.stat().st_size > 2 * small.stat().st_size
    pcm, rate = media.decode_pcm(small)
    assert pcm.shape[1] == 1
    assert_tone(pcm, rate, 3)


def test_encode_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        media.encode_file(tmp_path / "x.wma", 1, "wma")  # type: ignore[arg-type]


# ---------------------------------------------------------------- ladders


def test_fixture_build_times(fx: Fixtures) -> None:
    """Guard the speed budget: the 20 s three-variant demo ladder takes a couple of seconds."""
    print({k: round(v, 2) for k, v in fx.timings.items()})
    assert fx.timings["demo ladder"] < 10.0


def test_ladder_layout(fx: Fixtures) -> None:
    lad = fx.ladder
    assert lad.master == lad.out_dir / "master.m3u8"
    assert lad.names == ["64k", "128k", "256k"]
    assert [p.name for p in lad.variants] == ["64k.m3u8", "128k.m3u8", "256k.m3u8"]
    master = m3u8.load(str(lad.master))
    assert [p.uri for p in master.playlists] == [p.name for p in lad.variants]
    bandwidths = [p.stream_info.bandwidth for p in master.playlists]
    assert bandwidths == lad.bandwidths == sorted(bandwidths)
    assert all(bw > br for bw, br in zip(lad.bandwidths, lad.bitrates, strict=True))
    for i, variant in enumerate(lad.variants):
        pl = m3u8.load(str(variant))
        assert pl.is_endlist and pl.playlist_type == "vod"
        assert [s.uri for s in pl.segments] == [p.name for p in lad.segments[i]]
        assert len(pl.segments) == lad.segment_counts[i]
        assert all(p.is_file() for p in lad.segments[i])
        # whole AAC frames per segment; priming plus padding push the total past 20 s
        total = sum(s.duration for s in pl.segments)
        assert LADDER_SECONDS < total <= LADDER_SECONDS + 2 * AAC_FRAME + 1e-3
        assert all(s.duration <= 2.03 for s in pl.segments)
    assert lad.segment_counts == [11, 11, 11]  # 10 x ~2 s + one 23 ms priming tail
    sizes = [sum(p.stat().st_size for p in segs) for segs in lad.segments]
    assert sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]


def test_ladder_variants_decode_to_tone(fx: Fixtures) -> None:
    for segs in fx.ladder.segments:
        pcm, rate = media.decode_pcm(concat(segs), format="mpegts")
        assert pcm.shape[0] / rate == pytest.approx(LADDER_SECONDS, abs=0.05)
        assert_tone(pcm, rate, LADDER_SECONDS)


def test_ladder_single_segment_decodes_to_its_seconds(fx: Fixtures) -> None:
    """Segment 5 covers ~10-12 s: a client starting there must hear seconds 10 and 11."""
    pcm, rate = media.decode_pcm(fx.ladder.segments[1][5].read_bytes(), format="mpegts")
    heard = media.seconds_heard(pcm, rate, window=0.25)
    assert set(heard) <= {9, 10, 11, 12} and heard.count(10) >= 3 and heard.count(11) >= 3


def test_ladder_manifest_round_trips(fx: Fixtures) -> None:
    assert media.Ladder.load(fx.ladder.out_dir) == fx.ladder


def test_fmp4_ladder(fx: Fixtures) -> None:
    lad = fx.fmp4
    assert [p.name for p in lad.init_segments if p] == ["64k_init.mp4", "128k_init.mp4"]
    for i, variant in enumerate(lad.variants):
        text = variant.read_text()
        assert f'#EXT-X-MAP:URI="{lad.names[i]}_init.mp4"' in text
        assert all(p.suffix == ".m4s" for p in lad.segments[i])
        init = lad.init_segments[i]
        assert init is not None
        pcm, rate = media.decode_pcm(init.read_bytes() + concat(lad.segments[i]))
        assert_tone(pcm, rate, 8)


def test_aes_ladder_encrypted_with_sequence_iv(fx: Fixtures) -> None:
    lad = fx.aes
    assert lad.key_uri == "key.bin" and lad.key_path == lad.out_dir / "key.bin"
    assert lad.key_path.read_bytes() == AES_KEY and lad.iv is None
    for i, variant in enumerate(lad.variants):
        pl = m3u8.load(str(variant))
        assert len(pl.keys) == 1 and pl.keys[0] is not None
        assert pl.keys[0].method == "AES-128" and pl.keys[0].uri == "key.bin"
        assert pl.keys[0].iv is None  # the client must derive the IV
        clear = []
        for seq, seg in enumerate(lad.segments[i]):
            data = seg.read_bytes()
            assert len(data) % 16 == 0 and data[0] != 0x47
            plain = decrypt(data, AES_KEY, (pl.media_sequence + seq).to_bytes(16, "big"))
            assert plain[0] == 0x47 and len(plain) % 188 == 0
            clear.append(plain)
        assert decodable_frames(concat(lad.segments[i])) == 0
        pcm, rate = media.decode_pcm(b"".join(clear), format="mpegts")
        assert_tone(pcm, rate, 8)


def test_aes_wrong_iv_breaks_first_block(fx: Fixtures) -> None:
    """Segment 1 decrypted with IV 0 differs from IV 1: the IV really is per sequence."""
    data = fx.aes.segments[0][1].read_bytes()
    right = decrypt(data, AES_KEY, (1).to_bytes(16, "big"))
    wrong = decrypt(data, AES_KEY, bytes(16))
    assert right[:16] != wrong[:16] and right[16:] == wrong[16:]


def test_aes_explicit_iv(tmp_path: Path) -> None:
    iv = bytes(range(100, 116))
    lad = media.build_ladder(tmp_path, 3, bitrates=(64_000,), aes_key=AES_KEY, aes_iv=iv)
    assert f"IV=0x{iv.hex().upper()}" in lad.variants[0].read_text()
    clear = b"".join(decrypt(p.read_bytes(), AES_KEY, iv) for p in lad.segments[0])
    pcm, rate = media.decode_pcm(clear, format="mpegts")
    assert_tone(pcm, rate, 3)


def test_ladder_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        media.build_ladder(tmp_path, 1, aes_key=b"short")
    with pytest.raises(ValueError):
        media.build_ladder(tmp_path, 1, bitrates=(64_000, 128_000), names=["a"])
    with pytest.raises(ValueError):
        media.build_ladder(tmp_path, 1, bitrates=(64_000,), names=["bad name"])


# ---------------------------------------------------------------- special playlists


def byteranges(playlist: Path) -> list[tuple[int, int]]:
    """(offset, length) per segment, resolving implicit offsets the way a client must."""
    ranges: list[tuple[int, int]] = []
    next_offset = 0
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXT-X-BYTERANGE:"):
            spec = line.split(":", 1)[1]
            length_text, _, offset_text = spec.partition("@")
            offset = int(offset_text) if offset_text else next_offset
            ranges.append((offset, int(length_text)))
            next_offset = offset + int(length_text)
    return ranges


def test_byterange_covers_file_exactly(fx: Fixtures) -> None:
    text = fx.byterange.read_text()
    assert "#EXT-X-VERSION:4" in text
    assert re.search(r"#EXT-X-BYTERANGE:\d+\n", text), "needs an implicit-offset range"
    assert re.search(r"#EXT-X-BYTERANGE:\d+@\d+\n", text)
    big = fx.byterange.parent / "byterange.ts"
    assert {line for line in text.splitlines() if line and not line.startswith("#")} == {big.name}
    ranges = byteranges(fx.byterange)
    assert ranges[0][0] == 0
    for (off, length), (next_off, _) in itertools.pairwise(ranges):
        assert off + length == next_off
    assert ranges[-1][0] + ranges[-1][1] == big.stat().st_size
    assert not list(fx.byterange.parent.glob("byterange_*.ts"))
    data = big.read_bytes()
    assert all(data[off] == 0x47 for off, _ in ranges)  # every slice starts on a TS packet
    pcm, rate = media.decode_pcm(data, format="mpegts")
    assert_tone(pcm, rate, 10)


def test_discontinuity_stream(fx: Fixtures) -> None:
    pl = m3u8.load(str(fx.discontinuity))
    assert pl.is_endlist
    flags = [s.discontinuity for s in pl.segments]
    assert flags.count(True) == 1
    cut = flags.index(True)
    part_a = [fx.discontinuity.parent / s.uri for s in pl.segments[:cut]]
    part_b = [fx.discontinuity.parent / s.uri for s in pl.segments[cut:]]
    assert all(p.name.startswith("disc_a_") for p in part_a)
    assert all(p.name.startswith("disc_b_") for p in part_b)
    pcm_a, rate_a = media.decode_pcm(concat(part_a), format="mpegts")
    pcm_b, rate_b = media.decode_pcm(concat(part_b), format="mpegts")
    assert (rate_a, rate_b) == (44100, 48000)
    assert_tone(pcm_a, rate_a, 4)
    assert_tone(pcm_b, rate_b, 4, first=4)  # the tone carries on across the splice


def test_audio_rendition_master(fx: Fixtures) -> None:
    base = fx.alt_master.parent
    master = m3u8.load(str(fx.alt_master))
    audio = [m for m in master.media if m.type == "AUDIO"]
    assert [(m.language, m.default, m.group_id) for m in audio] == [
        ("en", "YES", "aud"),
        ("de", "NO", "aud"),
    ]
    assert len(master.playlists) == 2
    for variant in master.playlists:
        assert variant.stream_info.audio == "aud"
        video = m3u8.load(str(base / variant.uri))
        for seg in video.segments:  # placeholders: fetchable TS, no audio in them
            assert decodable_frames((base / seg.uri).read_bytes()) == 0
    for m, first in zip(audio, (0, 40), strict=True):
        pl = m3u8.load(str(base / m.uri))
        pcm, rate = media.decode_pcm(concat([base / s.uri for s in pl.segments]))
        assert_tone(pcm, rate, 6, first=first)  # "de" is +1000 Hz = 40 steps up
    pl_de = m3u8.load(str(base / audio[1].uri))
    pcm, rate = media.decode_pcm(concat([base / s.uri for s in pl_de.segments]))
    assert heard_per_second_de(pcm, rate)[:6] == list(range(6))


def heard_per_second_de(pcm: np.ndarray, rate: int) -> list[int]:
    return media.seconds_heard(pcm, rate, 1.0, base_hz=media.ALT_AUDIO_BASE_HZ["de"])


def parse_priv_timestamp(segment: bytes) -> tuple[int, int]:
    """(90 kHz timestamp, tag length) from a leading ID3v2 tag with Apple's PRIV frame."""
    assert segment[:3] == b"ID3"
    size = 0
    for b in segment[6:10]:
        size = (size << 7) | b
    tag = segment[: 10 + size]
    owner = b"com.apple.streaming.transportStreamTimestamp\x00"
    at = tag.index(owner) + len(owner)
    (stamp,) = struct.unpack(">Q", tag[at : at + 8])
    return stamp, 10 + size


def test_packed_audio_stream(fx: Fixtures) -> None:
    base = fx.packed.parent
    pl = m3u8.load(str(fx.packed))
    assert pl.is_endlist and len(pl.segments) == 4
    expected = PACKED_AUDIO_BASE_PTS
    for seg in pl.segments:
        data = (base / seg.uri).read_bytes()
        assert seg.uri.endswith(".aac")
        stamp, tag_len = parse_priv_timestamp(data)
        assert stamp == pytest.approx(expected, abs=2)
        assert data[tag_len] == 0xFF and data[tag_len + 1] & 0xF0 == 0xF0  # ADTS sync
        expected += round(seg.duration * 90_000)
    pcm, rate = media.decode_pcm(concat([base / s.uri for s in pl.segments]), format="aac")
    assert pcm.shape[0] / rate == pytest.approx(8, abs=0.06)
    assert_tone(pcm, rate, 8)


# ---------------------------------------------------------------- cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KITHARA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_media_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KITHARA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert media.media_cache_dir() == tmp_path / "xdg" / "kithara"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert media.media_cache_dir() == tmp_path / "home" / ".cache" / "kithara"
    monkeypatch.setenv("KITHARA_CACHE_DIR", str(tmp_path / "explicit"))
    assert media.media_cache_dir() == tmp_path / "explicit"


def test_cached_builds_once(cache_dir: Path) -> None:
    calls: list[Path] = []

    def builder(d: Path) -> None:
        calls.append(d)
        assert d.name == f"thing.tmp-{os.getpid()}" and not any(d.iterdir())
        (d / "a.txt").write_text("done")

    first = media.cached("thing", builder)
    second = media.cached("thing", builder)
    assert first == second == cache_dir / f"media-g{media.GENERATION}" / "thing"
    assert len(calls) == 1 and (first / "a.txt").read_text() == "done"
    assert sorted(p.name for p in first.parent.iterdir()) == ["thing"]


def test_cached_failed_build_leaves_nothing(cache_dir: Path) -> None:
    def boom(d: Path) -> None:
        (d / "half").write_text("x")
        raise RuntimeError("builder failed")

    with pytest.raises(RuntimeError):
        media.cached("broken", boom)
    assert list((cache_dir / f"media-g{media.GENERATION}").iterdir()) == []


def test_cached_sweeps_dead_builders(cache_dir: Path) -> None:
    root = cache_dir / f"media-g{media.GENERATION}"
    stale = root / "thing.tmp-999999999"  # above pid_max: that builder is surely dead
    stale.mkdir(parents=True)
    media.cached("thing", lambda d: (d / "ok").write_text("1"))
    assert not stale.exists()


def _slow_builder(d: Path) -> None:
    (d / "part1").write_text(str(os.getpid()))
    time.sleep(0.3)
    (d / "part2").write_text(str(os.getpid()))


def _race(cache: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    os.environ["KITHARA_CACHE_DIR"] = cache
    path = media_cache.cached("raced", _slow_builder)
    queue.put((str(path), sorted(p.name for p in path.iterdir())))


def test_cached_concurrent_processes_see_complete_fixture(cache_dir: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(cache_dir), queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    paths = {path for path, _ in results}
    assert len(paths) == 1
    assert all(files == ["part1", "part2"] for _, files in results)
    final = Path(paths.pop())
    assert (final / "part1").read_text() == (final / "part2").read_text()  # one winner's copy
    assert sorted(p.name for p in final.parent.iterdir()) == ["raced"]


def test_demo_ladder(fx: Fixtures, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITHARA_CACHE_DIR", str(fx.root / "cache"))
    master = media.demo_ladder()  # cached by the session fixture: no rebuild
    assert master == fx.ladder.master and master.name == "master.m3u8"
    assert master.is_relative_to(fx.root / "cache" / f"media-g{media.GENERATION}")
    lad = fx.ladder
    assert lad.bitrates == [64_000, 128_000, 256_000] and lad.segment_type == "ts"
    assert lad.seconds == 20 and lad.segment_seconds == 2.0


def test_cached_ladder(cache_dir: Path) -> None:
    lad = media.cached_ladder("tiny-ladder", 2, bitrates=(64_000,))
    assert lad.out_dir.parent == cache_dir / f"media-g{media.GENERATION}"
    assert lad.segment_counts == [2] and lad.variants[0].is_file()
