"""A variant whose playlist failed is answered from memory: its error, raised afresh each time.

Session 16 keeps the error of a variant whose media playlist failed to load
(``HlsSource._dead``) and raises that same exception object whenever the playlist is asked
for again; live play asks it for every segment while the ABR keeps choosing that variant
(the followed variant serves instead). Raising one exception object again appends the new
frames to its old traceback: three more frames, each keeping its locals alive, per segment,
for as long as the stream plays. Each raise now carries its own traceback only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import HlsMedia
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.dl import Downloader
from kithara_cli.errors import HttpStatusError
from kithara_cli.events import EventBus
from kithara_cli.hls.loader import playback_ladder
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.source import HlsSource
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media


def _depth(exc: BaseException) -> int:
    n, tb = 0, exc.__traceback__
    while tb is not None:
        n, tb = n + 1, tb.tb_next
    return n


def test_a_dead_playlist_s_error_does_not_grow_with_each_ask(
    hls_media: HlsMedia, tmp_path: Path
) -> None:
    low, high = (p.name for p in hls_media.ts.variants)
    with MediaServer(hls_media.root) as server:
        url = server.url("ts/master-review.m3u8")
        text = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\n{low}\n"
        text += f"#EXT-X-STREAM-INF:BANDWIDTH=128000\ngone/{high}\n"
        playlist = parse_playlist(text.encode(), url)
        rungs = playback_ladder(playlist, None)
        controller = AbrController([VariantInfo(r.index, r.bandwidth, r.codecs) for r in rungs])
        with Downloader(EventBus(), max_concurrent=2) as dl:
            source = HlsSource(dl, rungs, controller, tmp_path)
            dead = next(r.index for r in rungs if "gone/" in r.media_url)
            with pytest.raises(HttpStatusError):
                source._stand_in(dead)  # the 404, once, with the retries
            depths = []
            for _ in range(50):
                with pytest.raises(HttpStatusError) as raised:
                    source.media_for(dead)
                depths.append(_depth(raised.value))
            source.close()
    assert max(depths) == depths[0] < 10, depths
