"""The tools kithara's users would pick instead: found with ``shutil.which``, never installed.

Each peer is looked up on ``PATH`` and next to this interpreter (a venv's ``bin``, where
``pip install yt-dlp streamlink`` puts them). A missing peer is reported as missing; the
scenarios that need it list it and carry on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEER_NAMES = ("curl", "ffmpeg", "yt-dlp", "streamlink", "mpv")

INSTALL_HINTS = {
    "curl": "apt-get install -y curl",
    "ffmpeg": "apt-get install -y --no-install-recommends ffmpeg",
    "yt-dlp": "pip install yt-dlp",
    "streamlink": "pip install streamlink",
    "mpv": "apt-get install -y --no-install-recommends mpv",
}


@dataclass(frozen=True)
class Peer:
    name: str
    path: str | None
    version: str | None = None
    help_text: str = ""

    @property
    def available(self) -> bool:
        return self.path is not None


def _search_path() -> str:
    here = str(Path(sys.executable).parent)
    return os.pathsep.join(p for p in (os.environ.get("PATH", ""), here) if p)


def _version(name: str, path: str) -> str | None:
    flag = "-version" if name == "ffmpeg" else "--version"
    try:
        out = subprocess.run(
            [path, flag], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (out.stdout or out.stderr).strip().splitlines()
    if not lines:
        return None
    first = lines[0].strip()
    if name == "ffmpeg" and first.startswith("ffmpeg version "):
        return first.split()[2]
    if name == "curl" and first.startswith("curl "):
        return first.split()[1]
    if name == "streamlink" and first.startswith("streamlink "):
        return first.split()[1]
    return first


def _help(path: str) -> str:
    try:
        out = subprocess.run(
            [path, "--help"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout


def find_peer(name: str) -> Peer:
    """Locate one peer and read its version (one short subprocess)."""
    path = shutil.which(name, path=_search_path())
    if path is None:
        return Peer(name, None)
    help_text = _help(path) if name == "streamlink" else ""
    return Peer(name, path, _version(name, path), help_text)


class Peers:
    """Peers found lazily, once each, for one bench run."""

    def __init__(self, only: tuple[str, ...] | None = None) -> None:
        self._found: dict[str, Peer] = {}
        self._only = only

    def get(self, name: str) -> Peer:
        if name not in self._found:
            if self._only is not None and name not in self._only:
                self._found[name] = Peer(name, None)
            else:
                self._found[name] = find_peer(name)
        return self._found[name]

    def used(self) -> dict[str, Peer]:
        return dict(self._found)


# --- how each peer does each job ---------------------------------------------------------------


def curl_fetch(peer: Peer, url: str, out: Path) -> list[str]:
    """One connection, like a user would type it."""
    assert peer.path
    return [peer.path, "-s", "-S", "-f", "--noproxy", "*", "-o", str(out), url]


def hls_fetch(peer: Peer, url: str, out: Path, variant_index: int) -> list[str]:
    """The peer's HLS download of the master's best variant to ``out``, 4 segments in flight
    where the tool has such a knob (ffmpeg has none: it reads segments one after another)."""
    assert peer.path
    if peer.name == "ffmpeg":
        # With a master URL ffmpeg probes every variant; map the one kithara fetches (best).
        return [
            peer.path,
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            url,
            "-map",
            f"0:p:{variant_index}",
            "-c",
            "copy",
            "-f",
            "mpegts",
            str(out),
        ]
    if peer.name == "yt-dlp":
        return [
            peer.path,
            "--ignore-config",
            "--no-cache-dir",
            "-q",
            "--no-warnings",
            "--no-progress",
            "-N",
            "4",
            "--fixup",
            "never",
            "--no-part",
            "--force-overwrites",
            "-o",
            str(out),
            url,
        ]
    if peer.name == "streamlink":
        threads = (
            "--stream-segment-threads"
            if "--stream-segment-threads" in peer.help_text or not peer.help_text
            else "--hls-segment-threads"
        )
        return [
            peer.path,
            "--no-config",
            "-Q",
            threads,
            "4",
            "-f",
            "-o",
            str(out),
            url,
            "best",
        ]
    raise ValueError(f"{peer.name} does not fetch HLS here")


def ffmpeg_pcm(peer: Peer, url: str) -> list[str]:
    """Decode to raw PCM on stdout: its first byte is ffmpeg's time to first audio."""
    assert peer.path
    return [peer.path, "-nostdin", "-loglevel", "error", "-i", url, "-f", "s16le", "-"]
