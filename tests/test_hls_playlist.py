"""HLS playlist parsing, URL hardening and variant/rendition selection (pure, no network)."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kithara_cli.errors import PlaylistError, UnsupportedError, UsageError
from kithara_cli.hls.model import (
    InitSection,
    Key,
    MasterPlaylist,
    MediaPlaylist,
    Rendition,
    Segment,
    Variant,
)
from kithara_cli.hls.playlist import (
    MAX_PLAYLIST_BYTES,
    MAX_SEGMENTS,
    MAX_VARIANTS,
    check_supported,
    parse_playlist,
)
from kithara_cli.hls.select import choose_rendition, choose_variant

# The URL the playlist was finally served from, after a redirect to a CDN.
FINAL = "https://cdn.example.com/radio/hls/index.m3u8?token=abc"

MASTER_AUDIO_ONLY = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=70400,AVERAGE-BANDWIDTH=66000,CODECS="mp4a.40.5"
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=140800,AVERAGE-BANDWIDTH=132000,CODECS="mp4a.40.2"
mid/index.m3u8?q=1
#EXT-X-STREAM-INF:BANDWIDTH=281600,CODECS="mp4a.40.2"
https://other.example.com/hi/index.m3u8
"""

MASTER_RENDITIONS = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en-US",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,AUTOSELECT=YES,URI="audio/de.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="muxed",NAME="Main",LANGUAGE="en",DEFAULT=YES
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,AUDIO="aac"
video/360.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2500000,CODECS="avc1.4d401f,mp4a.40.2",RESOLUTION=1280x720,AUDIO="aac"
video/720.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=600000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,AUDIO="muxed"
video/muxed.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="iframe.m3u8"
"""

MASTER_VIDEO = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,RESOLUTION=640x360
v1.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,CODECS="hvc1.1.6.L93.B0,mp4a.40.2"
v2.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=96000,CODECS="mp4a.40.2"
a.m3u8
"""

MEDIA_VOD = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:10
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:10.0,Intro
seg0.aac
#EXTINF:10.0,
seg1.aac
#EXTINF:4.5,
seg2.aac
#EXT-X-ENDLIST
"""

MEDIA_LIVE = """#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:1042
#EXTINF:6.0,
s1042.ts
#EXTINF:6.0,
s1043.ts
"""

MEDIA_EVENT = """#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:EVENT
#EXTINF:6.0,
e0.ts
"""

MEDIA_BYTERANGE = """#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-VERSION:4
#EXTINF:10,
#EXT-X-BYTERANGE:1000@0
all.aac
#EXTINF:10,
#EXT-X-BYTERANGE:500
all.aac
#EXTINF:10,
#EXT-X-BYTERANGE:250
other.aac
#EXT-X-BYTERANGE:300
#EXTINF:10,
all.aac
#EXTINF:10,
#EXT-X-BYTERANGE:100@5000
all.aac
#EXT-X-ENDLIST
"""

MEDIA_MAP = """#EXTM3U
#EXT-X-TARGETDURATION:4
#EXT-X-VERSION:7
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4,
s0.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="main.mp4",BYTERANGE="720@0"
#EXTINF:4,
#EXT-X-BYTERANGE:5000@720
main.mp4
#EXTINF:4,
#EXT-X-BYTERANGE:5000
main.mp4
#EXT-X-ENDLIST
"""

MEDIA_DISCONTINUITY = """#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-MEDIA-SEQUENCE:200
#EXT-X-DISCONTINUITY-SEQUENCE:7
#EXTINF:10,
a.ts
#EXT-X-DISCONTINUITY
#EXTINF:10,
ad1.ts
#EXTINF:10,
ad2.ts
#EXT-X-DISCONTINUITY
#EXTINF:10,
b.ts
"""

MEDIA_AES = """#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k1?id=1"
#EXTINF:10,
s5.ts
#EXT-X-KEY:METHOD=AES-128,URI="k2.bin",IV=0x00112233445566778899aabbccddeeff
#EXTINF:10,
s6.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:10,
s7.ts
#EXT-X-KEY:METHOD=AES-128,URI="k3.bin",IV=0X00112233445566778899AABBCCDDEEFF
#EXTINF:10,
s8.ts
#EXT-X-ENDLIST
"""

MEDIA_SAMPLE_AES = """#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXTINF:10,
s0.ts
#EXT-X-ENDLIST
"""


def media(text: str, url: str = FINAL) -> MediaPlaylist:
    result = parse_playlist(text, url)
    assert isinstance(result, MediaPlaylist)
    return result


def master(text: str, url: str = FINAL) -> MasterPlaylist:
    result = parse_playlist(text, url)
    assert isinstance(result, MasterPlaylist)
    return result


# --- masters ---------------------------------------------------------------------------------


def test_master_audio_only() -> None:
    m = master(MASTER_AUDIO_ONLY)
    assert m.url == FINAL
    assert [v.index for v in m.variants] == [0, 1, 2]
    assert [v.uri for v in m.variants] == [
        "https://cdn.example.com/radio/hls/low/index.m3u8",
        "https://cdn.example.com/radio/hls/mid/index.m3u8?q=1",
        "https://other.example.com/hi/index.m3u8",
    ]
    assert m.variants[0] == Variant(0, m.variants[0].uri, 70400, 66000, ("mp4a.40.5",), None, None)
    assert m.variants[2].average_bandwidth is None
    assert all(v.is_audio_only for v in m.variants)
    assert m.renditions == ()


def test_master_with_audio_renditions_keeps_only_audio() -> None:
    m = master(MASTER_RENDITIONS)
    assert len(m.variants) == 3  # I-frame playlist is not a variant
    assert {r.group_id for r in m.renditions} == {"aac", "muxed"}
    en = m.renditions[0]
    assert en == Rendition(
        group_id="aac",
        name="English",
        language="en-US",
        default=True,
        autoselect=True,
        channels="2",
        uri="https://cdn.example.com/radio/hls/audio/en.m3u8",
    )
    assert m.renditions[1].default is False
    assert m.renditions[2].uri is None
    assert m.variants[0].audio_group == "aac"
    assert m.variants[0].resolution == "640x360"
    assert m.variants[0].codecs == ("avc1.4d401e", "mp4a.40.2")
    assert not m.variants[0].is_audio_only


def test_master_video_detection() -> None:
    m = master(MASTER_VIDEO)
    assert [v.is_audio_only for v in m.variants] == [False, False, True]
    assert m.variants[0].codecs == ()  # missing CODECS is tolerated


def test_master_without_bandwidth_is_tolerated() -> None:
    m = master('#EXTM3U\n#EXT-X-STREAM-INF:CODECS="mp4a.40.2"\na.m3u8\n')
    assert m.variants[0].bandwidth == 0


# --- media playlists -------------------------------------------------------------------------


def test_media_vod() -> None:
    p = media(MEDIA_VOD)
    assert p.endlist and p.playlist_type == "VOD" and not p.is_live
    assert p.target_duration == 10
    assert [s.sequence for s in p.segments] == [0, 1, 2]
    assert p.segments[0].title == "Intro"
    assert p.segments[0].uri == "https://cdn.example.com/radio/hls/seg0.aac"
    assert p.duration == pytest.approx(24.5)
    assert p.segments[0] == Segment(
        uri="https://cdn.example.com/radio/hls/seg0.aac",
        duration=10.0,
        sequence=0,
        byterange=None,
        key=None,
        init=None,
        discontinuity=False,
        discontinuity_sequence=0,
        title="Intro",
    )


@pytest.mark.parametrize(
    ("t", "index"),
    [(-5, 0), (0, 0), (9.99, 0), (10, 1), (19.9, 1), (20, 2), (24.4, 2), (24.5, 2), (1e9, 2)],
)
def test_segment_at(t: float, index: int) -> None:
    assert media(MEDIA_VOD).segment_at(t) == index


def test_media_live_and_event() -> None:
    live = media(MEDIA_LIVE)
    assert live.is_live and live.playlist_type is None
    assert live.media_sequence == 1042
    assert [s.sequence for s in live.segments] == [1042, 1043]
    event = media(MEDIA_EVENT)
    assert event.playlist_type == "EVENT" and event.is_live
    ended = media(MEDIA_EVENT + "#EXT-X-ENDLIST\n")
    assert not ended.is_live


def test_live_playlist_may_be_empty_but_vod_may_not() -> None:
    assert media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n").segments == ()
    with pytest.raises(PlaylistError):
        parse_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-ENDLIST\n", FINAL)
    with pytest.raises(PlaylistError):
        parse_playlist("#EXTM3U\n", FINAL)


def test_byterange_implicit_offsets_per_uri() -> None:
    p = media(MEDIA_BYTERANGE)
    assert [s.byterange for s in p.segments] == [
        (0, 1000),
        (1000, 500),
        (0, 250),  # a different URI starts at 0
        (1500, 300),  # continues after the previous range of all.aac
        (5000, 100),
    ]


def test_ext_x_map_with_and_without_byterange() -> None:
    p = media(MEDIA_MAP)
    base = "https://cdn.example.com/radio/hls/"
    assert p.segments[0].init == InitSection(base + "init.mp4", None)
    assert p.segments[1].init == InitSection(base + "main.mp4", (0, 720))
    assert p.segments[1].discontinuity
    assert p.segments[2].init is p.segments[1].init
    assert [s.byterange for s in p.segments[1:]] == [(720, 5000), (5720, 5000)]


def test_discontinuity_sequence() -> None:
    p = media(MEDIA_DISCONTINUITY)
    assert p.discontinuity_sequence == 7
    assert [s.discontinuity for s in p.segments] == [False, True, False, True]
    assert [s.discontinuity_sequence for s in p.segments] == [7, 8, 8, 9]
    assert [s.sequence for s in p.segments] == [200, 201, 202, 203]


def test_aes128_keys_rotation_and_iv() -> None:
    p = media(MEDIA_AES)
    k1, k2, none, k3 = (s.key for s in p.segments)
    assert k1 == Key("AES-128", "https://keys.example.com/k1?id=1", None, None)
    assert k2 is not None and k2.uri == "https://cdn.example.com/radio/hls/k2.bin"
    assert k2.iv == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert none is None
    assert k3 is not None and k3.iv == k2.iv  # upper-case 0X and hex digits
    check_supported(p)


def test_sample_aes_is_kept_then_refused() -> None:
    p = media(MEDIA_SAMPLE_AES)
    key = p.segments[0].key
    assert key is not None and key.method == "SAMPLE-AES"
    assert key.keyformat == "com.apple.streamingkeydelivery"
    with pytest.raises(UnsupportedError, match="SAMPLE-AES"):
        check_supported(p)


@pytest.mark.parametrize("method", ["SAMPLE-AES-CTR", "AES-256-WHATEVER"])
def test_other_methods_refused_by_check_supported(method: str) -> None:
    text = MEDIA_SAMPLE_AES.replace("SAMPLE-AES", method)
    with pytest.raises(UnsupportedError, match=method):
        check_supported(media(text))


def test_aes128_with_foreign_keyformat_is_unsupported() -> None:
    text = MEDIA_AES.replace('id=1"', 'id=1",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace"')
    with pytest.raises(UnsupportedError):
        check_supported(media(text))
    check_supported(master(MASTER_AUDIO_ONLY))  # masters carry no segment keys


def test_aes128_skd_key_is_unsupported_not_playlist_error() -> None:
    text = MEDIA_AES.replace("https://keys.example.com/k1?id=1", "skd://asset-id")
    with pytest.raises(UnsupportedError, match="skd"):
        parse_playlist(text, FINAL)


@pytest.mark.parametrize("bad_iv", ["0xZZ112233445566778899aabbccddeeff", "0x1" + "0" * 32])
def test_bad_iv(bad_iv: str) -> None:
    text = MEDIA_AES.replace("0x00112233445566778899aabbccddeeff", bad_iv)
    with pytest.raises(PlaylistError, match="IV"):
        parse_playlist(text, FINAL)


def test_tolerates_crlf_blank_lines_unknown_tags_bom_and_float_targetduration() -> None:
    text = (
        "\ufeff\r\n#EXTM3U\r\n\r\n#EXT-X-TARGETDURATION:10.0\r\n#EXT-X-FOO:bar=1\r\n"
        "#EXT-X-PROGRAM-DATE-TIME:not-a-date\r\n#EXT-X-DATERANGE:DURATION=abc\r\n"
        "# a comment\r\n#EXTINF:9.5,\r\n\r\nseg.ts\r\n#EXT-X-ENDLIST\r\n"
    )
    p = parse_playlist(text.encode(), FINAL)
    assert isinstance(p, MediaPlaylist)
    assert p.target_duration == 10.0
    assert p.segments[0].uri == "https://cdn.example.com/radio/hls/seg.ts"
    assert p.segments[0].duration == 9.5


def test_missing_target_duration_defaults_to_longest_segment() -> None:
    p = media("#EXTM3U\n#EXTINF:3,\na.ts\n#EXTINF:7,\nb.ts\n#EXT-X-ENDLIST\n")
    assert p.target_duration == 7


def test_trailing_extinf_without_uri_is_dropped() -> None:
    p = media("#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\na.ts\n#EXTINF:5,\n")
    assert len(p.segments) == 1


# --- URI resolution and hardening ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "resolved"),
    [
        ("seg.ts", "https://cdn.example.com/radio/hls/seg.ts"),
        ("seg.ts?sig=x&e=1", "https://cdn.example.com/radio/hls/seg.ts?sig=x&e=1"),
        ("../other/seg.ts", "https://cdn.example.com/radio/other/seg.ts"),
        ("/abs/seg.ts", "https://cdn.example.com/abs/seg.ts"),
        ("//mirror.example.org/seg.ts", "https://mirror.example.org/seg.ts"),
        ("http://plain.example.org/seg.ts", "http://plain.example.org/seg.ts"),
        ("HTTPS://UP.example.org/seg.ts", "https://UP.example.org/seg.ts"),
    ],
)
def test_uris_resolve_against_final_url(ref: str, resolved: str) -> None:
    p = media(f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{ref}\n")
    assert p.segments[0].uri == resolved


@pytest.mark.parametrize(
    "ref",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "data:video/mp2t;base64,AAAA",
        "ftp://ftp.example.com/seg.ts",
        "concat:a.ts|b.ts",
        "gopher://x/",
        "http:///no-host",
        "http://[::1/bad",
    ],
)
def test_non_http_uris_refused(ref: str) -> None:
    segment = f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{ref}\n"
    variant = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{ref}\n"
    key = MEDIA_AES.replace("https://keys.example.com/k1?id=1", ref)
    init = MEDIA_MAP.replace("init.mp4", ref)
    rendition = MASTER_RENDITIONS.replace("audio/en.m3u8", ref)
    for text in (segment, variant, key, init, rendition):
        with pytest.raises(PlaylistError) as info:
            parse_playlist(text, FINAL)
        assert "URI" in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    ref=st.text(alphabet="ab./?#:;%=&~_-@!$()*+, \\", min_size=1, max_size=16),
    base=st.sampled_from([FINAL, "https://h.example", "http://h.example/a//b/c.m3u8?x=/y/"]),
)
def test_fast_relative_join_matches_urljoin(ref: str, base: str) -> None:
    """The resolver's shortcut for plain relative refs must agree with urljoin exactly."""
    text = f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{ref}\n"
    try:
        p = parse_playlist(text, base)
    except PlaylistError:
        return  # e.g. "#..." is a comment, ":" may form a scheme
    assert isinstance(p, MediaPlaylist)
    if not ref.strip() or ref.strip().startswith("#"):
        assert p.segments == ()  # a blank or comment line, not a URI
        return
    assert p.segments[0].uri == urljoin(base, ref.strip())


def test_refusal_names_the_scheme() -> None:
    with pytest.raises(PlaylistError, match="file:"):
        parse_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nfile:///x\n", FINAL)


def test_control_characters_in_uri_refused() -> None:
    with pytest.raises(PlaylistError, match="control"):
        parse_playlist('#EXTM3U\n#EXT-X-MAP:URI="a\x01b.mp4"\n#EXTINF:5,\na.ts\n', FINAL)


@pytest.mark.parametrize("url", ["file:///tmp/x.m3u8", "/tmp/x.m3u8", "ftp://h/x.m3u8", "", "x"])
def test_playlist_url_must_be_http(url: str) -> None:
    with pytest.raises(PlaylistError):
        parse_playlist(MEDIA_VOD, url)


def test_allow_local_admits_file_urls_and_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nseg.ts\n#EXTINF:5,\nhttps://h.example/x.ts\n"
    )
    local = (tmp_path / "x.m3u8").as_uri()
    p = parse_playlist(text, local, allow_local=True)
    assert isinstance(p, MediaPlaylist)
    assert p.segments[0].uri == (tmp_path / "seg.ts").as_uri()
    assert p.segments[1].uri == "https://h.example/x.ts"
    p = parse_playlist(text, str(tmp_path / "x.m3u8"), allow_local=True)
    assert isinstance(p, MediaPlaylist)
    assert p.segments[0].uri == (tmp_path / "seg.ts").as_uri()
    with pytest.raises(PlaylistError):  # data: stays refused even locally
        parse_playlist(
            text.replace("seg.ts", "data:,x"), (tmp_path / "x").as_uri(), allow_local=True
        )
    with pytest.raises(PlaylistError):  # file://host/ would be SMB on Windows
        parse_playlist(
            text.replace("seg.ts", "file://evil/share/x"),
            (tmp_path / "x").as_uri(),
            allow_local=True,
        )


def test_allow_local_never_lets_a_remote_playlist_reach_files() -> None:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nfile:///etc/passwd\n"
    with pytest.raises(PlaylistError, match="file:"):
        parse_playlist(text, FINAL, allow_local=True)


def test_non_aes_key_uri_is_not_checked_but_never_fetchable() -> None:
    # Widevine keys use data: URIs; the playlist still parses, check_supported refuses it.
    text = MEDIA_SAMPLE_AES.replace("skd://fairplay-key", "data:text/plain;base64,AAAA")
    p = media(text)
    with pytest.raises(UnsupportedError):
        check_supported(p)


# --- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "#EXTM3U"),
        ("   \n\n", "#EXTM3U"),
        ("<html><body>502 Bad Gateway</body></html>", "#EXTM3U"),
        ("#EXTINF:10,\na.ts\n", "#EXTM3U"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "UTF-8"),
        (b"#EXTM3U\n#EXTINF:10,\n\xff\xfe.ts\n", "UTF-8"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n", "variant"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXTINF:1,\nb.ts\n", "mixes"),
        ("#EXTM3U\n#EXTINF:-1,\na.ts\n", "duration"),
        ("#EXTM3U\n#EXTINF:nan,\na.ts\n", "duration"),
        ("#EXTM3U\n#EXTINF:inf,\na.ts\n", "duration"),
        ("#EXTM3U\n#EXTINF:ten,\na.ts\n", "malformed"),
        ("#EXTM3U\n#EXTINF\na.ts\n", "malformed"),
        ("#EXTM3U\n#EXT-X-BYTERANGE:100@0\na.ts\n", "EXTINF"),
        ("#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:abc\na.ts\n", "BYTERANGE"),
        ("#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:0@5\na.ts\n", "BYTERANGE"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:ten\n#EXTINF:1,\na.ts\n", "TARGETDURATION"),
        ("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n#EXTINF:1,\na.ts\n", "malformed"),
        ('#EXTM3U\n#EXT-X-KEY:URI="k"\n#EXTINF:1,\na.ts\n', "METHOD"),
        ("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128\n#EXTINF:1,\na.ts\n", "URI"),
        ("#EXTM3U\n#EXT-X-KEY:METHOD\n#EXTINF:1,\na.ts\n", "malformed"),
        ('#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0"\n#EXTINF:1,\na.ts\n', "EXT-X-MAP"),
        ('#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,NAME="x"\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\n', "GROUP"),
    ],
)
def test_malformed_input_is_playlist_error(text: str | bytes, reason: str) -> None:
    with pytest.raises(PlaylistError, match=reason.replace("(", r"\(")):
        parse_playlist(text, FINAL)


def test_size_cap() -> None:
    line = "#EXTINF:1,\nsegment-with-a-long-name-to-fill-space.ts\n"
    big = "#EXTM3U\n" + line * (MAX_PLAYLIST_BYTES // len(line) + 1)
    with pytest.raises(PlaylistError, match="too large"):
        parse_playlist(big, FINAL)
    with pytest.raises(PlaylistError, match="too large"):
        parse_playlist(big.encode(), FINAL)


def test_segment_cap() -> None:
    text = "#EXTM3U\n" + "#EXTINF:1,\ns\n" * (MAX_SEGMENTS + 1)
    with pytest.raises(PlaylistError, match="segments"):
        parse_playlist(text, FINAL)


def test_variant_cap() -> None:
    text = "#EXTM3U\n" + "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n" * (MAX_VARIANTS + 1)
    with pytest.raises(PlaylistError, match="variants"):
        parse_playlist(text, FINAL)


# --- fuzzing ---------------------------------------------------------------------------------

SEEDS = [
    MASTER_AUDIO_ONLY,
    MASTER_RENDITIONS,
    MASTER_VIDEO,
    MEDIA_VOD,
    MEDIA_LIVE,
    MEDIA_BYTERANGE,
    MEDIA_MAP,
    MEDIA_DISCONTINUITY,
    MEDIA_AES,
    MEDIA_SAMPLE_AES,
]

FRAGMENTS = [
    "#EXTINF:",
    "#EXTINF:abc,",
    "#EXTINF:1e999,",
    "#EXT-X-BYTERANGE:",
    "#EXT-X-BYTERANGE:10@",
    "#EXT-X-KEY:METHOD=AES-128,URI=",
    '#EXT-X-KEY:METHOD=AES-128,URI="k",IV=0x',
    "#EXT-X-KEY:METHOD=SAMPLE-AES",
    '#EXT-X-MAP:URI="',
    "#EXT-X-STREAM-INF:BANDWIDTH=",
    '#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="',
    "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=",
    "#EXT-X-MEDIA-SEQUENCE:",
    "#EXT-X-DISCONTINUITY-SEQUENCE:-",
    "#EXT-X-TARGETDURATION:",
    "#EXT-X-PART:DURATION=x,URI=",
    "#EXT-X-PROGRAM-DATE-TIME:",
    "#EXT-X-ENDLIST",
    "#EXT-X-DISCONTINUITY",
    "#EXTM3U",
    "file:///etc/passwd",
    "data:,x",
    "http://[",
    "seg.ts",
    "",
]


@st.composite
def mutated_playlists(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SEEDS)).encode().split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "bytes", "truncate", "swap"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "insert":
            text = draw(st.sampled_from(FRAGMENTS)) + draw(st.text(max_size=12))
            lines.insert(i, text.encode("utf-8", "surrogatepass"))
        elif op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif op == "bytes":
            lines.insert(i, draw(st.binary(max_size=24)))
        elif op == "truncate" and lines:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_playlists(), as_text=st.booleans())
def test_fuzz_parse_returns_model_or_typed_error(data: bytes, as_text: bool) -> None:
    payload: str | bytes = data.decode("utf-8", "replace") if as_text else data
    try:
        result = parse_playlist(payload, FINAL)
    except (PlaylistError, UnsupportedError):
        return
    assert isinstance(result, MasterPlaylist | MediaPlaylist)
    uris = [v.uri for v in result.variants] if isinstance(result, MasterPlaylist) else []
    if isinstance(result, MediaPlaylist):
        uris = [s.uri for s in result.segments]
    assert all(u.lower().startswith(("http://", "https://")) for u in uris)


# --- selection -------------------------------------------------------------------------------


def test_choose_variant_best_worst_index() -> None:
    m = master(MASTER_AUDIO_ONLY)
    assert choose_variant(m, "best").index == 2
    assert choose_variant(m, "BEST").index == 2
    assert choose_variant(m, "worst").index == 0
    assert choose_variant(m, "1").index == 1


def test_choose_variant_by_bitrate() -> None:
    m = master(MASTER_AUDIO_ONLY)  # average 66k, 132k; peak-only 281.6k
    assert choose_variant(m, "128k").index == 1  # 132k is within the slack for "128k"
    assert choose_variant(m, "100k").index == 0
    assert choose_variant(m, "300k").index == 2
    assert choose_variant(m, "1M").index == 2
    assert choose_variant(m, "10k").index == 0  # nothing fits: the lowest
    assert choose_variant(m, "128kbps").index == 1


def test_choose_variant_prefers_audio_only() -> None:
    m = master(MASTER_VIDEO)
    assert choose_variant(m, "best").index == 2  # the only audio-only variant
    assert choose_variant(m, "0").index == 0  # explicit index may pick video
    v = master(MASTER_RENDITIONS)  # no audio-only variants: all count
    assert choose_variant(v, "best").index == 1
    assert choose_variant(v, "worst").index == 2


@pytest.mark.parametrize("spec", ["7", "loud", "", "-1", "128q"])
def test_choose_variant_bad_spec(spec: str) -> None:
    with pytest.raises(UsageError, match=r"available: 0: 70k mp4a\.40\.5"):
        choose_variant(master(MASTER_AUDIO_ONLY), spec)


def test_choose_rendition() -> None:
    m = master(MASTER_RENDITIONS)
    v = m.variants[0]
    default = choose_rendition(m, v, None)
    assert default is not None and default.name == "English"
    de = choose_rendition(m, v, "DE")
    assert de is not None and de.name == "Deutsch"
    by_name = choose_rendition(m, v, "deutsch")
    assert by_name == de
    by_prefix = choose_rendition(m, v, "en")
    assert by_prefix is not None and by_prefix.language == "en-US"
    with pytest.raises(UsageError, match="available: English \\[en-US\\], Deutsch \\[de\\]"):
        choose_rendition(m, v, "fr")


def test_choose_rendition_none_when_muxed_or_no_group() -> None:
    m = master(MASTER_RENDITIONS)
    assert choose_rendition(m, m.variants[2], None) is None  # group without URIs: muxed
    assert choose_rendition(m, m.variants[2], "en") is None
    a = master(MASTER_AUDIO_ONLY)
    assert choose_rendition(a, a.variants[0], None) is None
    assert choose_rendition(a, a.variants[0], "en") is None


def test_choose_rendition_without_default_takes_first() -> None:
    m = master(MASTER_RENDITIONS.replace("DEFAULT=YES", "DEFAULT=NO"))
    chosen = choose_rendition(m, m.variants[0], None)
    assert chosen is not None and chosen.name == "English"
    m = master(
        MASTER_RENDITIONS.replace('"en-US",DEFAULT=YES', '"en-US",DEFAULT=NO').replace(
            '"de",DEFAULT=NO', '"de",DEFAULT=YES'
        )
    )
    chosen = choose_rendition(m, m.variants[0], None)
    assert chosen is not None and chosen.name == "Deutsch"
