"""``kithara fetch`` of a station link under a plain name and a plain type (``/listen``
served as text/plain): the entry is fetched, as ``kithara play`` plays it.

Session 16 made fetch read a body that is an HLS playlist whatever its type says (it saved
the playlist's text as the audio), but only HLS: an extended .m3u of stations, a .pls, or
bare URLs one a line, under a name without a link's extension and a type no link's
(text/plain, octet-stream: what many station sites send), were still saved as the file,
a few dozen bytes of text at ``-o station.mp3``, exit 0 ("saved ..."). ``play`` reads them
by content (``served.served_kind``) and plays the entry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from kithara_cli.media.encode import encode_file
from kithara_cli.server import MediaServer

LISTS = {
    "extended": "#EXTM3U\n#EXTINF:-1,Kithara FM\n{url}\n",
    "pls": "[playlist]\nNumberOfEntries=1\nFile1={url}\nTitle1=Kithara FM\n",
    "bare": "{url}\n",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plain-link")
    encode_file(root / "song.mp3", 1.0, "mp3")
    return root


@pytest.mark.parametrize("kind", list(LISTS))
def test_fetch_follows_a_station_link_served_as_plain_text(
    kind: str, media: Path, tmp_path: Path
) -> None:
    out = tmp_path / "station.mp3"
    with MediaServer(media) as srv:
        text = LISTS[kind].format(url=srv.url("song.mp3")).encode()
        plain = {"Content-Type": "text/plain; charset=utf-8"}
        srv.add_route("listen", lambda _p, _q, _n: (200, plain, text))
        proc = run_cli("fetch", srv.url("listen"), "-o", str(out), env={"KITHARA_CACHE": "off"})
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (media / "song.mp3").read_bytes(), proc.stderr
