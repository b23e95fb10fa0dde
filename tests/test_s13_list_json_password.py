"""``fetch --list --json`` shows no URL's password: the JSON goes to terminals and logs too."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli
from kithara_cli.media import build_ladder
from kithara_cli.server import MediaServer

PASSWORD = "l1st-pw-93"


def test_the_ladder_listing_masks_the_urls_credentials(tmp_path: Path) -> None:
    build_ladder(tmp_path / "hls", 4.0, bitrates=(64_000, 128_000))
    with MediaServer(tmp_path) as srv:
        url = srv.url("hls/master.m3u8").replace("http://", f"http://alice:{PASSWORD}@", 1)
        proc = run_cli("fetch", "--list", "--json", url, env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout
    listing = json.loads(proc.stdout)
    assert listing["url"].startswith("http://***@127.0.0.1:")
    assert len(listing["variants"]) == 2
    assert all("***@" in v["uri"] for v in listing["variants"])  # relative URIs inherit it
