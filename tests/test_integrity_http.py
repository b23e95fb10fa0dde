"""Servers that lie, run as a user would: the output is one whole version, or one clean error.

Every case is a real loopback server with a fault knob (``kithara_cli.server.Faults``) and the
CLI in a subprocess. "Clean" means: a non-zero documented exit code, one line on stderr, no
traceback, and nothing at --out.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hls_fixtures
from conftest import run_cli
from hls_fixtures import expected_bytes, popen_fetch, segments_written, static, wait_for
from kithara_cli.dl import Downloader
from kithara_cli.dl.validate import DeadlineError
from kithara_cli.events import EventBus
from kithara_cli.file import ProgressiveFetch
from kithara_cli.file.fetch import SizeLimitError
from kithara_cli.file.state import load_state, part_paths
from kithara_cli.media import encode_file
from kithara_cli.media.analysis import decode_pcm
from kithara_cli.net import NetConfig, RetryPolicy
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server

SIZE = 2_000_000
TONE_SECONDS = 40.0  # ~640 KB of 128k MP3: more than the player's 512 KiB start-up fetch


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 and v2: two versions of one file at the same size; v3 another size."""
    root = tmp_path_factory.mktemp("integrity")
    rng = random.Random(14)
    (root / "v1.bin").write_bytes(rng.randbytes(SIZE))
    (root / "v2.bin").write_bytes(rng.randbytes(SIZE))
    (root / "v3.bin").write_bytes(rng.randbytes(SIZE + 123_457))
    encode_file(root / "tone.mp3", TONE_SECONDS, "mp3")
    return root


@pytest.fixture
def srv(root: Path) -> Iterator[MediaServer]:
    with MediaServer(root) as server:
        yield server


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def versions(root: Path, *names: str) -> dict[str, str]:
    return {digest((root / n).read_bytes()): n for n in names}


def fetch(srv: MediaServer, path: str, out: Path, *args: str, timeout: float = 60):
    return run_cli("fetch", srv.url(path), "--out", str(out), "-q", *args, timeout=timeout)


def assert_clean_failure(proc, out: Path, code: int | None = None) -> None:
    assert proc.returncode != 0
    if code is not None:
        assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


# --- unknown length ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        Faults(http10=True, no_content_length=True, ignore_range=True, no_validators=True),
        Faults(no_content_length=True),
        Faults(no_content_length=True, ignore_range=True, no_validators=True),
    ],
    ids=["http10-close-delimited", "chunked", "chunked-no-range-no-validators"],
)
def test_a_body_without_length_is_fetched_whole(
    srv: MediaServer, root: Path, tmp_path: Path, faults: Faults
) -> None:
    srv.set_faults("v1.bin", faults)
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (root / "v1.bin").read_bytes()
    part, state = part_paths(out)
    assert not part.exists() and not state.exists()


def test_a_close_delimited_file_plays_to_its_end(srv: MediaServer, tmp_path: Path) -> None:
    """Was: playback stopped after the 512 KiB start-up fetch (~32 s) and exited 0."""
    srv.set_faults(
        "tone.mp3",
        Faults(http10=True, no_content_length=True, ignore_range=True, no_validators=True),
    )
    wav = tmp_path / "out.wav"
    proc = run_cli(
        "play",
        srv.url("tone.mp3"),
        "--no-ui",
        "--output",
        f"wav:{wav}",
        timeout=90,
        env={"KITHARA_AUDIO_DEVICE": "none"},
    )
    assert proc.returncode == 0, proc.stderr
    pcm, rate = decode_pcm(wav)
    assert abs(len(pcm) / rate - TONE_SECONDS) < 0.1


def test_an_endless_body_stops_at_max_size(srv: MediaServer, root: Path, tmp_path: Path) -> None:
    srv.set_faults("v1.bin", Faults(endless=True))
    out = tmp_path / "radio.bin"
    proc = fetch(srv, "v1.bin", out, "--max-size", "300K")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (root / "v1.bin").read_bytes()[: 300 * 1024]


def test_an_endless_body_without_a_bound_fails_naming_the_option(
    srv: MediaServer, tmp_path: Path
) -> None:
    """Without --max-size an endless body ends at the default limit (here made small): an
    error naming the option, and nothing left beside --out either."""
    srv.set_faults("v1.bin", Faults(endless=True))
    out = tmp_path / "radio.bin"
    with Downloader(EventBus()) as dl:
        job = ProgressiveFetch(dl, srv.url("v1.bin"), out, unknown_length_limit=1 << 20)
        with pytest.raises(SizeLimitError, match="--max-size"):
            job.run()
    part, state = part_paths(out)
    assert not out.exists() and not part.exists() and not state.exists()


def test_max_size_refuses_a_larger_file(srv: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(srv, "v1.bin", out, "--max-size", "1M"), out, code=2)
    assert_clean_failure(fetch(srv, "v1.bin", out, "--max-size", "lots"), out, code=2)


# --- validators end to end -------------------------------------------------------------------


def test_a_206_of_another_version_restarts_the_file(
    srv: MediaServer, root: Path, tmp_path: Path
) -> None:
    """The first response is v1; every later one (If-Range ignored) a 206 of v2."""
    srv.set_faults(
        "v1.bin", Faults(swap_from="v1", swap_to="v2", swap_after=1, ignore_if_range=True)
    )
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (root / "v2.bin").read_bytes()


def test_alternating_versions_with_ignored_if_range_never_splice(
    srv: MediaServer, root: Path, tmp_path: Path
) -> None:
    """Was: exit 0 with about half of each version (fetch -c 4)."""
    srv.set_faults(
        "v1.bin",
        Faults(
            swap_from="v1",
            swap_to="v2",
            swap_alternate=True,
            etag_per_request=True,
            ignore_if_range=True,
        ),
    )
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "4")
    if proc.returncode == 0:
        assert digest(out.read_bytes()) in versions(root, "v1.bin", "v2.bin")
    else:
        assert_clean_failure(proc, out)


def test_a_new_etag_per_response_is_a_clean_failure_not_a_splice(
    srv: MediaServer, tmp_path: Path
) -> None:
    """Same bytes, but the server says each response is a new version: kithara cannot know
    the parts belong together, so it refuses after starting over once."""
    srv.set_faults("v1.bin", Faults(etag_per_request=True, ignore_if_range=True))
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(srv, "v1.bin", out, "-c", "4"), out, code=3)


def test_if_range_is_sent_on_every_ranged_request(srv: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "4")
    assert proc.returncode == 0, proc.stderr
    first, *ranged = srv.stats.requests("v1.bin")
    assert first.if_range is None  # nothing known yet to validate against
    assert ranged and all(r.range and r.if_range and r.if_range.startswith('"') for r in ranged)


@pytest.mark.parametrize("other", ["v2", "v3"])
def test_a_200_of_another_body_without_validators_rewrites_from_byte_0(
    srv: MediaServer, root: Path, tmp_path: Path, other: str
) -> None:
    """Was: the resume's 200 had its leading bytes skipped and the rest written as the same
    file. Now the 200 is the whole object from byte 0: the output is that version, whole."""
    srv.set_faults(
        "v1.bin",
        Faults(
            ignore_range=True,
            no_validators=True,
            close_after=700_000,
            faults_times=1,
            swap_from="v1",
            swap_to=other,
            swap_after=1,
        ),
    )
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "1")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (root / f"{other}.bin").read_bytes()


def test_a_resume_onto_a_changed_file_starts_over(
    srv: MediaServer, root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.bin"
    srv.set_faults("v1.bin", Faults(rate_per_conn=400_000))
    proc = popen_fetch(srv.url("v1.bin"), "--out", str(out), "-q", "-c", "1")
    part, state_path = part_paths(out)
    try:
        wait_for(lambda: part.exists() and part.stat().st_size > 300_000, what="some bytes")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert load_state(state_path) is not None
    srv.set_faults("v1.bin", Faults(swap_from="v1", swap_to="v2", ignore_if_range=True))
    rerun = fetch(srv, "v1.bin", out)
    assert rerun.returncode == 0, rerun.stderr
    assert out.read_bytes() == (root / "v2.bin").read_bytes()


def test_play_refuses_a_file_that_changes_under_it(srv: MediaServer, tmp_path: Path) -> None:
    """Playback cannot take back audio already played: another version is an error line."""
    srv.set_faults("tone.mp3", Faults(swap_from="tone.mp3", swap_to="v1.bin", swap_after=1))
    wav = tmp_path / "out.wav"
    proc = run_cli(
        "play",
        srv.url("tone.mp3"),
        "--no-ui",
        "--output",
        f"wav:{wav}",
        timeout=90,
        env={"KITHARA_AUDIO_DEVICE": "none"},
    )
    assert proc.returncode == 3
    assert "changed" in proc.stderr and "Traceback" not in proc.stderr


# --- Content-Encoding ------------------------------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_an_encoded_body_is_decoded(
    srv: MediaServer, root: Path, tmp_path: Path, coding: str
) -> None:
    srv.set_faults("v1.bin", Faults(content_encoding=coding))
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "4")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (root / "v1.bin").read_bytes()


def test_gzip_segments_are_decoded_not_saved_as_audio(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Was: gzip-encoded segments written to the output as they came, exit 0."""
    hls_server.set_faults("*.ts", Faults(content_encoding="gzip"))
    out = tmp_path / "out.ts"
    proc = run_cli("fetch", hls_server.url("ts/master.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)


# --- deadlines and minimum rate -----------------------------------------------------------


def test_a_one_byte_per_second_trickle_fails_cleanly(srv: MediaServer, tmp_path: Path) -> None:
    """Was: the inactivity timeout never fired and the request lived for ever."""
    srv.set_faults("v1.bin", Faults(rate_per_conn=1))
    out = tmp_path / "out.bin"
    started = time.monotonic()
    proc = fetch(srv, "v1.bin", out, "--timeout", "3", "--retries", "2", timeout=40)
    assert time.monotonic() - started < 25
    assert_clean_failure(proc, out, code=3)
    assert "slower than" in proc.stderr


# --- HLS -------------------------------------------------------------------------------------


def test_a_byterange_past_the_end_of_the_file_is_an_error(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """Was: a silently short segment, exit 0."""
    text = (
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXTINF:2.0,\n#EXT-X-BYTERANGE:47376@0\nbyterange.ts\n"
        "#EXTINF:2.0,\n#EXT-X-BYTERANGE:9000@472000\nbyterange.ts\n#EXT-X-ENDLIST\n"
    )
    hls_server.add_route("misc/long.m3u8", static(text))
    out = tmp_path / "out.ts"
    proc = run_cli("fetch", hls_server.url("misc/long.m3u8"), "-o", str(out), "-q")
    assert_clean_failure(proc, out, code=3)
    assert "ends at" in proc.stderr or "has " in proc.stderr


def _interrupt_after_three(hls_server: MediaServer, url: str, out: Path) -> None:
    part, state_path = part_paths(out)
    hls_server.set_faults("*.ts", Faults(latency=0.15))
    proc = popen_fetch(url, "-o", str(out), "-q", "--segments", "1")

    try:
        wait_for(lambda: segments_written(state_path) >= 3, what="three segments written")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert part.exists() and segments_written(state_path) >= 3
    hls_server.clear_faults()


@pytest.mark.parametrize("change", ["playlist", "segments"])
def test_hls_resume_against_a_changed_stream_starts_over(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path, change: str
) -> None:
    """Was: resume checked the URL and the segment count only, and spliced two versions.

    ``playlist``: the same URL now lists the other variant's segments; ``segments``: the
    same URIs now serve the other variant's bytes.
    """
    out = tmp_path / "out.ts"
    url = hls_server.url("ts/64k.m3u8")
    _interrupt_after_three(hls_server, url, out)
    if change == "playlist":
        hls_server.set_faults("ts/64k.m3u8", Faults(swap_from="64k", swap_to="128k"))
    else:
        hls_server.set_faults("ts/64k_*.ts", Faults(swap_from="64k_", swap_to="128k_"))
    rerun = run_cli("fetch", url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert "starting over" in rerun.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 1)


def test_hls_resume_of_an_unchanged_stream_still_resumes(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    out = tmp_path / "out.ts"
    url = hls_server.url("ts/64k.m3u8")
    _interrupt_after_three(hls_server, url, out)
    rerun = run_cli("fetch", url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming" in rerun.stderr and "starting over" not in rerun.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 0)


def test_small_resources_are_decoded_too(srv: MediaServer) -> None:
    """Playlists, keys and init sections come through the same transfer: decoded as well."""
    srv.set_faults("v1.bin", Faults(content_encoding="gzip"))
    with Downloader(EventBus(), NetConfig(read_timeout=5)) as dl:
        body, _ = dl.fetch_bytes(srv.url("v1.bin"), max_bytes=4 * SIZE)
    assert body == (srv.root / "v1.bin").read_bytes()


def test_a_request_deadline_bounds_a_slow_but_steady_body(srv: MediaServer) -> None:
    """Above the minimum rate, yet too slow for the overall deadline, from a server that
    cannot resume: retried, then an error of its own type (a stall), never a request that
    runs for ever. (With Range, each cut-off resumes forward instead.)"""
    srv.set_faults("v1.bin", Faults(rate_per_conn=100_000, ignore_range=True))  # 20 s
    net = NetConfig(read_timeout=5, request_deadline=0.5)
    retry = RetryPolicy(max_attempts=2, base=0.01, cap=0.02)
    started = time.monotonic()
    with Downloader(EventBus(), net, retry=retry) as dl, pytest.raises(DeadlineError):
        dl.fetch_bytes(srv.url("v1.bin"), max_bytes=4 * SIZE)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("status", "coding"), [(200, "br"), (200, "compress"), (206, "gzip")], ids=str
)
def test_an_encoding_that_cannot_be_decoded_is_refused(
    srv: MediaServer, tmp_path: Path, status: int, coding: str
) -> None:
    """br without a brotli module, an unknown coding, or an encoded byte range: one line,
    exit 5, and never the encoded bytes saved as media."""
    body = gzip.compress(b"x" * 5000)
    headers = {"Content-Encoding": coding}
    if status == 206:
        headers["Content-Range"] = f"bytes 0-{len(body) - 1}/{len(body)}"
    srv.add_route("enc.bin", lambda path, query, now: (status, headers, body))
    out = tmp_path / "out.bin"
    assert_clean_failure(fetch(srv, "enc.bin", out), out, code=5)


def test_playing_gzip_segments_sounds_as_the_clean_stream(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """Playback takes segments through the same transfer: the audio is the clean stream's."""
    wavs = []
    for faults in (Faults(), Faults(content_encoding="gzip")):
        hls_server.set_faults("*.ts", faults)
        wav = tmp_path / f"out{len(wavs)}.wav"
        proc = run_cli(
            "play",
            hls_server.url("ts/master.m3u8"),
            "--no-ui",
            "--abr",
            "fixed:best",
            "--output",
            f"wav:{wav}",
            timeout=90,
            env={"KITHARA_AUDIO_DEVICE": "none"},
        )
        assert proc.returncode == 0, proc.stderr
        wavs.append(wav.read_bytes())
    assert wavs[0] == wavs[1]


def test_hls_resume_survives_new_url_tokens(
    hls_media: hls_fixtures.HlsMedia, hls_server: MediaServer, tmp_path: Path
) -> None:
    """Signed segment URLs get a new token on every playlist load: not a new version."""
    text = (hls_media.root / "ts" / "64k.m3u8").read_text()
    loads = [0]

    def tokened(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        loads[0] += 1
        lines = [
            f"{line}?token={loads[0]}" if line.endswith(".ts") else line
            for line in text.splitlines()
        ]
        return 200, {}, ("\n".join(lines) + "\n").encode()

    hls_server.add_route("ts/signed.m3u8", tokened)
    out = tmp_path / "out.ts"
    url = hls_server.url("ts/signed.m3u8")
    _interrupt_after_three(hls_server, url, out)
    rerun = run_cli("fetch", url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming" in rerun.stderr and "starting over" not in rerun.stderr
    assert out.read_bytes() == expected_bytes(hls_media.ts, 0)
    assert loads[0] == 2


@pytest.mark.parametrize("ranges", [True, False], ids=["resumable", "not-resumable"])
def test_deadline_option(srv: MediaServer, root: Path, tmp_path: Path, ranges: bool) -> None:
    """``--deadline``: a request cut off by it resumes forward where the server has Range
    (the file arrives whole); where it has not, the retries run out: one clean line."""
    srv.set_faults("v1.bin", Faults(rate_per_conn=1_000_000, ignore_range=not ranges))  # 2 s
    out = tmp_path / "out.bin"
    proc = fetch(srv, "v1.bin", out, "-c", "1", "--deadline", "0.6", "--retries", "2")
    if ranges:
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == (root / "v1.bin").read_bytes()
        assert len(srv.stats.requests("v1.bin")) >= 3
    else:
        assert_clean_failure(proc, out, code=3)


def test_a_206_without_a_total_is_read_to_its_end(srv: MediaServer, tmp_path: Path) -> None:
    """``Content-Range: bytes 0-N/*``: the length is learnt where the open-ended range ends."""
    data = random.Random(5).randbytes(300_000)

    def star(path: str, query: dict[str, str], now: float) -> tuple[int, dict[str, str], bytes]:
        return 206, {"Content-Range": f"bytes 0-{len(data) - 1}/*"}, data

    srv.add_route("star.bin", star)
    out = tmp_path / "out.bin"
    proc = fetch(srv, "star.bin", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == data
