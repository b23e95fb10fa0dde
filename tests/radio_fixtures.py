"""Radio test fixtures: one CBR MP3 tone, encoded once per session, for the loopback mounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kithara_cli.media.encode import encode_file

BITRATE = 128_000


@pytest.fixture(scope="session")
def radio_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("radio")
    encode_file(root / "tone.mp3", 12.0, "mp3", bitrate=BITRATE)
    encode_file(root / "short.mp3", 2.0, "mp3", bitrate=BITRATE)
    return root


@pytest.fixture(scope="session")
def radio_mp3(radio_root: Path) -> bytes:
    return (radio_root / "tone.mp3").read_bytes()


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
