"""``--audio en`` picks the main English track, not an audio description listed before it.

Left by the HLS helper in session 14: ``--audio LANG`` took the first rendition whose
language matched, and masters that list an English audio description (AUTOSELECT=NO,
DEFAULT=NO, CHARACTERISTICS="public.accessibility.describes-video") before the main English
track gave the description. Among matches DEFAULT=YES comes first, then AUTOSELECT=YES.
"""

from __future__ import annotations

from kithara_cli.hls.model import MasterPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.hls.select import choose_rendition

MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",LANGUAGE="en",NAME="English (AD)",AUTOSELECT=NO,DEFAULT=NO,CHARACTERISTICS="public.accessibility.describes-video",URI="ad.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",LANGUAGE="fr",NAME="Français",AUTOSELECT=YES,DEFAULT=NO,URI="fr.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",LANGUAGE="en-GB",NAME="English",AUTOSELECT=YES,DEFAULT=YES,URI="en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.640020,mp4a.40.2",AUDIO="a"
v.m3u8
"""


def _chosen(spec: str | None) -> str | None:
    master = parse_playlist(MASTER, "https://cdn.example/master.m3u8")
    assert isinstance(master, MasterPlaylist)
    rendition = choose_rendition(master, master.variants[0], spec)
    return None if rendition is None else rendition.name


def test_a_language_picks_its_default_track() -> None:
    assert _chosen("en") == "English"  # by prefix: en-GB, DEFAULT=YES over the description
    assert _chosen("en-gb") == "English"
    assert _chosen(None) == "English"


def test_a_name_still_picks_that_track() -> None:
    assert _chosen("English (AD)") == "English (AD)"
    assert _chosen("fr") == "Français"
