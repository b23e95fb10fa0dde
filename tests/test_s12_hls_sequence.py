"""The rule that tells an origin restart from a stale edge copy (``hls.sequence``), over
playlists parsed by the real parser: the cases the live server tests do not reach."""

from __future__ import annotations

from kithara_cli.hls.model import MediaPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.sequence import SequenceTracker

BASE = "http://edge.example/live/"


def media(
    first: int, names: list[str], *, discontinuity: int = 0, base: str = BASE
) -> MediaPlaylist:
    lines = [
        "#EXTM3U",
        "#EXT-X-TARGETDURATION:2",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity}",
    ]
    for name in names:
        lines += ["#EXTINF:2.0,", name]
    playlist = parse_playlist("\n".join(lines) + "\n", base + "index.m3u8")
    assert isinstance(playlist, MediaPlaylist)
    return playlist


def seg(n: int, prefix: str = "a") -> str:
    return f"{prefix}{n}.ts"


def window(first: int, last: int, prefix: str = "a") -> list[str]:
    return [seg(n, prefix) for n in range(first, last + 1)]


def taken(tracker: SequenceTracker, playlist: MediaPlaylist) -> list[str]:
    return [s.uri.rsplit("/", 1)[-1] for s in tracker.take(playlist).segments]


def test_new_numbers_are_new_and_a_stale_copy_brings_nothing() -> None:
    tracker = SequenceTracker(media(5000, window(5000, 5004)))
    assert taken(tracker, media(5001, window(5001, 5005))) == ["a5005.ts"]
    assert taken(tracker, media(4998, window(4998, 5003))) == []  # an edge two behind
    assert taken(tracker, media(5002, window(5002, 5006))) == ["a5006.ts"]


def test_a_drop_to_zero_with_new_uris_is_a_restart() -> None:
    tracker = SequenceTracker(media(5000, window(5000, 5004)))
    fresh = tracker.take(media(0, window(0, 2, "b")))
    assert [s.sequence for s in fresh.segments] == [0, 1, 2]
    assert fresh.restarted_from == 5004
    assert [s.discontinuity for s in fresh.segments] == [True, False, False]
    assert taken(tracker, media(1, window(1, 3, "b"))) == ["b3.ts"]
    # A late copy from before the restart (numbered far above the new numbers): nothing.
    assert taken(tracker, media(5000, window(5000, 5004))) == []
    assert taken(tracker, media(2, window(2, 4, "b"))) == ["b4.ts"]


def test_a_restart_of_a_young_stream_whose_numbers_overlap() -> None:
    """At sequence 3 the origin restarts at 0 and lists 0..5 by the next reload: the numbers
    0..3 now name other segments. All six are new."""
    tracker = SequenceTracker(media(0, window(0, 3)))
    fresh = tracker.take(media(0, window(0, 5, "b")))
    assert [s.uri.rsplit("/", 1)[-1] for s in fresh.segments] == window(0, 5, "b")
    assert fresh.restarted_from == 3


def test_fresh_query_tokens_and_another_host_are_no_restart() -> None:
    """A CDN that signs each reload's URIs anew, or serves from another host: a stale copy
    is still a stale copy."""
    tracker = SequenceTracker(media(10, window(10, 14)))
    tokened = [f"{n}?token=new" for n in window(8, 12)]
    assert taken(tracker, media(8, tokened, base="http://other-edge.example/live/")) == []
    assert tracker.take(media(11, window(11, 15))).restarted_from is None


def test_reused_names_told_apart_by_the_discontinuity_sequence() -> None:
    """A packager that restarts at 0 under the same names: only a higher
    EXT-X-DISCONTINUITY-SEQUENCE under a lower media sequence shows it."""
    tracker = SequenceTracker(media(20, window(20, 24)))
    assert taken(tracker, media(18, window(18, 22))) == []  # a stale copy: same numbering
    fresh = tracker.take(media(0, window(20, 22), discontinuity=1))
    assert fresh.restarted_from == 24 and len(fresh.segments) == 3


def test_a_ring_of_reused_names_with_growing_numbers_is_followed() -> None:
    """FFmpeg's hls_wrap reuses segment names in a ring; the numbers still grow."""
    ring = [seg(n % 4) for n in range(0, 12)]
    tracker = SequenceTracker(media(0, ring[0:3]))
    for first in range(1, 10):
        got = tracker.take(media(first, ring[first : first + 3]))
        assert [s.sequence for s in got.segments] == [first + 2]
        assert got.restarted_from is None
