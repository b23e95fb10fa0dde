"""An LL-HLS delta update (``EXT-X-SKIP:SKIPPED-SEGMENTS=N``) that a server or a cache sends
though kithara never asks for one (no ``_HLS_skip`` in its requests).

Its first segment listed is number MEDIA-SEQUENCE + N. Before: the tag was ignored and the
segments took the numbers of the ones skipped (269 and 270 numbered 266 and 267), so a live
follower would take them for segments it had already played. Now they are numbered from
there, as hls.js counts them, with a warning.
"""

from __future__ import annotations

import pytest

from kithara_cli.errors import PlaylistError
from kithara_cli.hls.model import MediaPlaylist
from kithara_cli.hls.playlist import parse_playlist

URL = "https://cdn.example/live/a.m3u8"


def _delta(skip: str, sequence: str = "#EXT-X-MEDIA-SEQUENCE:266\n") -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=24\n"
        f"{sequence}{skip}\n"
        "#EXTINF:4.00008,\nfileSequence269.mp4\n#EXTINF:4.00008,\nfileSequence270.mp4\n"
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart271.0.mp4"\n'
    )


def test_segments_of_a_delta_update_are_numbered_after_the_skipped_ones() -> None:
    media = parse_playlist(_delta("#EXT-X-SKIP:SKIPPED-SEGMENTS=3"), URL)
    assert isinstance(media, MediaPlaylist)
    numbered = [(s.sequence, s.uri.rsplit("/", 1)[1]) for s in media.segments]
    assert numbered == [(269, "fileSequence269.mp4"), (270, "fileSequence270.mp4")]
    assert media.is_live
    assert any("delta update: 3 older segments" in w for w in media.warnings), media.warnings


def test_without_a_media_sequence_they_count_from_zero() -> None:
    media = parse_playlist(_delta("#EXT-X-SKIP:SKIPPED-SEGMENTS=2", sequence=""), URL)
    assert isinstance(media, MediaPlaylist)
    assert [s.sequence for s in media.segments] == [2, 3]


@pytest.mark.parametrize("bad", ["#EXT-X-SKIP:SKIPPED-SEGMENTS=-1", "#EXT-X-SKIP:RECENTLY=1"])
def test_a_bad_count_is_a_playlist_error(bad: str) -> None:
    with pytest.raises(PlaylistError, match="SKIPPED-SEGMENTS"):
        parse_playlist(_delta(bad), URL)
