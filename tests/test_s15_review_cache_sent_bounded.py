"""What the cache remembers of the headers a run sends stays bounded over a long play.

``cache.sent.SentHeaders`` kept the headers and the credentials' digest of every URL it was
asked about, for the run's life. With ``--header``/``--cookie``/``--cookies`` the cache asks
for each URL it looks up or stores: a live HLS stream's every new segment, for hours (about
780 bytes a segment: 11 MB a day at 6 s segments, 34 MB at 2 s). Now at most
``MAX_REMEMBERED`` URLs are kept; what is forgotten is made again, the same.
"""

from __future__ import annotations

import tracemalloc

from kithara_cli.cache.sent import SentHeaders
from kithara_cli.commands.cache import CacheSettings
from kithara_cli.commands.common import CommonOptions

SEGMENT = "https://cdn.example.com/live/stream_1080p/segment_{:08d}.ts?token=abcdef0123456789"


def test_a_day_of_live_segments_does_not_grow_the_remembered_headers() -> None:
    common = CommonOptions(
        headers=["Authorization: Bearer s15-review"],
        cookies=["sid=1"],
        url="https://cdn.example.com/",
        cache=CacheSettings(),
    )
    assert common.cache is not None
    sent = common.cache.sent
    assert isinstance(sent, SentHeaders)
    first = sent.scope(SEGMENT.format(0))
    assert first is not None  # credentials are sent: a scope
    for i in range(1, 5000):  # past the bound once, then measured
        sent.scope(SEGMENT.format(i))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(5000, 25_000):
            sent.scope(SEGMENT.format(i))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 4_000_000, grown  # before: 20,000 URLs kept, about 15 MB
    # A URL forgotten is given the same scope and headers again.
    assert sent.scope(SEGMENT.format(0)) == first
    assert sent.headers(SEGMENT.format(0))["authorization"] == "Bearer s15-review"
