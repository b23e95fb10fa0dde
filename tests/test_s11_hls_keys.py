"""Keys as real packagers and key servers hand them out: a key format we cannot use, a key
server that refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

import hls_fixtures
from hls_fixtures import (
    HlsMedia,
    assert_nothing_written,
    assert_one_line_error,
    fetch,
    play,
    playlist_text,
    static,
)
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media
hls_server = hls_fixtures.hls_server


def _aes_entries(hls_media: HlsMedia) -> list[tuple[float, str]]:
    ladder = hls_media.aes
    return list(zip(ladder.segment_durations[0], [p.name for p in ladder.segments[0]], strict=True))


@pytest.mark.parametrize("command", ["fetch", "play"])
def test_a_key_format_other_than_identity_is_refused_before_any_key_is_asked(
    hls_media: HlsMedia, hls_server: MediaServer, tmp_path: Path, command: str
) -> None:
    """AES-128 under KEYFORMAT="com.apple.streamingkeydelivery" (a DRM system's key, not the
    16 bytes themselves): a clean unsupported error, exit 5, and the key URI never asked."""
    key = '#EXT-X-KEY:METHOD=AES-128,URI="key.bin",KEYFORMAT="com.apple.streamingkeydelivery"'
    text = playlist_text(["#EXT-X-TARGETDURATION:2", key], _aes_entries(hls_media))
    hls_server.add_route("aes/drm.m3u8", static(text))
    url = hls_server.url("aes/drm.m3u8")
    out = tmp_path / "out.ts"
    if command == "fetch":
        proc = fetch(url, "-o", str(out), "-q")
        line = assert_one_line_error(proc, "key format")
        assert_nothing_written(out)
    else:
        proc = play(url, "--output", "null")
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("kithara: error:")]
        assert len(errors) == 1, proc.stderr
        line = errors[0]
        assert "key format" in line, line
    assert proc.returncode == 5, proc.stderr
    assert not hls_server.stats.requests("aes/key.bin"), "a DRM key URI is never fetched"


def test_a_key_server_that_refuses_is_exit_4_like_any_refusal(
    hls_server: MediaServer, tmp_path: Path
) -> None:
    """The key URI answers 403 (an expired token): an HTTP status, exit 4 as the table says,
    not 5 (bad content)."""
    hls_server.set_faults("aes/key.bin", Faults(fail_first=10**6, fail_status=403))
    out = tmp_path / "out.ts"
    proc = fetch(hls_server.url("aes/master.m3u8"), "-o", str(out), "-q", "--retries", "1")
    assert_one_line_error(proc, "403")
    assert proc.returncode == 4, proc.stderr
    assert_nothing_written(out)
