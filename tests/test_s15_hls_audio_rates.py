"""Audio renditions of a video master are judged by their own rates, not the video's.

Apple's authoring layout: every video variant (2-8 Mbit/s) is listed once per audio group
("aac-64", "aac-128"), and kithara fetches only the group's audio. Before, each audio rung took
its video variant's BANDWIDTH: the ABR compared 64k and 128k AAC against 2.2 and 2.3 Mbit/s,
so on a 1 Mbit/s link it kept to 64k, and `fetch --variant 128k` found nothing under 140k and
took the lowest. Now a group's rate comes from the master (``hls.audio_rates``): an audio-only
variant of the group, a BITRATE attribute, the difference between variants that differ only
in audio group, or a rate in the group's name. hls.js (``bitrate: 0``) and ExoPlayer
(``Format.NO_VALUE``) read no rate for an audio rendition: they adapt video, and audio follows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import expected_bytes, fetch, play, static
from kithara_cli.hls.audio_rates import audio_rates
from kithara_cli.hls.loader import playback_ladder
from kithara_cli.hls.model import MasterPlaylist
from kithara_cli.hls.playlist import parse_playlist
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

MEDIA = '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{g}",LANGUAGE="en",NAME="{n}",AUTOSELECT=YES,DEFAULT=YES,CHANNELS="2",URI="{u}"\n'
VIDEO = '#EXT-X-STREAM-INF:BANDWIDTH={bw},AVERAGE-BANDWIDTH={avg},CODECS="avc1.640028,mp4a.40.2",RESOLUTION={res},FRAME-RATE=29.970,AUDIO="{g}"\n{u}\n'
AUDIO_ONLY = '#EXT-X-STREAM-INF:BANDWIDTH={bw},CODECS="mp4a.40.2",AUDIO="{g}"\n{u}\n'

# (video URI, resolution, BANDWIDTH with the 64k group): the 128k group adds 66 kbit/s.
RUNGS = [
    ("v540/prog.m3u8", "960x540", 2_227_000),
    ("v720/prog.m3u8", "1280x720", 4_527_000),
    ("v1080/prog.m3u8", "1920x1080", 8_027_000),
]


def apple_master(groups: tuple[str, str] = ("aac-64", "aac-128"), audio_only: bool = False) -> str:
    """Video variants at 2-8 Mbit/s, each once per audio group (``ts/64k``, ``ts/128k``)."""
    low, high = groups
    text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    text += MEDIA.format(g=low, n="English", u="ts/64k.m3u8")
    text += MEDIA.format(g=high, n="English", u="ts/128k.m3u8")
    for uri, res, bw in RUNGS:
        for group, extra in ((low, 0), (high, 66_000)):
            text += VIDEO.format(bw=bw + extra, avg=bw + extra - 200_000, res=res, g=group, u=uri)
    if audio_only:
        text += AUDIO_ONLY.format(bw=70_000, g=low, u="ts/64k.m3u8")
    return text


def _master(text: str) -> MasterPlaylist:
    parsed = parse_playlist(text, "https://cdn.example/show/master.m3u8")
    assert isinstance(parsed, MasterPlaylist)
    return parsed


def _ladder(text: str) -> list[tuple[str, int]]:
    return [
        (r.media_url.rsplit("/", 2)[-1], r.bandwidth) for r in playback_ladder(_master(text), None)
    ]


def test_named_groups_are_rated_by_their_names() -> None:
    assert _ladder(apple_master()) == [("64k.m3u8", 64_000), ("128k.m3u8", 128_000)]


def test_an_audio_only_variant_rates_its_group_and_differences_the_rest() -> None:
    """Groups named for no rate; one audio-only variant (70k) prices "lo"; "hi" is 66k more,
    as every video variant listed with both says."""
    text = apple_master(("audio-lo", "audio-hi"), audio_only=True)
    assert _ladder(text) == [("64k.m3u8", 70_000), ("128k.m3u8", 136_000)]
    rates = audio_rates(_master(text))
    assert rates["audio-lo"].source == "audio-only variant"
    assert rates["audio-hi"].source == "variants"


def test_a_bitrate_attribute_is_read() -> None:
    text = apple_master(("a1", "a2")).replace('NAME="English",', 'NAME="English",BITRATE=96000,', 1)
    assert _ladder(text) == [("64k.m3u8", 96_000), ("128k.m3u8", 162_000)]


def test_unpriced_groups_keep_their_variants_rates() -> None:
    """Nothing says what "a1" costs (no anchor): as before, the first variant's BANDWIDTH."""
    assert _ladder(apple_master(("a1", "a2"))) == [
        ("64k.m3u8", 2_227_000),
        ("128k.m3u8", 2_293_000),
    ]


@pytest.mark.parametrize(
    ("name", "rate"),
    [("aac_96k", 96_000), ("stereo-64kbps", 64_000), ("audio-aacl-128", 128_000),
     ("aud1", None), ("audio_0", None), ("ac-3", None), ("surround-5.1", None),
     ("aac-48000", None), ("aac-64-128", None)],
)  # fmt: skip
def test_rates_in_names(name: str, rate: int | None) -> None:
    text = apple_master((name, "other"))
    found = audio_rates(_master(text)).get(name)
    assert (found.bandwidth if found and found.source == "name" else None) == rate


def test_fetch_variant_128k_takes_the_128k_audio(
    hls_server: MediaServer, hls_media: hls_fixtures.HlsMedia, tmp_path: Path
) -> None:
    hls_server.add_route("master.m3u8", static(apple_master()))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("master.m3u8"), "--out", str(out), "--variant", "128k")
    assert proc.returncode == 0, proc.stderr
    assert "(128k)" in proc.stderr, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)


def test_fetch_list_shows_the_audio_rates(hls_server: MediaServer) -> None:
    hls_server.add_route("master.m3u8", static(apple_master()))
    listed = fetch("--list", "--json", hls_server.url("master.m3u8"))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["variants"]
    audio = [(r["renditions"][0]["bandwidth"], r["renditions"][0]["bandwidth_from"]) for r in rows]
    assert audio == [(64_000, "name"), (128_000, "name")] * 3
    table = fetch("--list", hls_server.url("master.m3u8"))
    assert table.returncode == 0, table.stderr
    assert "audio" in table.stdout and "128k" in table.stdout


def test_play_on_a_1_mbit_link_plays_the_128k_audio(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """1 Mbit/s carries 128k AAC eight times over. Before: the rungs read 2.2 and 2.3 Mbit/s,
    so every segment came from the 64k group."""
    hls_server.add_route("master.m3u8", static(apple_master()))
    hls_server.set_faults("ts/*.ts", Faults(rate_total=125_000))
    events = tmp_path / "events.jsonl"
    # The null sink plays in real time, as a device: a WAV file is written as fast as the
    # segments come, which keeps the buffer thin and the ABR low whatever the rates.
    url = hls_server.url("master.m3u8")
    proc = play(url, "--output", "null", "--length", "12", "--events", str(events))
    assert proc.returncode == 0, proc.stderr
    high = [r for r in hls_server.stats.requests() if r.path.startswith("ts/128k_")]
    low = [r for r in hls_server.stats.requests() if r.path.startswith("ts/64k_")]
    assert len(high) > 2 * len(low), (len(high), len(low))
    # The dashboard's rungs (LadderInfo) are the audio's rates and codec.
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    (ladder,) = [e for e in lines if e["event"] == "LadderInfo"]
    assert [bw for _, bw, _ in ladder["variants"]] == [64_000, 128_000]
    assert {codecs for _, _, codecs in ladder["variants"]} == {"mp4a.40.2"}  # not the video's


def test_a_variant_without_codecs_or_resolution_is_no_audio_price() -> None:
    """A sloppy master's video variants name neither: their 2 Mbit/s is no audio rate."""
    text = (
        "#EXTM3U\n"
        + MEDIA.format(g="aac-64", n="English", u="a64.m3u8")
        + '#EXT-X-STREAM-INF:BANDWIDTH=2000000,AUDIO="aac-64"\nv1.m3u8\n'
    )
    assert _ladder(text) == [("a64.m3u8", 64_000)]
