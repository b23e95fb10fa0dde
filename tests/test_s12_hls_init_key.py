"""fMP4 + AES-128 whose init section is encrypted too: an EXT-X-MAP that follows an
EXT-X-KEY METHOD=AES-128 is encrypted with that key, under the IV the KEY tag must give
(RFC 8216 4.3.2.5), as Apple's and Shaka's packagers write it. The stream is the 128k fMP4
ladder variant, every file AES-128-CBC encrypted at test time."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import hls_fixtures
from hls_fixtures import (
    AES_KEY,
    HlsMedia,
    assert_nothing_written,
    assert_one_line_error,
    assert_tone,
    expected_bytes,
    fetch,
    play,
    popen_fetch,
    wait_for,
)
from kithara_cli.file.state import load_state, part_paths
from kithara_cli.server import Faults, MediaServer

hls_media = hls_fixtures.hls_media

VARIANT = 1
IV = bytes.fromhex("8f1e6a0c3d5b7a9e2c4f6b8d0a1c3e5f")


def _encrypt(data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    plain = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(AES_KEY), modes.CBC(IV)).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


@pytest.fixture(scope="module")
def encrypted(
    hls_media: HlsMedia, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MediaServer]:
    """``init.enc`` and ``seg_N.enc`` (encrypted), ``init.mp4`` (clear), ``key.bin``, and
    three playlists: KEY then MAP (``enc-init.m3u8``: the init is encrypted), MAP then KEY
    (``clear-init.m3u8``: it is not), and KEY without IV then MAP (``no-iv.m3u8``)."""
    root = tmp_path_factory.mktemp("s12-init-key")
    ladder = hls_media.fmp4
    init = ladder.init_segments[VARIANT]
    assert init is not None
    (root / "key.bin").write_bytes(AES_KEY)
    (root / "init.enc").write_bytes(_encrypt(init.read_bytes()))
    (root / "init.mp4").write_bytes(init.read_bytes())
    entries = []
    for i, (path, duration) in enumerate(
        zip(ladder.segments[VARIANT], ladder.segment_durations[VARIANT], strict=True)
    ):
        (root / f"seg_{i}.enc").write_bytes(_encrypt(path.read_bytes()))
        entries.append((duration, f"seg_{i}.enc"))
    key = f'#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x{IV.hex()}'
    no_iv = '#EXT-X-KEY:METHOD=AES-128,URI="key.bin"'
    head = ["#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2"]
    playlists = {
        "enc-init.m3u8": [*head, key, '#EXT-X-MAP:URI="init.enc"'],
        "clear-init.m3u8": [*head, '#EXT-X-MAP:URI="init.mp4"', key],
        "no-iv.m3u8": [*head, no_iv, '#EXT-X-MAP:URI="init.enc"'],
    }
    for name, header in playlists.items():
        (root / name).write_text(hls_fixtures.playlist_text(header, entries))
    with MediaServer(root) as srv:
        yield srv


def test_fetch_decrypts_an_encrypted_init_section(
    hls_media: HlsMedia, encrypted: MediaServer, tmp_path: Path
) -> None:
    """KEY then MAP: the init is decrypted like a segment, and the file is byte for byte the
    clear stream's. Before: the encrypted init was written as it came, in front of clear
    segments: a file no player can open (exit 0)."""
    out = tmp_path / "out.m4a"
    proc = fetch(encrypted.url("enc-init.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.fmp4, VARIANT)
    assert_tone(out, sum(hls_media.fmp4.segment_durations[VARIANT]))
    assert len(encrypted.stats.requests("key.bin")) == 1


def test_an_interrupted_fetch_resumes_without_a_second_init(
    hls_media: HlsMedia, encrypted: MediaServer, tmp_path: Path
) -> None:
    """Stopped after three segments and run again: the resume knows the init it wrote is
    the playlist's (encrypted) one and does not write it again; the file is the clear
    stream's, byte for byte."""
    out = tmp_path / "out.m4a"
    part, state_path = part_paths(out)
    url = encrypted.url("enc-init.m3u8")
    encrypted.set_faults("*.enc", Faults(latency=0.15))

    def written() -> int:
        state = load_state(state_path)
        return int(state.extra.get("written", 0)) if state else 0  # type: ignore[arg-type]

    proc = popen_fetch(url, "-o", str(out), "-q", "--segments", "1")
    try:
        wait_for(lambda: written() >= 3, what="three segments written")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        encrypted.clear_faults()
    assert proc.returncode != 0 and part.exists()
    rerun = fetch(url, "-o", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming" in rerun.stderr
    assert out.read_bytes() == expected_bytes(hls_media.fmp4, VARIANT)


def test_play_decrypts_an_encrypted_init_section(
    hls_media: HlsMedia, encrypted: MediaServer, tmp_path: Path
) -> None:
    """Play, the same stream: all 20 s of the tone is heard."""
    wav = tmp_path / "out.wav"
    proc = play(encrypted.url("enc-init.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, sum(hls_media.fmp4.segment_durations[VARIANT]))


def test_an_init_section_before_the_key_stays_clear(
    hls_media: HlsMedia, encrypted: MediaServer, tmp_path: Path
) -> None:
    """MAP then KEY: only the segments are encrypted; the init is taken as it is (decrypting
    it would fail), for fetch and play alike."""
    out = tmp_path / "out.m4a"
    proc = fetch(encrypted.url("clear-init.m3u8"), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == expected_bytes(hls_media.fmp4, VARIANT)
    wav = tmp_path / "out.wav"
    proc = play(encrypted.url("clear-init.m3u8"), "--output", f"wav:{wav}")
    assert proc.returncode == 0, proc.stderr
    assert_tone(wav, sum(hls_media.fmp4.segment_durations[VARIANT]))


@pytest.mark.parametrize("command", ["fetch", "play"])
def test_an_encrypted_init_section_without_an_iv_is_refused(
    encrypted: MediaServer, tmp_path: Path, command: str
) -> None:
    """KEY with no IV, then MAP: the init's IV cannot be known (it has no media sequence
    number), and RFC 8216 requires the attribute. One line, exit 5 (a malformed stream),
    nothing written, no segment fetched. Before: the encrypted init was taken as clear."""
    url = encrypted.url("no-iv.m3u8")
    before = len(encrypted.stats.requests())
    if command == "fetch":
        out = tmp_path / "out.m4a"
        proc = fetch(url, "-o", str(out), "-q")
        assert_one_line_error(proc, "IV", "EXT-X-MAP")
        assert_nothing_written(out)
    else:
        proc = play(url, "--output", "null")
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("kithara: error:")]
        assert len(errors) == 1 and "IV" in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
    assert proc.returncode == 5, proc.stderr
    asked = [r.path for r in encrypted.stats.requests()[before:]]
    assert not [p for p in asked if p.endswith(".enc")], asked
