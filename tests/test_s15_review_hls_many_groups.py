"""A master playlist listing very many audio groups is read in linear time.

``hls.audio_rates`` looked up each group's names by scanning every EXT-X-MEDIA for every
group: quadratic in the groups a master lists. A 4 MB master (under the 8 MB cap) with 60,000
one-line groups held ``fetch --list`` and ``fetch --out`` on one core for minutes (32,000
groups: 22 s per call, and a fetch calls it twice) where kithara before the audio rates took
well under a second. Such a master is hostile or broken; it must cost what parsing costs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import hls_fixtures
from hls_fixtures import expected_bytes, fetch, static
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

GROUPS = 60_000


def _master() -> str:
    media = "".join(
        f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="g{i}",NAME="a{i}",URI="ts/64k.m3u8"\n'
        for i in range(GROUPS)
    )
    variant = '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="mp4a.40.2",AUDIO="g0"\nts/64k.m3u8\n'
    return "#EXTM3U\n#EXT-X-VERSION:6\n" + media + variant


def test_fetch_list_of_a_master_with_60000_groups(hls_server: MediaServer) -> None:
    hls_server.add_route("master.m3u8", static(_master()))
    started = time.monotonic()
    listed = fetch("--list", "--json", hls_server.url("master.m3u8"), timeout=60)
    took = time.monotonic() - started
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)["variants"]
    assert row["renditions"][0]["bandwidth"] == 70_000
    assert took < 30, took  # before: minutes


def test_fetch_of_a_master_with_60000_groups(
    hls_server: MediaServer, hls_media: hls_fixtures.HlsMedia, tmp_path: Path
) -> None:
    hls_server.add_route("master.m3u8", static(_master()))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("master.m3u8"), "--out", str(out), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 0)
