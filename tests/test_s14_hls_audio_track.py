"""A video master whose audio groups each have their own DEFAULT=YES rendition.

Apple's authoring spec pairs every video variant with one audio group per codec (AAC, AC-3,
E-AC-3), and a packager that puts one language per group marks each group's rendition
DEFAULT=YES. Before: play's ladder held one rung per group's DEFAULT, so the ABR switched
language with the video bitrate (English, then German at the first up-switch), and ``fetch``
took the ``best`` variant's group's DEFAULT (German AC-3). Now one audio track is kept across
variants (``select.track_renditions``): the first listed variant's DEFAULT, found in the other
groups by NAME and LANGUAGE; ``--audio`` still chooses another, as hls.js keeps the track
across a level switch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import RATE, decode, fetch, play, static, tone_seconds
from kithara_cli.hls.loader import pick, playback_ladder
from kithara_cli.hls.model import MasterPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.media import ALT_AUDIO_BASE_HZ
from kithara_cli.server import MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

SECONDS = 20

# Variants by video rate; "aud1" (AAC) has English, "aud2" (AC-3) German, each DEFAULT=YES.
APPLE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud1",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",URI="alt_audio_en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud2",LANGUAGE="de",NAME="Deutsch",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="6",URI="alt_audio_de.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="sub1",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="subs.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc1",LANGUAGE="en",NAME="English",DEFAULT=YES,INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=2177116,CODECS="avc1.640020,mp4a.40.2",RESOLUTION=960x540,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
alt_video_360p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=8001098,CODECS="avc1.64002a,mp4a.40.2",RESOLUTION=1920x1080,CLOSED-CAPTIONS="cc1",AUDIO="aud1",SUBTITLES="sub1"
alt_video_720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2399619,CODECS="avc1.640020,ac-3",RESOLUTION=960x540,CLOSED-CAPTIONS="cc1",AUDIO="aud2",SUBTITLES="sub1"
alt_video_360p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=8223601,CODECS="avc1.64002a,ac-3",RESOLUTION=1920x1080,CLOSED-CAPTIONS="cc1",AUDIO="aud2",SUBTITLES="sub1"
alt_video_720p.m3u8
"""

URL = "https://cdn.example/v/master.m3u8"


def _master(text: str = APPLE) -> MasterPlaylist:
    parsed = parse_playlist(text, URL)
    assert isinstance(parsed, MasterPlaylist)
    return parsed


def test_the_ladder_keeps_one_language() -> None:
    rungs = playback_ladder(_master(), None)
    assert [r.media_url.rsplit("/", 1)[1] for r in rungs] == ["alt_audio_en.m3u8"]
    de = playback_ladder(_master(), "de")
    assert [r.media_url.rsplit("/", 1)[1] for r in de] == ["alt_audio_de.m3u8"]


def test_the_track_is_found_in_other_groups_by_language() -> None:
    """Groups by bitrate, the same language under other NAMEs: every group stays a rung."""
    text = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",LANGUAGE="en",NAME="English",DEFAULT=YES,URI="lo_en.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",LANGUAGE="fr",NAME="French",URI="lo_fr.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hi",LANGUAGE="fr",NAME="Francais",DEFAULT=YES,URI="hi_fr.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hi",LANGUAGE="en",NAME="English HQ",URI="hi_en.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="lo"\nv1.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="hi"\nv2.m3u8\n'
    )
    rungs = playback_ladder(_master(text), None)
    assert [r.media_url.rsplit("/", 1)[1] for r in rungs] == ["lo_en.m3u8", "hi_en.m3u8"]
    chosen = pick(_master(text), "best", None)
    assert chosen.media_url.endswith("/hi_en.m3u8"), chosen
    chosen = pick(_master(text), "best", "fr")
    assert chosen.media_url.endswith("/hi_fr.m3u8"), chosen


def test_groups_without_languages_stay_one_track() -> None:
    """Groups by bitrate whose renditions name no LANGUAGE (and differ in NAME): nothing tells
    them apart as languages, so each group's DEFAULT is a rung, as before."""
    text = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a64",NAME="aac_64k",DEFAULT=YES,URI="a64.m3u8"\n'
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a128",NAME="aac_128k",DEFAULT=YES,URI="a128.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="a64"\nv1.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="a128"\nv2.m3u8\n'
    )
    rungs = playback_ladder(_master(text), None)
    assert [r.media_url.rsplit("/", 1)[1] for r in rungs] == ["a64.m3u8", "a128.m3u8"]


def test_fetch_best_takes_the_default_track_not_the_best_groups_default(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    hls_server.add_route("misc/apple.m3u8", static(APPLE))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("misc/apple.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    paths = [r.path for r in hls_server.stats.requests()]
    assert not [p for p in paths if "alt_audio_de" in p or "alt_video" in p], paths
    pcm = decode(out)
    assert tone_seconds(pcm, base_hz=ALT_AUDIO_BASE_HZ["en"]) == list(range(SECONDS))


@pytest.mark.parametrize("audio", [None, "de"])
def test_play_never_switches_language(
    hls_server: MediaServer, tmp_path: Path, audio: str | None
) -> None:
    hls_server.add_route("misc/apple.m3u8", static(APPLE))
    wav = tmp_path / "out.wav"
    args = ["--audio", audio] if audio else []
    proc = play(hls_server.url("misc/apple.m3u8"), "--output", f"wav:{wav}", *args)
    assert proc.returncode == 0, proc.stderr
    lang = audio or "en"
    other = "de" if lang == "en" else "en"
    paths = [r.path for r in hls_server.stats.requests()]
    assert not [p for p in paths if f"alt_audio_{other}" in p or "alt_video" in p], paths
    pcm = decode(wav)
    assert abs(pcm.shape[0] / RATE - SECONDS) < 0.1
    assert tone_seconds(pcm, base_hz=ALT_AUDIO_BASE_HZ[lang]) == list(range(SECONDS))
