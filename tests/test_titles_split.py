"""``fetch --split-tracks`` cuts at ICY title changes only: an Ogg mount (no ICY blocks, its
titles in each link's comment header), HLS and a plain file are refused with one line on
stderr and exit 2 (bad usage), before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.errors import UsageError
from kithara_cli.media import encode_file
from kithara_cli.media.titles import OggLink, build_timed_id3_stream, chained_ogg
from kithara_cli.server import MediaServer
from kithara_cli.server.ogg_radio import OggMount
from kithara_cli.server.radio import Station

LINKS = (OggLink("One", "A", 1.0), OggLink("Two", "B", 1.0))


@pytest.fixture(scope="module")
def split_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("titles_split")
    (root / "chain.ogg").write_bytes(b"".join(chained_ogg("opus", LINKS)))
    build_timed_id3_stream(root, 4.0, [(0.0, "first"), (2.5, "second")])
    encode_file(root / "file.mp3", 2.0, "mp3")
    return root


@pytest.mark.parametrize("target", ["mount.ogg", "timed_id3.m3u8", "file.mp3"])
def test_split_tracks_of_a_source_without_icy_titles_is_refused(
    split_root: Path, tmp_path: Path, target: str
) -> None:
    data = (split_root / "chain.ogg").read_bytes()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with MediaServer(split_root) as srv:
        station = Station(data, int(len(data) * 8 / 2.0), content_type="audio/ogg", pace=4)
        srv.add_radio("mount.ogg", OggMount(station))
        r = run_cli(
            "fetch", srv.url(target), "--out", str(out_dir / "rec.bin"), "--split-tracks",
            "--duration", "2", timeout=30,
        )  # fmt: skip
    assert r.returncode == UsageError.exit_code == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--split-tracks" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert list(out_dir.iterdir()) == []  # nothing written, not even a .part
