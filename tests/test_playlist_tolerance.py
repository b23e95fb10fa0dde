"""Issue 15: tolerant where hls.js and FFmpeg are, strict where safety needs it.

Stray URI lines, short IVs, EXT-X-DEFINE, negative and huge media sequence numbers, AES-256 and
AES-256-CTR, I-frames-only and video-only variants, equal and missing bandwidths in the ABR, and
the live watchdog (a playlist that stops changing is an error, with an injected clock).
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import hls_fixtures
from hls_fixtures import HlsMedia, assert_one_line_error, concat, fetch
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.dl import Downloader
from kithara_cli.errors import DecryptionError, KitharaError, PlaylistError, UnsupportedError
from kithara_cli.events import EventBus
from kithara_cli.events.types import Notice
from kithara_cli.hls.crypto import decrypt_segment, segment_iv
from kithara_cli.hls.loader import load_playlist
from kithara_cli.hls.model import Key, MasterPlaylist, MediaPlaylist, Segment
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.select import audio_candidates, audio_ladder, choose_variant
from kithara_cli.hls.worker import LiveFollower
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

URL = "https://cdn.example.com/live/index.m3u8"
HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n"


def media(text: str, url: str = URL, **kw: object) -> MediaPlaylist:
    playlist = parse_playlist(text, url, **kw)  # type: ignore[arg-type]
    assert isinstance(playlist, MediaPlaylist)
    return playlist


def master(text: str, url: str = URL) -> MasterPlaylist:
    playlist = parse_playlist(text, url)
    assert isinstance(playlist, MasterPlaylist)
    return playlist


# --- stray URI lines, numbers ------------------------------------------------------------------


def test_stray_uri_line_is_skipped_with_a_warning() -> None:
    p = media(HEAD + "stray.ts\n#EXTINF:6,\na.ts\nb.ts\n#EXTINF:6,\nc.ts\n#EXT-X-ENDLIST\n")
    assert [s.uri.rsplit("/", 1)[1] for s in p.segments] == ["a.ts", "c.ts"]
    assert len(p.warnings) == 2
    assert "line 3" in p.warnings[0] and "stray.ts" in p.warnings[0]
    assert "line 6" in p.warnings[1] and "b.ts" in p.warnings[1]


def test_loader_publishes_the_warnings(tmp_path: Path) -> None:
    (tmp_path / "stray.m3u8").write_text(HEAD + "junk\n#EXTINF:6,\na.ts\n#EXT-X-ENDLIST\n")
    bus = EventBus()
    seen: list[Notice] = []
    bus.subscribe(lambda e: seen.append(e) if isinstance(e, Notice) else None)
    with Downloader(bus) as dl:
        load_playlist(dl, str(tmp_path / "stray.m3u8"))
    assert [n.level for n in seen] == ["warning"] and "junk" in seen[0].message


def test_fetch_says_what_it_skipped_unless_quiet(hls_media: HlsMedia, tmp_path: Path) -> None:
    (tmp_path / "a.ts").write_bytes(hls_media.ts.segments[0][0].read_bytes())
    (tmp_path / "s.m3u8").write_text(HEAD + "stray\x1b[2J.ts\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n")
    with MediaServer(tmp_path) as server:
        loud = fetch(server.url("s.m3u8"), "--out", str(tmp_path / "o.ts"))
        quiet = fetch(server.url("s.m3u8"), "--out", str(tmp_path / "q.ts"), "-q")
    assert loud.returncode == 0 and quiet.returncode == 0, loud.stderr + quiet.stderr
    assert "warning: playlist line 3: skipped URI" in loud.stderr
    assert "\x1b" not in loud.stderr  # the terminal escape arrives quoted, not raw
    assert quiet.stderr == ""


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("#EXTINF:ten,\na.ts", "line 3"),
        ("#EXTINF:,\na.ts", "line 3"),
        ("#EXT-X-MEDIA-SEQUENCE:1.5\n#EXTINF:1,\na.ts", "line 3"),
        ("#EXT-X-DISCONTINUITY-SEQUENCE:x\n#EXTINF:1,\na.ts", "line 3"),
        ("#EXT-X-KEY:METHOD\n#EXTINF:1,\na.ts", "line 3"),
    ],
)
def test_a_bad_number_is_a_playlist_error_naming_its_line(line: str, where: str) -> None:
    with pytest.raises(PlaylistError) as info:
        parse_playlist(HEAD + line + "\n", URL)
    assert where in str(info.value)
    assert "could not convert" not in str(info.value) and "invalid literal" not in str(info.value)


def test_bad_bandwidth_and_unused_attributes_do_not_fail_the_ladder() -> None:
    m = master(
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=abc,CODECS="mp4a.40.2",FRAME-RATE=x,PROGRAM-ID=y\na.m3u8\n'
        "#EXT-X-STREAM-INF:BANDWIDTH=1280000.6,AVERAGE-BANDWIDTH=-1\nb.m3u8\n"
    )
    assert [v.bandwidth for v in m.variants] == [0, 1280000]
    assert m.variants[1].average_bandwidth is None
    assert len(m.warnings) == 2


# --- sequence numbers, IVs -------------------------------------------------------------------


@pytest.mark.parametrize("first", [-2680, -1, 0, 2**63, 18446744073709551615, 10**39])
def test_negative_and_huge_media_sequence_numbers_are_kept(first: int) -> None:
    p = media(f"{HEAD}#EXT-X-MEDIA-SEQUENCE:{first}\n#EXTINF:6,\na.ts\n#EXTINF:6,\nb.ts\n")
    assert [s.sequence for s in p.segments] == [first, first + 1]


@pytest.mark.parametrize(
    ("iv", "value"),
    [
        ("0x0000000000", 0),
        ("0x1", 1),
        ("0xABC", 0xABC),
        ("0X10ef8f758ca555115584bb5b3c687f52", 0x10EF8F758CA555115584BB5B3C687F52),
        ("0x" + "0" * 8 + "ff" * 16, 2**128 - 1),  # longer, but only by leading zeros
    ],
)
def test_short_iv_is_zero_filled_on_the_left(iv: str, value: int) -> None:
    p = media(f'{HEAD}#EXT-X-KEY:METHOD=AES-128,URI="k",IV={iv}\n#EXTINF:6,\na.ts\n')
    key = p.segments[0].key
    assert key is not None and key.iv == value.to_bytes(16, "big")


def test_negative_sequence_cannot_form_an_iv() -> None:
    with pytest.raises(DecryptionError):
        segment_iv(Key("AES-128", "https://k", None, None), -1)


# --- EXT-X-DEFINE ------------------------------------------------------------------------------


def test_define_name_value_substitutes_uri_lines_and_attributes() -> None:
    p = media(
        '#EXTM3U\n#EXT-X-DEFINE:NAME="host",VALUE="media.example.com"\n'
        '#EXT-X-DEFINE:NAME="k-1",VALUE="key.bin"\n#EXT-X-TARGETDURATION:6\n'
        '#EXT-X-KEY:METHOD=AES-128,URI="https://{$host}/{$k-1}"\n'
        "#EXTINF:6,\nhttps://{$host}/a.ts\n"
    )
    assert p.segments[0].uri == "https://media.example.com/a.ts"
    assert (
        p.segments[0].key is not None
        and p.segments[0].key.uri == "https://media.example.com/key.bin"
    )


def test_define_queryparam_takes_the_decoded_value_from_the_playlist_url() -> None:
    p = media(
        '#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM="token"\n#EXT-X-TARGETDURATION:6\n'
        "#EXTINF:6,\na.ts?token={$token}\n",
        URL + "?token=ab%20cd&x=1",
    )
    assert p.segments[0].uri == "https://cdn.example.com/live/a.ts?token=ab cd"


def test_define_import_from_the_master_explicitly_and_by_url() -> None:
    m = master(
        '#EXTM3U\n#EXT-X-DEFINE:NAME="dir",VALUE="audio"\n'
        "#EXT-X-STREAM-INF:BANDWIDTH=64000\n{$dir}/index.m3u8\n"
    )
    assert m.variants[0].uri == "https://cdn.example.com/live/audio/index.m3u8"
    assert m.defines == (("dir", "audio"),)
    child = '#EXTM3U\n#EXT-X-DEFINE:IMPORT="dir"\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n{$dir}.ts\n'
    explicit = media(child, "https://other.example.com/x.m3u8", imports={"dir": "v"})
    assert explicit.segments[0].uri == "https://other.example.com/v.ts"
    # whatever layer loads the variant later, the master's variables are found by its URL
    by_url = media(child, m.variants[0].uri)
    assert by_url.segments[0].uri == "https://cdn.example.com/live/audio/audio.ts"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("#EXTINF:6,\nhttp://{$host}/a.ts\n", "{$host} is not defined"),
        ('#EXT-X-DEFINE:NAME="a",VALUE="1"\n#EXT-X-DEFINE:NAME="a",VALUE="2"\n', "twice"),
        ('#EXT-X-DEFINE:IMPORT="nowhere"\n', "IMPORT"),
        ('#EXT-X-DEFINE:QUERYPARAM="absent"\n', "QUERYPARAM"),
        ('#EXT-X-DEFINE:NAME="a b",VALUE="1"\n', "variable name"),
        ('#EXT-X-DEFINE:NAME="a"\n', "VALUE"),
        ("#EXT-X-DEFINE:VALUE=1\n", "NAME, IMPORT or QUERYPARAM"),
    ],
)
def test_define_errors_are_playlist_errors(text: str, reason: str) -> None:
    with pytest.raises(PlaylistError, match=reason.replace("$", r"\$").replace("{", r"\{")):
        parse_playlist(HEAD + text + "#EXTINF:6,\na.ts\n", "https://x.example.com/unseen.m3u8")


def test_define_growth_is_capped() -> None:
    big = "x" * 60_000
    text = f'#EXTM3U\n#EXT-X-DEFINE:NAME="b",VALUE="{big}"\n#EXT-X-TARGETDURATION:6\n'
    text += "#EXTINF:6,\n" + "{$b}" * 20 + "\n"
    with pytest.raises(PlaylistError, match="too large"):
        parse_playlist(text, URL)


# --- AES-256, AES-256-CTR ----------------------------------------------------------------------

KEY256 = bytes(range(32))


def _ctr64_reference(data: bytes, key: bytes, iv: bytes) -> bytes:
    """Counter blocks made one by one (low 64 bits count and wrap), XORed with the data."""
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    high, low = iv[:8], int.from_bytes(iv[8:], "big")
    out = bytearray()
    for i in range(0, len(data), 16):
        block = high + ((low + i // 16) % 2**64).to_bytes(8, "big")
        stream = ecb.update(block)
        out += bytes(a ^ b for a, b in zip(data[i : i + 16], stream, strict=False))
    return bytes(out)


@pytest.mark.parametrize("size", [1, 15, 16, 17, 1000])
@pytest.mark.parametrize("low", [0, 5, 2**64 - 2])  # the last: the counter wraps inside
def test_aes_256_ctr_counts_in_the_low_64_bits(size: int, low: int) -> None:
    iv = b"\xaa" * 8 + low.to_bytes(8, "big")
    plain = bytes(range(256)) * 4
    data = _ctr64_reference(plain[:size], KEY256, iv)
    assert decrypt_segment(data, KEY256, iv, "AES-256-CTR") == plain[:size]


def test_aes_256_is_cbc_with_a_32_byte_key() -> None:
    from cryptography.hazmat.primitives import padding

    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(KEY256), modes.CBC(bytes(16))).encryptor()
    data = enc.update(padder.update(b"audio" * 9) + padder.finalize()) + enc.finalize()
    assert decrypt_segment(data, KEY256, bytes(16), "AES-256") == b"audio" * 9
    with pytest.raises(DecryptionError, match="32"):
        decrypt_segment(data, KEY256[:16], bytes(16), "AES-256")
    with pytest.raises(DecryptionError, match="16"):
        decrypt_segment(data, KEY256, bytes(16), "AES-128")


@pytest.mark.parametrize("method", ["AES-256", "AES-256-CTR"])
def test_fetch_decrypts_aes_256_end_to_end(
    hls_media: HlsMedia, tmp_path: Path, method: str
) -> None:
    from cryptography.hazmat.primitives import padding

    segments = hls_media.ts.segments[0][:3]
    www = tmp_path / "www"
    www.mkdir()
    (www / "key.bin").write_bytes(KEY256)
    lines = [HEAD.strip(), f'#EXT-X-KEY:METHOD={method},URI="key.bin"']
    for seq, path in enumerate(segments):
        iv = seq.to_bytes(16, "big")
        plain = path.read_bytes()
        if method == "AES-256-CTR":
            data = _ctr64_reference(plain, KEY256, iv)
        else:
            padder = padding.PKCS7(128).padder()
            enc = Cipher(algorithms.AES(KEY256), modes.CBC(iv)).encryptor()
            data = enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()
        (www / f"s{seq}.ts").write_bytes(data)
        lines += ["#EXTINF:2,", f"s{seq}.ts"]
    (www / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))
    out = tmp_path / "out.ts"
    with MediaServer(www) as server:
        proc = fetch(server.url("index.m3u8"), "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == concat(list(segments))


# --- ladders ----------------------------------------------------------------------------------

LADDER = (
    "#EXTM3U\n"
    '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS="avc1.4d401e"\nvideo.m3u8\n'
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=960x540,CODECS="avc1.4d401f,mp4a.40.2"\n'
    "muxed.m3u8\n"
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,CODECS="avc1.4d401e",URI="iframes.m3u8"\n'
)


def test_video_only_and_iframe_variants_never_join_an_audio_ladder() -> None:
    m = master(LADDER)
    assert [v.uri.rsplit("/", 1)[1] for v in m.variants] == ["video.m3u8", "muxed.m3u8"]
    assert m.variants[0].is_video_only and not m.variants[1].is_video_only
    assert [v.index for v in audio_ladder(m)] == [1]
    assert [v.index for v in audio_candidates(m)] == [1]
    assert choose_variant(m, "worst").index == 1


def test_a_ladder_of_video_only_variants_is_kept_whole() -> None:
    m = master('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.4d401e"\nv.m3u8\n')
    assert audio_ladder(m) == m.variants


def test_iframes_only_media_playlist_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="I-FRAMES-ONLY"):
        parse_playlist(
            HEAD + "#EXT-X-I-FRAMES-ONLY\n#EXTINF:4,\n#EXT-X-BYTERANGE:1880@0\na.ts\n", URL
        )


@pytest.mark.parametrize(
    "ladder",
    [
        [1, 1, 1],  # a master without BANDWIDTH, clamped to 1 by the player
        [0, 0, 0, 0],
        [64_000, 64_000, 128_000],  # equal at the bottom
        [64_000, 128_000, 128_000],  # equal at the top
        [64_000, 64_000, 128_000, 128_000, 256_000, 256_000],
        [128_000, 64_000, 64_000],  # not in order
        [-5, 0, 7],
    ],
)
def test_abr_on_equal_or_missing_bandwidths_never_divides_by_zero(ladder: list[int]) -> None:
    variants = [VariantInfo(i, bw, "mp4a.40.2") for i, bw in enumerate(ladder)]
    abr = AbrController(variants)
    rates = [v.bandwidth for v in abr.variants]
    assert rates == sorted(set(rates)), "one rung per bandwidth, rising"
    now = 0.0
    for buffer_s, est in itertools.product([0.0, 3.0, 7.0, 13.0, 30.0], [0.0, 1e3, 1e6, 1e9]):
        now += 3.0
        abr.estimator.add_sample(int(est * 0.25), 2.0, 0.05, now)
        decision = abr.choose(buffer_s, now)
        assert decision.to_variant in range(len(ladder))
        abr.note_segment_request(int(now), decision.to_variant, 10_000)
        abr.check_in_flight(buffer_s, now + 1.0)


def test_equal_bandwidths_keep_the_main_codec_then_the_first_listed() -> None:
    abr = AbrController(
        [
            VariantInfo(0, 64_000, "ac-3"),
            VariantInfo(1, 64_000, "mp4a.40.2"),
            VariantInfo(2, 128_000, "mp4a.40.5"),
            VariantInfo(3, 128_000, "mp4a.40.2"),
        ]
    )
    assert [v.index for v in abr.variants] == [1, 2]
    abr.set_mode("fixed:3")  # a variant left out of auto's ladder still plays when asked for
    assert abr.choose(10.0, 1.0).to_variant == 3


# --- live watchdog -------------------------------------------------------------------------------


class _Feed:
    def __init__(self) -> None:
        self.bus = EventBus()
        self.added: list[list[Segment]] = []
        self.errors: list[KitharaError] = []
        self.done = threading.Event()

    def add_segments(self, segments: list[Segment], ended: bool) -> None:
        self.added.append(segments)

    def fail_feed(self, error: KitharaError) -> None:
        self.errors.append(error)
        self.done.set()


class _Clock:
    """The follower's clock and wait: each wait moves time on at once (no real sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += seconds
        return len(self.waits) > 200  # a safety stop for a follower that would never give up


def _live(tmp_path: Path, target: int) -> str:
    text = f"#EXTM3U\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    text += "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:1,\na.ts\n"
    (tmp_path / "live.m3u8").write_text(text)
    return text


def test_an_unchanged_live_playlist_is_an_error_after_three_target_durations(
    tmp_path: Path,
) -> None:
    text = _live(tmp_path, 10)
    clock = _Clock()
    feed = _Feed()
    with MediaServer(tmp_path) as server, Downloader(EventBus()) as dl:
        start = media(text, server.url("live.m3u8"))
        assert start.is_live
        follower = LiveFollower(dl, start, feed, clock=clock, wait=clock.wait)
        follower.start()
        assert feed.done.wait(10)
        follower.join(5)
    (error,) = feed.errors
    assert isinstance(error, PlaylistError) and error.exit_code == 5
    assert "unchanged" in str(error)
    assert len(clock.waits) >= LiveFollower.UNCHANGED_RELOADS
    assert sum(clock.waits) >= 3 * 10
    assert sum(clock.waits[:-1]) < 3 * 10, "gave up at the first reload past 3 targets"


def test_a_live_playlist_that_grows_is_followed_without_error(tmp_path: Path) -> None:
    clock = _Clock()
    feed = _Feed()
    count = itertools.count(1)

    def growing(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        n = next(count)
        body = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "".join(
            f"#EXTINF:2,\ns{i}.ts\n" for i in range(n)
        )
        if n >= 30:
            body += "#EXT-X-ENDLIST\n"
        return 200, {"Content-Type": "application/vnd.apple.mpegurl"}, body.encode()

    with MediaServer(tmp_path) as server, Downloader(EventBus()) as dl:
        server.add_route("grow.m3u8", growing)
        start = load_playlist(dl, server.url("grow.m3u8"))
        assert isinstance(start, MediaPlaylist)
        follower = LiveFollower(dl, start, feed, clock=clock, wait=clock.wait)
        follower.run()  # in this thread: it returns at ENDLIST
    assert not feed.errors
    assert sum(len(s) for s in feed.added) == 29


def test_fetch_of_a_stuck_live_playlist_exits_5_with_one_line(tmp_path: Path) -> None:
    _live(tmp_path, 1)
    (tmp_path / "a.ts").write_bytes(b"\x47" + bytes(187))
    with MediaServer(tmp_path) as server:
        proc = fetch(server.url("live.m3u8"), "--out", str(tmp_path / "o.ts"), "-q", timeout=30)
    assert proc.returncode == 5
    assert_one_line_error(proc, "unchanged")


# --- strict where safety needs it -----------------------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc/hosts", "ftp://h/x.m3u8", "/etc/x.m3u8", "data:,x"])
def test_a_remote_playlist_url_must_be_http(url: str) -> None:
    with pytest.raises(PlaylistError, match="http"):
        parse_playlist(HEAD + "#EXTINF:1,\na.ts\n", url)
