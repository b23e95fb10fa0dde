"""Fuzzing the playlist parser: whatever the bytes, a model or a typed KitharaError, never
another exception (and the ladder built from a model never crashes the ABR either).

Two sources: playlists generated from the grammar (tags, attribute lists, numbers from tiny to
huge, odd URIs and variables), and the corpus mutated (lines dropped, repeated, swapped,
numbers replaced, bytes inserted, line endings, BOM, NULs, truncation, other encodings).

CI runs a derandomized profile of ``FUZZ_EXAMPLES`` (300) examples per source; set
``KITHARA_FUZZ_EXAMPLES`` for more (``KITHARA_FUZZ_EXAMPLES=20000`` runs randomized).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import playlist_corpus
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.errors import KitharaError
from kithara_cli.hls.model import MasterPlaylist, MediaPlaylist
from kithara_cli.hls.playlist import check_supported, parse_playlist
from kithara_cli.hls.select import audio_candidates, audio_ladder, choose_rendition, choose_variant

FUZZ_EXAMPLES = int(os.environ.get("KITHARA_FUZZ_EXAMPLES", "300"))
PROFILE = settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=FUZZ_EXAMPLES <= 1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
URL = "https://cdn.example.com/a/index.m3u8?token=t1"
RUNS = {"grammar": 0, "mutation": 0, "ok": 0, "refused": 0}

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "-0", "1e999", "0x10", "10.0.0", "٣", "1_000", " 7 ", "9" * 60]),
)
WORD = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
URIS = st.one_of(
    st.sampled_from(
        [
            "a.ts", "../b.ts", "/c.ts", "//other.example/d.ts", "http://x.example/e.ts",
            "file:///etc/passwd", "data:,x", "skd://k", "{$v}/f.ts", "g.ts?x={$q}", "", " ",
            "h\\i.ts", "j#k", "https://[::1]:99999/x", "%zz", "k;p=1", "l.ts?",
        ]
    ),
    WORD,
)  # fmt: skip
ATTR_NAMES = st.sampled_from(
    [
        "BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "AUDIO", "RESOLUTION", "URI", "METHOD", "IV",
        "KEYFORMAT", "BYTERANGE", "TYPE", "GROUP-ID", "NAME", "LANGUAGE", "DEFAULT", "VALUE",
        "IMPORT", "QUERYPARAM", "FRAME-RATE", "PROGRAM-ID", "CHANNELS", "AUTOSELECT",
    ]
)  # fmt: skip
ATTR_VALUES = st.one_of(
    NUMBERS,
    URIS.map(lambda u: f'"{u}"'),
    st.sampled_from(
        [
            "AES-128", "AES-256", "AES-256-CTR", "SAMPLE-AES", "NONE", "AUDIO", "YES", "NO",
            '"mp4a.40.2"', '"avc1.4d401e"', '"avc1.4d401e,mp4a.40.2"', "0x1", "0x" + "f" * 40,
            '"1000@0"', '"12@"', '"a"', '"v"', '"q"', "640x360", '"', "",
        ]
    ),
)  # fmt: skip
ATTR_LIST = st.lists(
    st.tuples(ATTR_NAMES, ATTR_VALUES).map(lambda kv: f"{kv[0]}={kv[1]}"), max_size=6
).map(",".join)
TAGS = st.sampled_from(
    [
        "#EXTINF", "#EXT-X-STREAM-INF", "#EXT-X-MEDIA", "#EXT-X-KEY", "#EXT-X-MAP",
        "#EXT-X-BYTERANGE", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE",
        "#EXT-X-TARGETDURATION", "#EXT-X-PLAYLIST-TYPE", "#EXT-X-DEFINE", "#EXT-X-ENDLIST",
        "#EXT-X-DISCONTINUITY", "#EXT-X-I-FRAMES-ONLY", "#EXT-X-I-FRAME-STREAM-INF",
        "#EXT-X-PROGRAM-DATE-TIME", "#EXT-X-DATERANGE", "#EXT-X-PART", "#EXT-X-VERSION",
    ]
)  # fmt: skip
LINE = st.one_of(
    st.tuples(TAGS, st.one_of(ATTR_LIST, NUMBERS, NUMBERS.map(lambda n: n + ",title"))).map(
        lambda t: f"{t[0]}:{t[1]}"
    ),
    TAGS,
    URIS,
    st.just(""),
    st.just('#EXT-X-DEFINE:NAME="v",VALUE="w"'),
    st.just('#EXT-X-DEFINE:QUERYPARAM="token"'),
)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])


@st.composite
def grammar_playlists(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(LINE, max_size=40))
    head = draw(st.sampled_from(["#EXTM3U", "\ufeff#EXTM3U", "  #EXTM3U", "#EXTM3U\x00", ""]))
    text = draw(ENDINGS).join([head, *lines])
    return text.encode("utf-8", "surrogatepass")


CORPUS = [entry.text for entry in playlist_corpus.load_corpus()]


@st.composite
def mutated_playlists(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(CORPUS))
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 9))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [b"#EXTM3U"]
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:  # a number replaced
            lines[i] = _replace_number(lines[i], draw(NUMBERS).encode("utf-8", "surrogatepass"))
        elif op == 4:
            lines.insert(i, draw(LINE).encode("utf-8", "surrogatepass"))
        elif op == 5:
            lines[i] = lines[i] + draw(st.binary(max_size=8))
        elif op == 6:
            lines[i] = lines[i].replace(b",", b"", 1).replace(b'"', b"", 1)
        elif op == 7:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == 8:
            lines[i] = lines[i].replace(b"=", b"=" + draw(NUMBERS).encode(), 1)
        else:
            lines.insert(i, b"\x00" * draw(st.integers(1, 3)))
    joined = draw(st.sampled_from([b"\n", b"\r\n", b"\r"])).join(lines)
    wrap = draw(st.integers(0, 4))
    if wrap == 1:
        joined = b"\xef\xbb\xbf" + joined
    elif wrap == 2:
        joined = joined.decode("utf-8", "replace").encode("utf-16")
    elif wrap == 3:
        joined = joined[: draw(st.integers(0, len(joined)))]
    return joined


def _replace_number(line: bytes, number: bytes) -> bytes:
    for i, ch in enumerate(line):
        if 48 <= ch <= 57:
            j = i
            while j < len(line) and 48 <= line[j] <= 57:
                j += 1
            return line[:i] + number + line[j:]
    return line + number


def exercise(data: bytes) -> None:
    """Parse, and use the result as the CLI would; only KitharaError may come out."""
    try:
        playlist = parse_playlist(data, URL)
        check_supported(playlist)
        if isinstance(playlist, MasterPlaylist):
            for spec in ("best", "worst", "128k", "0"):
                variant = choose_variant(playlist, spec)
                choose_rendition(playlist, variant, None)
            ladder = audio_ladder(playlist)
            assert set(audio_candidates(playlist)) <= set(playlist.variants)
            abr = AbrController(
                [VariantInfo(v.index, max(v.bandwidth, 1), ",".join(v.codecs)) for v in ladder]
            )
            abr.choose(0.0, 0.0)
            abr.choose(20.0, 10.0)
        else:
            assert isinstance(playlist, MediaPlaylist)
            _ = playlist.duration, playlist.segment_at(1.0), playlist.is_live
            for s in playlist.segments[:3]:
                assert s.uri.startswith(("http://", "https://"))
        RUNS["ok"] += 1
    except KitharaError:
        RUNS["refused"] += 1


@PROFILE
@given(grammar_playlists())
def test_grammar_playlists_parse_or_raise_a_typed_error(data: bytes) -> None:
    RUNS["grammar"] += 1
    exercise(data)


@PROFILE
@given(mutated_playlists())
def test_mutated_corpus_playlists_parse_or_raise_a_typed_error(data: bytes) -> None:
    RUNS["mutation"] += 1
    exercise(data)


def test_examples_were_run() -> None:
    """Runs after the two above (file order): they did run, and both outcomes occurred."""
    print(f"\nfuzz examples: {RUNS}")
    if RUNS["grammar"] and RUNS["mutation"]:
        assert RUNS["ok"] > 0 and RUNS["refused"] > 0
